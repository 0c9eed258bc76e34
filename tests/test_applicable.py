"""Options that do not apply to the TARGET are refused (surely a mistake) or warned about, never ignored."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,y\n" + "".join(f"{k * 0.1:.1f},{k * 0.2:.1f}\n" for k in range(12)))
    return str(path)


@pytest.mark.parametrize("argv, words", [
    (["x + y", "--target", "y"], "--target names columns of a CSV table, but 'x + y' is a formula"),
    (["x + y", "--features", "x"], "--features"),
    (["addition", "--drop", "x1"], "--drop"),
    (["digits", "--target", "label"], "image set"),
    (["mnistt", "--data-dir", "/tmp"], "did you mean mnist?"),
    (["sin(x)", "--data-dir", "/tmp"], "--data-dir is for the examples mnist and fashion-mnist"),
])
def test_surely_wrong_options_exit_2_with_one_line(cli, tmp_path, argv, words):
    os.chdir(tmp_path)
    result = cli("fit", *argv)
    assert result.code == 2 and result.err.count("\n") == 1 and words in result.err, result.err
    assert not os.path.exists(tmp_path / "runs")  # refused before anything was read or written


@pytest.mark.parametrize("extra, option", [
    (["--domain", "0:1"], "--domain"),
    (["--samples", "50"], "--samples"),
    (["--data-dir", "/tmp"], "--data-dir"),
])
def test_ignored_options_warn_on_one_line(cli, tmp_path, table, extra, option):
    result = cli("fit", table, *extra, "--epochs", "2", "--out", str(tmp_path / "r"), "--json")
    assert result.code == 0, result.err
    warned = [line for line in result.err.splitlines() if line.startswith("mlpfit: warning:")]
    assert warned == [f"mlpfit: warning: {option} is ignored: {table!r} is a CSV table, and " + warned[0].split(", and ")[1]]


def test_samples_with_a_point_set_warns(cli, tmp_path):
    result = cli("fit", "curve10", "--samples", "500", "--epochs", "2", "--out", str(tmp_path / "r"), "--no-plots")
    assert result.code == 0 and "--samples is ignored: 'curve10' is a fixed set of points" in result.err


def test_quiet_silences_warnings(cli, tmp_path, table):
    result = cli("fit", table, "--domain", "0:1", "--epochs", "2", "--out", str(tmp_path / "r"), "-q")
    assert result.code == 0 and result.err == "" and result.out == ""


def test_the_python_api_warns_and_refuses_the_same_way(tmp_path, table):
    import mlpfit
    from mlpfit.errors import MlpfitWarning, UsageError

    with pytest.raises(UsageError, match="^target names columns of a CSV table"):
        mlpfit.fit("x + y", target_columns="y")
    with pytest.warns(MlpfitWarning, match="samples is ignored"):
        mlpfit.fit(table, samples=30, epochs=2)
