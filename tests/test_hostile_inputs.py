"""Issue 12: arguments and data files that used to blow up memory, hang, or crash with exit 1.

Each is now refused early with exit 2 and one line that names the value and the fix (or, for a
column named like TeX, simply works). The memory budget is set through MLPFIT_MAX_MEMORY so the
outcome does not depend on the machine the tests run on.
"""

from __future__ import annotations

import gzip
import os
import signal
import struct

import pytest

from mlpfit.data.sources.idx import read_idx
from mlpfit.errors import DataError
from mlpfit.memory_budget import ENV, parse_size
from cli_lines import one_line, run_cli


@pytest.fixture
def budget(monkeypatch):
    monkeypatch.setenv(ENV, "8G")


# ---------------------------------------------------------------- 6. memory estimated before allocating


@pytest.mark.parametrize("args", [["--hidden", "65536,65536"], ["--hidden", "4096,4096", "--ensemble", "512"]])
def test_a_network_too_large_for_memory_is_refused_with_the_numbers(tmp_path, capsys, budget, args):
    code, _, err = run_cli(capsys, "fit", "x + y", "--samples", "200", "--out", tmp_path / "run", "-q", *args)
    line = one_line(err)
    assert code == 2 and "needs about" in line and "8.0 GB" in line and ENV in line and "--hidden" in line
    assert not (tmp_path / "run").exists()  # refused before the folder was even made


def test_the_budget_variable_is_checked(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(ENV, "lots")
    code, _, err = run_cli(capsys, "fit", "x + y", "--samples", "200", "--out", tmp_path / "run", "-q")
    assert code == 2 and ENV in one_line(err)
    assert parse_size("500M") == 500 * 2**20 and parse_size("8G") == 8 * 2**30 and parse_size("1024") == 1024


def test_ten_thousand_one_row_classes_are_refused(tmp_path, capsys, budget):
    table = tmp_path / "ids.csv"
    table.write_text("x,label\n" + "".join(f"{i},id{i}\n" for i in range(10_000)))
    code, _, err = run_cli(capsys, "fit", table, "--epochs", "1", "--out", tmp_path / "run", "-q")
    line = one_line(err)
    assert code == 2 and "10000 distinct labels" in line and "1000" in line


def idx_header(count: int) -> bytes:
    return b"\x00\x00\x08\x03" + struct.pack(">3I", count, 28, 28)


def test_an_idx_gzip_declaring_more_than_memory_allows_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "64M")
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb", compresslevel=1) as handle:  # 100,000 real (zero) images: 78 MB, a few hundred KB packed
        handle.write(idx_header(100_000))
        handle.write(bytes(28 * 28 * 100_000))
    assert path.stat().st_size < 2**20
    with pytest.raises(DataError, match="needs about .* more than the 64 MB"):
        read_idx(path)


def test_an_idx_gzip_declaring_a_million_images_it_does_not_hold_is_truncated(tmp_path, budget):
    path = tmp_path / "lying.gz"
    path.write_bytes(gzip.compress(idx_header(1_000_000) + bytes(28 * 28 * 10)))
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from mlpfit.config.schema import DataConfig, FitConfig, RunConfig, TrainConfig
    from mlpfit.fitting.fit import fit

    out = tmp_path_factory.mktemp("inputs") / "run"
    fit(FitConfig(data=DataConfig(target="x + y", samples=200), train=TrainConfig(epochs=2),
                  run=RunConfig(out=str(out), quiet=True, plots=False)))
    return out


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_predict_input_that_never_ends_is_refused(tmp_path, capsys, small_run, source):
    if source == "fifo":
        source = tmp_path / "pipe.csv"
        os.mkfifo(source)
    signal.alarm(60)  # a hang would otherwise stall the suite; the refusal takes milliseconds
    try:
        code, out, err = run_cli(capsys, "predict", small_run, "--input", source)
    finally:
        signal.alarm(0)
    assert (code, out) == (2, "") and "not a regular file" in one_line(err)


def test_an_input_that_is_too_large_for_memory_is_refused(tmp_path, monkeypatch):
    from mlpfit.data.sources.table import read_table

    monkeypatch.setenv(ENV, "1M")
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "1,2\n" * 100_000)
    with pytest.raises(DataError, match="needs about"):
        read_table(big)


# ---------------------------------------------------------------- 7/8. crashes and silent surprises


def test_a_column_named_like_tex_draws_its_plots_and_report(tmp_path, capsys):
    table = tmp_path / "tex.csv"
    table.write_text("x,$\\frac{a}{$\n" + "".join(f"{i / 10},{i / 5}\n" for i in range(60)))
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "fit", table, "--epochs", "2", "--out", run, "-q")
    assert code == 0, err
    assert (run / "fit.png").stat().st_size > 0 and (run / "report.html").is_file()
    code, out, err = run_cli(capsys, "report", run)
    assert code == 0 and out.strip().endswith("report.html"), err


@pytest.mark.parametrize("column", ["x", "y"])
def test_a_400_digit_integer_cell_is_a_clear_error(tmp_path, capsys, column):
    rows = [["1", "9" * 400] if column == "y" else ["9" * 400, "1"]] + [[str(i), str(i)] for i in range(2, 40)]
    table = tmp_path / "digits.csv"
    table.write_text("x,y\n" + "".join(",".join(r) + "\n" for r in rows))
    code, _, err = run_cli(capsys, "fit", table, "--epochs", "1", "--out", tmp_path / "run", "-q")
    line = one_line(err)
    assert code == 2 and "line 2" in line and f"column '{column}'" in line and "too large for a float" in line


def test_a_domain_naming_a_variable_twice_is_refused(tmp_path, capsys):
    code, _, err = run_cli(capsys, "fit", "x + y", "--domain", "x=0:1,x=2:3,y=0:1", "--out", tmp_path / "run", "-q")
    assert code == 2 and "names 'x' twice" in one_line(err)


def test_an_overflowing_formula_is_not_told_about_log_and_sqrt(tmp_path, capsys):
    code, _, err = run_cli(capsys, "fit", "exp(1000*x)", "--out", tmp_path / "run", "-q")
    line = one_line(err)
    assert code == 2 and "log or sqrt" not in line and "narrow --domain" in line
    code, _, err = run_cli(capsys, "fit", "log(x)", "--out", tmp_path / "run2", "-q")
    assert code == 2 and "log or sqrt" in one_line(err)  # where the hint is right, it stays
