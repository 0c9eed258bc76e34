"""report.html: self-contained, escaped, and it really loads with every image decoded in a browser.

The browser test needs Chromium (Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from mlpfit.report import html as report

# Appended to a copy of the page: once loaded, write "decoded/total" images into the DOM.
COUNT_IMAGES = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var decoded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var p = document.createElement("p");
  p.id = "decoded";
  p.textContent = decoded + "/" + images.length;
  document.body.appendChild(p);
});
</script>"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    assert found, "report tests need a headless Chromium: apt-get install -y chromium"
    return found


def _decoded_in_browser(page: str, tmp_path) -> tuple[int, int]:
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", COUNT_IMAGES + "</body>"), encoding="utf-8")
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
               "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    match = re.search(r'id="decoded">(\d+)/(\d+)<', dom)
    assert match, f"the page did not finish loading in Chromium; DOM starts: {dom[:300]!r}"
    return int(match.group(1)), int(match.group(2))


def _page(run) -> str:
    return open(os.path.join(run.run_dir, report.REPORT_FILE), encoding="utf-8").read()


def test_fit_writes_a_self_contained_page(curve_run):
    page = _page(curve_run)
    assert page.count("<img ") == 4  # fit.png, units.png, sensitivity.png and loss.png
    assert page.count('src="data:image/png;base64,') == 4
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page must not reach the network"
    assert "<link" not in page
    for text in ("sin(x)", "x ** 2", "Scores", "Diagnostics", "Configuration", "train.epochs"):
        assert text in page, text


def test_report_page_loads_in_chromium_with_every_image_decoded(curve_run, tmp_path):
    page = _page(curve_run)
    decoded, total = _decoded_in_browser(page, tmp_path)
    assert total == page.count("<img ") == 4
    assert decoded == total


def test_classification_page_shows_accuracy_and_four_images_in_chromium(digits_run, tmp_path):
    page = _page(digits_run)  # confusion, test images, class gradient pictures, loss
    assert "accuracy" in page and page.count("<img ") == 4
    assert "Per class (test)" in page and page.count("<tr><td>") >= 3 + 10  # splits + one row per digit
    assert _decoded_in_browser(page, tmp_path) == (4, 4)


def test_linear_run_page_states_the_learned_equation(linear_run):
    page = _page(linear_run)
    assert "Learned equation" in page
    assert re.search(r"y = -?[0-9.]+·x1 [+-] [0-9.]+·x2 [+-] [0-9.]+", page)  # 60 epochs: roughly x1 + x2


def test_text_from_the_run_is_escaped():
    summary = {"target": "<b>x</b>", "task": "regress", "outputs": ["y"], "inputs": ["x"],
               "metrics": {"test": {"mse": [0.5], "r2": [0.25]}},
               "diagnostics": [{"code": "c", "message": "<script>alert(1)</script>", "hint": "h & k"}],
               "notes": ["a < b"]}
    page = report.render(summary, {"run": {"out": "<x>"}}, [])
    assert "<script>" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;" in page and "a &lt; b" in page and "h &amp; k" in page
    assert "0.25" in page


def test_write_report_redraws_from_the_folder_alone(surface_run):
    for name in ("fit.png", "loss.png", report.REPORT_FILE):
        os.remove(os.path.join(surface_run.run_dir, name))
    path = report.write_report(surface_run.run_dir)
    assert path == os.path.join(surface_run.run_dir, report.REPORT_FILE)
    assert {"fit.png", "loss.png", "report.html"} <= set(os.listdir(surface_run.run_dir))


def _mlpfit(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in ("src", os.environ.get("PYTHONPATH")) if p)}
    return subprocess.run([sys.executable, "-m", "mlpfit", *args], capture_output=True, text=True, env=env,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), timeout=120)


def test_cli_report_prints_the_page_path(wide_run):
    os.remove(os.path.join(wide_run.run_dir, "fit.png"))
    done = _mlpfit("report", wide_run.run_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == os.path.join(wide_run.run_dir, "report.html")
    assert os.path.isfile(os.path.join(wide_run.run_dir, "fit.png"))


def test_cli_report_on_a_missing_folder_is_one_line_and_exit_2(tmp_path):
    done = _mlpfit("report", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_cli_fit_writes_plots_and_report_unless_no_plots(capsys, tmp_path):
    from mlpfit.cli import main as cli

    base = ["fit", "x**2", "--samples", "60", "--epochs", "5", "--hidden", "4", "--quiet"]
    drawn = {"fit.png", "loss.png", "units.png", "sensitivity.png", "report.html"}
    for out, extra, expected in (("with", [], drawn), ("without", ["--no-plots"], set())):
        try:
            cli.main([*base, "--out", str(tmp_path / out), *extra])
        except SystemExit as done:
            assert done.code == 0
        made = {n for n in os.listdir(tmp_path / out) if n.endswith((".png", ".html"))}
        assert made == expected


def test_a_run_without_a_target_is_named_after_its_data():
    summary = {"target": "", "name": "digits", "task": "classify", "metrics": {}}
    assert "<h1>digits</h1>" in report.render(summary, {}, [])
