"""The text report's `next:` line is a command that runs as printed, whatever the number of inputs."""

from __future__ import annotations

import shlex

import numpy as np


def next_argv(out: str) -> list[str]:
    hint = next(line for line in out.splitlines() if line.startswith("next: mlpfit "))
    return shlex.split(hint[len("next: mlpfit "):])


def test_a_formula_with_six_inputs_gets_six_values_from_the_middle_of_its_domain(cli, tmp_path):
    run = str(tmp_path / "six")
    fitted = cli("fit", "x1 + x2 + x3 + x4 + x5 + x6", "--domain", "2:4", "--samples", "200", "--epochs", "3",
                 "--out", run, "--no-plots")
    argv = next_argv(fitted.out)
    assert argv == ["predict", run, "3", "3", "3", "3", "3", "3"]
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


def test_the_epochs_line_says_a_fit_trained_on():
    from mlpfit.report.text import how_it_ended

    assert "trained on 3 more cycle(s)" in how_it_ended({"extra_cycles": 3})
    assert how_it_ended({"extra_cycles": 0}) == "" and how_it_ended({}) == ""
