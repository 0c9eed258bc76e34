"""The playground in a real browser: Playwright driving Debian's Chromium against a live server."""

from __future__ import annotations

import math
import os
import re
import time

import pytest

from mlpfit.play.server import Background

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
# Small enough to train in about a second, large enough to fit sin(3x) to R² > 0.9.
SMALL = {"samples": "300", "hidden": "8,8", "epochs": "100", "batch-size": "16"}


def query(**settings) -> str:
    """The page's URL query: SMALL with ``settings`` on top (names with _ for -)."""
    merged = {**SMALL, **{name.replace("_", "-"): value for name, value in settings.items()}}
    return "&".join(f"{name}={value}" for name, value in merged.items())

if not os.path.exists(CHROMIUM):  # scripts/setup installs it with root; a browser download is impossible here
    pytest.skip(f"{CHROMIUM} is not installed (scripts/setup installs it when run as root)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    background = Background(str(tmp_path_factory.mktemp("runs")))
    yield background
    background.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    yield tab
    context.close()
    assert not errors, errors  # no script error on any page


def wait_status(page, pattern: str, seconds: float = 90):
    from playwright.sync_api import expect

    expect(page.get_by_test_id("status")).to_have_text(re.compile(pattern), timeout=seconds * 1000)


def open_page(page, url: str) -> None:
    """Go to ``url`` and wait until the page has its options and controls (status reads "ready")."""
    page.goto(url)
    wait_status(page, "^ready$", 30)


def train(page, url: str, target: str) -> None:
    open_page(page, url)
    page.get_by_test_id("target").fill(target)
    page.get_by_test_id("start").click()
    wait_status(page, "^done$")


def test_type_a_formula_train_save_and_predict(server, page, cli, tmp_path):
    from playwright.sync_api import expect

    train(page, f"{server.url}/?{query()}", "sin(3*x)")
    expect(page.get_by_test_id("metrics")).to_have_text(re.compile(r"^R² 0\.\d{4}$"))  # drawn on the next frame
    metrics = page.get_by_test_id("metrics").inner_text()
    assert float(metrics.split()[1]) > 0.9, metrics
    expect(page.locator("[data-testid=units] canvas")).to_have_count(16)  # one per hidden unit
    expect(page.locator("[data-testid=fit] canvas")).to_have_count(1)
    expect(page.locator("[data-testid=loss] canvas")).to_have_count(1)
    assert "target=sin(3*x)" in page.url.replace("%2A", "*").replace("%28", "(").replace("%29", ")")
    page.screenshot(path=str(tmp_path / "done.png"), full_page=True)

    page.get_by_test_id("save").click()
    saved = page.get_by_test_id("saved")
    saved.wait_for(state="visible")
    run = saved.locator("code").first.inner_text()
    assert os.path.dirname(run) == os.path.realpath(server.pages.runs_dir) or run.startswith(server.pages.runs_dir)
    assert "mlpfit fit 'sin(3*x)'" in saved.inner_text()
    out = cli("predict", run, "0.5", "--json")
    assert out.code == 0, out.err
    assert abs(out.json()["predictions"][0][0] - math.sin(1.5)) < 0.3


def test_runs_lists_saved_runs_and_compares_two(server, page):
    train(page, f"{server.url}/?{query(seed=1)}", "sin(3*x)")
    page.get_by_test_id("save").click()
    page.get_by_test_id("saved").wait_for(state="visible")
    other = server.pages.start("page-second-run", {**SMALL, "target": "sin(3*x)", "seed": "2"})  # no browser needed
    assert other.join(120) and other.state == "done"
    other.save()
    page.goto(f"{server.url}/runs")
    rows = page.locator("[data-testid=runs] tbody tr")
    rows.first.wait_for()
    assert rows.count() >= 2
    assert "sin(3*x)" in rows.first.inner_text() and "R² 0." in rows.first.inner_text()
    report = rows.first.locator("a").first.get_attribute("href")
    assert page.request.get(f"{server.url}{report}").ok
    boxes = page.get_by_test_id("choose")
    boxes.nth(0).check()
    boxes.nth(1).check()
    compare = page.get_by_test_id("compare")
    compare.wait_for(state="visible")
    differs = compare.locator("tr.differs").all_inner_texts()
    assert any(text.startswith("train.seed") for text in differs), differs
    page.locator("th[data-key=value]").click()  # sortable: by score, lowest first
    scores = [float(t.split()[1]) for t in page.locator("[data-testid=runs] tbody td:nth-child(5)").all_inner_texts()]
    assert scores == sorted(scores) and len(scores) >= 2
    page.locator("th[data-key=value]").click()
    again = [float(t.split()[1]) for t in page.locator("[data-testid=runs] tbody td:nth-child(5)").all_inner_texts()]
    assert again == sorted(scores, reverse=True)


def test_a_refused_upload_leaves_nothing_to_start_or_save(server, page, tmp_path):
    from playwright.sync_api import expect

    train(page, f"{server.url}/?{query()}", "sin(3*x)")
    expect(page.get_by_test_id("save")).to_be_enabled()
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3\n")  # a ragged row: refused
    page.locator("#upload").set_input_files(str(tmp_path / "bad.csv"))
    wait_status(page, "^error: .*bad.csv", 30)
    expect(page.get_by_test_id("save")).to_be_disabled()
    page.get_by_test_id("start").click()
    wait_status(page, "^error: the target is empty", 30)  # not the earlier formula, trained again
    expect(page.get_by_test_id("save")).to_be_disabled()


def test_an_upload_with_holes_trains_and_columns_can_be_left_out(server, page, tmp_path):
    from playwright.sync_api import expect

    rows = "".join(f"{k};{k % 7 if k % 13 else ''},5;c{k % 45};{(k % 7) * 2 + k % 3},0\n" for k in range(200))
    (tmp_path / "shop.csv").write_text("order_no;x;city;y\n" + rows)
    open_page(page, f"{server.url}/?{query(epochs='20')}")
    page.locator("#upload").set_input_files(str(tmp_path / "shop.csv"))
    expect(page.get_by_test_id("drop-columns")).to_be_visible()
    page.locator("[data-testid=drop-city]").check()
    expect(page).to_have_url(re.compile(r"drop=city"))
    page.get_by_test_id("start").click()
    wait_status(page, "^done$")
    page.get_by_test_id("save").click()
    saved = page.get_by_test_id("saved")
    saved.wait_for(state="visible")
    assert "--drop city" in saved.inner_text()


def test_a_bad_formula_shows_an_error_and_the_page_still_works(server, page):
    open_page(page, f"{server.url}/?{query()}")
    page.get_by_test_id("target").fill("sin(3*x")
    page.get_by_test_id("start").click()
    wait_status(page, "^error: ", 30)
    assert "parenthes" in page.get_by_test_id("status").inner_text()
    page.get_by_test_id("target").fill("x**2")
    page.get_by_test_id("start").click()
    wait_status(page, "^done$")


def test_the_url_holds_the_whole_setting(server, page):
    from playwright.sync_api import expect

    # The units are drawn after the page fetched /api/options: wait on each fact, never read it once.
    open_page(page, f"{server.url}/?target=x*y&hidden=4,4,4&activation=relu&epochs=7")
    expect(page.get_by_test_id("target")).to_have_value("x*y")
    expect(page.locator("[data-testid=units] canvas")).to_have_count(12)
    expect(page.locator("#activation")).to_have_value("relu")
    page.locator("#add-layer").click()
    page.wait_for_function("location.search.includes('hidden=4,4,4,4')")
    page.reload()
    wait_status(page, "^ready$", 30)
    expect(page.locator("[data-testid=units] canvas")).to_have_count(16)
    expect(page.locator("#epochs-input")).to_have_value("7")


def test_step_pauses_after_one_epoch_then_start_goes_on(server, page):
    from playwright.sync_api import expect

    open_page(page, f"{server.url}/?{query(target='x*y', epochs=20)}")
    page.get_by_test_id("step").click()
    wait_status(page, "^paused$")
    expect(page.locator("#epoch")).to_have_text("1")  # drawn on the next animation frame, after the status
    page.get_by_test_id("start").click()
    wait_status(page, "^done$")
    expect(page.locator("#epoch")).to_have_text("20")
    expect(page.locator("[data-testid=fit] canvas")).to_have_count(1)  # two inputs: the maps


def test_closing_the_page_stops_its_training(server, browser):
    context = browser.new_context()
    tab = context.new_page()
    open_page(tab, f"{server.url}/?target=x*y&samples=20000&batch-size=8&epochs=300")  # minutes of work
    before = dict(server.pages.sessions)
    tab.get_by_test_id("start").click()
    wait_status(tab, "^running$", 30)
    (page_id, session), = [(p, s) for p, s in server.pages.sessions.items() if p not in before]
    context.close()
    deadline = time.monotonic() + 60
    while (page_id in server.pages.sessions or not session.join(0)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert page_id not in server.pages.sessions and session.state == "stopped"


PLANTED_SCRIPT = """<html><head><title>planted</title></head><body><p>a copied run</p><script>
document.title = "ran";
fetch("/").then(r => r.text()).then(html => {
  const token = (html.match(/name="mlpfit-token" content="([^"]+)"/) || [])[1] || "";
  return fetch("/api/upload?name=pwn.csv", {method: "POST", headers: {"Content-Type": "text/csv", "X-Mlpfit-Token": token},
                                           body: "a,b\\n1,2\\n2,4\\n3,6\\n"});
}).then(() => { document.title = "uploaded"; });
</script></body></html>"""


def test_a_planted_report_runs_no_script_and_cannot_upload(server, page, tmp_path):
    """Issue 29 (1): a report.html planted in a folder under --runs, opened from /runs, acts on nothing."""
    runs = server.app.state.pages.runs_dir
    planted = os.path.join(runs, "planted")
    os.makedirs(planted)
    with open(os.path.join(planted, "manifest.json"), "w") as handle:
        handle.write("{}")
    with open(os.path.join(planted, "report.html"), "w") as handle:
        handle.write(PLANTED_SCRIPT)
    uploads = os.path.join(runs, "uploads")
    before = sorted(os.listdir(uploads)) if os.path.isdir(uploads) else []
    page.goto(f"{server.url}/runs/planted/report.html")
    page.wait_for_timeout(1500)  # what a script would need to fetch twice from a local server
    assert page.title() == "planted" and "a copied run" in page.content()
    assert (sorted(os.listdir(uploads)) if os.path.isdir(uploads) else []) == before


def test_a_real_report_still_shows_its_styles_and_plots_under_the_policy(server, page):
    from conftest import formula_config
    from mlpfit.fitting.fit import fit

    fit(formula_config("x*y", os.path.join(server.app.state.pages.runs_dir, "real"), epochs=3))
    page.goto(f"{server.url}/runs/real/report.html")
    widths = page.evaluate("Array.from(document.images).map(image => image.naturalWidth)")
    assert widths and all(width > 0 for width in widths)
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "1100px"  # its own <style> applies
