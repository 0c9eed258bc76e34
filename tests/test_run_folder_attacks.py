"""Issue 29: edited run folders and hostile tables that used to exit 1, take gigabytes, or write escape
sequences to the terminal. Each is now refused with exit 2 and one line (or simply works).

Every run folder here is a copy in pytest's temporary folder, edited and re-signed (manifest
recomputed), as someone who downloaded and changed a run could do.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import mlpfit
from mlpfit.cli import main as cli
from mlpfit.errors import RunFolderError
from mlpfit.runfolder import store
from cli_lines import one_line, run_cli

ESC = "\x1b"


def resign(run: Path) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    for key in ("sha256", "derived"):
        for name in manifest.get(key) or {}:
            if (run / name).is_file():
                manifest[key][name] = hashlib.sha256((run / name).read_bytes()).hexdigest()
    manifest["self"] = store.manifest_digest(manifest)
    (run / "manifest.json").write_text(json.dumps(manifest))


def edited(run: Path, tmp_path: Path, name: str, change) -> Path:
    """A re-signed copy of ``run`` whose JSON file ``name`` went through ``change`` (in place, or returned)."""
    copy = tmp_path / f"edited-{run.name}"
    shutil.copytree(run, copy)
    content = json.loads((copy / name).read_text())
    changed = change(content)
    (copy / name).write_text(changed if isinstance(changed, str) else json.dumps(content if changed is None else changed))
    resign(copy)
    return copy


def write_csv(path: Path, header: list[str], rows) -> Path:
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


@pytest.fixture(scope="module")
def formula_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("attacks") / "formula"
    code = _fit(["x*y", "--samples", "200", "--epochs", "3", "--hidden", "8", "--out", out, "-q"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> Path:
    """A table with a hole in a number column: encoding.json fills it."""
    root = tmp_path_factory.mktemp("attacks-table")
    rng = np.random.default_rng(0)
    rows = [[("" if k == 5 else round(a, 3)), round(b, 3), round(a + b, 3)] for k, (a, b) in enumerate(rng.random((120, 2)))]
    code = _fit([write_csv(root / "t.csv", ["a", "b", "y"], rows), "--epochs", "3", "--hidden", "8",
                 "--out", root / "run", "-q", "--no-plots"])
    assert code == 0
    return root / "run"


def _fit(args) -> int:
    try:
        cli.main(["fit", *map(str, args)])
    except SystemExit as done:
        return done.code
    return 0


# ---------------------------------------------------------------- 5. resource limits


def test_a_huge_image_shape_is_refused_before_drawing(tmp_path, capsys, digits_run):
    for shape in ([3000, 3000], [20000, 20000], [8, 9]):
        run = edited(Path(digits_run.run_dir), tmp_path / str(shape[0]), "summary.json",
                     lambda s, shape=shape: s.update(image_shape=shape))
        code, out, err = run_cli(capsys, "report", run)
        assert code == 2 and "image_shape" in one_line(err), (shape, err)


def test_a_classifier_with_more_classes_than_fit_allows_is_refused(tmp_path, capsys, digits_run):
    def many(summary):
        summary["classes"] = list(range(2000))
        summary["architecture"]["sizes"][-1] = 2000

    run = edited(Path(digits_run.run_dir), tmp_path, "summary.json", many)
    code, _, err = run_cli(capsys, "explain", run)
    assert code == 2 and "2000 classes, more than the 1000" in one_line(err)


def test_a_table_too_wide_to_read_is_one_line(tmp_path, capsys):
    table = write_csv(tmp_path / "wide.csv", [f"c{i}" for i in range(50_000)], [range(50_000)] * 3)
    code, _, err = run_cli(capsys, "fit", table, "--out", tmp_path / "run", "-q")
    assert code == 2 and "50000 columns, more than the" in one_line(err)
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- 6. wrong exits


def test_deeply_nested_json_is_one_line_in_every_command_and_in_load(tmp_path, capsys, formula_run):
    deep = "[" * 100_000 + "]" * 100_000
    summary = edited(formula_run, tmp_path / "s", "summary.json", lambda s: '{"a": ' + deep + "}")
    manifest = tmp_path / "m"
    shutil.copytree(formula_run, manifest)
    (manifest / "manifest.json").write_text('{"format": ' + deep + "}")
    for run in (summary, manifest):
        for command in (["predict", run, "0.1", "0.2"], ["explain", run], ["report", run],
                        ["export", run, "--format", "python", "--out", tmp_path / "m.py"]):
            code, _, err = run_cli(capsys, *command)
            assert code == 2 and "nests" in one_line(err), (command, err)
        with pytest.raises(RunFolderError, match="nests"):
            mlpfit.load(str(run))


def test_an_infinite_domain_is_refused_not_a_name_error(tmp_path, capsys, formula_run):
    run = edited(formula_run, tmp_path, "summary.json",
                 lambda s: s.update(domain={"x": [-1e999, 1e999], "y": [-1, 1]}))  # json writes ±Infinity
    assert "Infinity" in (run / "summary.json").read_text()
    code, _, err = run_cli(capsys, "export", run, "--format", "python", "--out", tmp_path / "model.py")
    assert code == 2 and "domain" in one_line(err) and not (tmp_path / "model.py").exists()


@pytest.mark.parametrize("fill", ["abc", [1, 2], {"a": 1}, True])
def test_an_encoding_fill_of_the_wrong_type_is_refused(tmp_path, capsys, table_run, fill):
    def change(encoding):
        encoding["columns"][0]["fill"] = fill

    run = edited(table_run, tmp_path, "encoding.json", change)
    table = write_csv(tmp_path / "new.csv", ["a", "b"], [["", 0.5], [0.2, 0.3]])
    code, _, err = run_cli(capsys, "predict", run, "--input", table)
    assert code == 2 and "fill" in one_line(err), err


def test_a_long_class_label_fits_and_draws_its_report(tmp_path, capsys):
    rng = np.random.default_rng(1)
    long_label = "L" * 450
    rows = [[round(a, 3), round(b, 3), long_label if a > b else "short"] for a, b in rng.random((200, 2))]
    table = write_csv(tmp_path / "labels.csv", ["a", "b", "y"], rows)
    code, _, err = run_cli(capsys, "fit", table, "--epochs", "3", "--hidden", "8", "--out", tmp_path / "run", "-q")
    assert code == 0, err
    assert (tmp_path / "run" / "report.html").is_file() and (tmp_path / "run" / "confusion.png").is_file()
    assert run_cli(capsys, "report", tmp_path / "run")[0] == 0


@pytest.mark.parametrize("fmt", ["onnx", "python"])
def test_an_unknown_activation_name_is_refused_on_export(tmp_path, capsys, formula_run, fmt):
    run = edited(formula_run, tmp_path, "summary.json", lambda s: s["architecture"].update(activation="__class__"))
    code, _, err = run_cli(capsys, "export", run, "--format", fmt, "--out", tmp_path / f"model.{'py' if fmt == 'python' else fmt}")
    assert code == 2 and "activation" in one_line(err), err


# ---------------------------------------------------------------- 7. the terminal


def test_escape_sequences_in_a_csv_header_never_reach_the_terminal(tmp_path, capsys):
    rng = np.random.default_rng(2)
    header = [f"{ESC}]0;pwned\x07a", f"{ESC}[31mb", "y"]
    table = write_csv(tmp_path / "esc.csv", header, [[round(a, 3), round(b, 3), round(a + b, 3)] for a, b in rng.random((60, 2))])
    code, out, err = run_cli(capsys, "fit", table, "--epochs", "2", "--out", tmp_path / "run")
    assert code == 2 and "control character" in one_line(err)
    assert ESC not in out + err and "\x07" not in out + err


def test_escape_sequences_in_an_edited_run_never_reach_the_terminal(tmp_path, capsys, formula_run):
    run = edited(formula_run, tmp_path, "summary.json", lambda s: s.update(inputs=[f"{ESC}[2Jx", "y"]))
    for command in (["explain", run], ["export", run, "--format", "python", "--out", tmp_path / "m.py"],
                    ["predict", run, "1", "2"]):
        code, out, err = run_cli(capsys, *command)
        assert code == 2 and ESC not in out + err, (command, out, err)


def test_escape_sequences_in_class_labels_never_reach_the_terminal(tmp_path, capfd):
    """capfd: the report is drawn in a child process whose warnings go straight to the file descriptors."""
    rng = np.random.default_rng(3)
    rows = [[round(a, 3), round(b, 3), f"{ESC}[31mred" if a > b else "blue"] for a, b in rng.random((200, 2))]
    table = write_csv(tmp_path / "labels.csv", ["a", "b", "y"], rows)
    run = tmp_path / "run"
    for command in (["fit", table, "--epochs", "3", "--hidden", "8", "--out", run], ["explain", run],
                    ["predict", run, "0.9", "0.1"], ["predict", run, "0.9", "0.1", "--json"]):
        code, out, err = run_cli(capfd, *command)
        assert code == 0 and ESC not in out + err, (command, out, err)


def test_error_lines_escape_control_characters(capsys):
    code, out, err = run_cli(capsys, "fit", f"sin(x){ESC}[31m", "-q")
    assert code == 2 and ESC not in out + err


# ---------------------------------------------------------------- 8. export does not shadow a module


@pytest.mark.parametrize("name", ["numpy", "json", "os"])
def test_an_export_named_like_a_module_it_would_shadow_is_refused(tmp_path, capsys, formula_run, name):
    (tmp_path / "shadow").mkdir()
    code, _, err = run_cli(capsys, "export", formula_run, "--format", "python", "--out", tmp_path / "shadow" / f"{name}.py")
    assert code == 2 and "in place of the module" in one_line(err)
    assert list((tmp_path / "shadow").iterdir()) == []
