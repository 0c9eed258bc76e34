"""The text report's `next:` line is a command that runs as printed, whatever the number of inputs, and
from a fresh shell that has not activated the virtualenv mlpfit was started from."""

from __future__ import annotations

import os
import pathlib
import shlex
import subprocess
import sys

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mlpfit.cli.program import invoked_as
from mlpfit.report.text import sample_value

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"


def next_argv(out: str) -> list[str]:
    hint = next(line for line in out.splitlines() if line.startswith("next: mlpfit "))
    return shlex.split(hint[len("next: mlpfit "):])


def test_a_formula_with_six_inputs_gets_six_values_inside_its_domain(cli, tmp_path):
    run = str(tmp_path / "six")
    fitted = cli("fit", "x1 + x2 + x3 + x4 + x5 + x6", "--domain", "2:4", "--samples", "200", "--epochs", "3",
                 "--out", run, "--no-plots")
    argv = next_argv(fitted.out)
    assert argv == ["predict", run, "3.2", "3.3", "3.4", "3.5", "3.6", "3.7"]
    ran = cli(*argv)
    assert ran.code == 0 and np.isfinite(float(ran.out)) and ran.err == ""  # inside the domain: no warning


def test_a_table_with_many_columns_predicts_from_its_own_file(cli, tmp_path):
    from sklearn.datasets import load_diabetes

    path = tmp_path / "diabetes table.csv"  # a space, so the hint must quote it
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    run = str(tmp_path / "d")
    fitted = cli("fit", str(path), "--epochs", "3", "--out", run, "--no-plots")
    argv = next_argv(fitted.out)
    assert argv == ["predict", run, "--input", str(path)]
    ran = cli(*argv)
    assert ran.code == 0 and ran.out.splitlines()[0] == "target" and len(ran.out.splitlines()) == 443


def test_an_image_set_points_to_explain(cli, tmp_path):
    run = str(tmp_path / "img")
    fitted = cli("fit", "digits", "--epochs", "1", "--hidden", "4", "--out", run, "--no-plots")
    argv = next_argv(fitted.out)
    assert argv == ["explain", run] and cli(*argv).code == 0


def test_the_demo_predicts_at_3_4_where_x2_plus_y2_is_25_not_at_the_uninformative_middle():
    assert [sample_value(-14.0, 14.0, k) for k in range(2)] == ["3", "4"]
    assert [sample_value(0.0, 1.0, k) for k in range(3)] == ["0.6", "0.7", "0.7"]  # short, whatever the float error
    assert sample_value(0.1, 2.1, 0) == "1.3" and sample_value(0.0, 1000.0, 0) == "600"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.floats(-1e6, 1e6), st.floats(0, 1e6), st.integers(0, 20))
@example(0.0, 5e-324, 0)  # a width whose tenth is 0.0: no log10
def test_a_sample_value_is_a_number_inside_the_domain(lo, width, k):
    hi = lo + width
    assert lo <= float(sample_value(lo, hi, k)) <= hi


def console_script(folder: pathlib.Path) -> pathlib.Path:
    """What pip writes into a virtualenv's bin/ for `mlpfit`, run by this test's Python with this tree's src."""
    folder.mkdir(parents=True)
    script = folder / "mlpfit"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(SRC)!r})\n"
                      "from mlpfit.cli.main import main\nsys.exit(main())\n")
    script.chmod(0o755)
    return script


def test_a_console_script_not_on_path_is_named_as_it_was_started(tmp_path, monkeypatch):
    console_script(tmp_path / ".venv" / "bin")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert invoked_as(".venv/bin/mlpfit") == ".venv/bin/mlpfit"
    assert invoked_as(str(tmp_path / "my venv" / "bin" / "mlpfit")) == shlex.quote(str(tmp_path / "my venv/bin/mlpfit"))


def test_the_program_on_path_is_named_mlpfit(tmp_path, monkeypatch):
    console_script(tmp_path / ".venv" / "bin")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / '.venv' / 'bin'}:/usr/bin:/bin")
    assert invoked_as(".venv/bin/mlpfit") == "mlpfit"
    assert invoked_as("mlpfit") == "mlpfit"
    python = tmp_path / ".venv" / "bin" / "python"  # python -m mlpfit from the venv whose mlpfit is on PATH
    assert invoked_as("/x/mlpfit/__main__.py", str(python)) == "mlpfit"


def test_python_dash_m_outside_path_names_its_python(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert invoked_as("/x/mlpfit/__main__.py", "/opt/py 3/bin/python") == "'/opt/py 3/bin/python' -m mlpfit"
    assert invoked_as("/usr/bin/pytest") == "mlpfit"  # a library call: the installed command's name
    assert invoked_as("/x/pytest/__main__.py") == "mlpfit"  # python -m pytest


def test_the_next_line_of_a_fit_started_from_a_venv_runs_as_printed_in_a_fresh_shell(tmp_path):
    console_script(tmp_path / ".venv" / "bin")
    fresh = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # nothing activated, mlpfit on no PATH
    fitted = subprocess.run([".venv/bin/mlpfit", "fit", "x**2 + y**2", "--domain", "-14:14", "--samples", "600",
                             "--epochs", "200", "--out", "runs/demo", "--no-plots"],
                            cwd=tmp_path, env=fresh, capture_output=True, text=True, timeout=300)
    assert fitted.returncode == 0, fitted.stderr
    line = fitted.stdout.strip().splitlines()[-1]
    assert line == "next: .venv/bin/mlpfit predict runs/demo 3 4"
    ran = subprocess.run(["bash", "-c", line[len("next: "):]], cwd=tmp_path, env=fresh,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert abs(float(ran.stdout) - 25) < 5  # 3² + 4², learned


def test_the_epochs_line_says_a_fit_trained_on():
    from mlpfit.report.text import how_it_ended

    assert "trained on 3 more cycle(s)" in how_it_ended({"extra_cycles": 3})
    assert how_it_ended({"extra_cycles": 0}) == "" and how_it_ended({}) == ""
