"""Reading tables as spreadsheets write them: separators, decimal marks, thousands separators, currency."""

from __future__ import annotations

import numpy as np
import pytest

from mlpfit.config.schema import check_mark
from mlpfit.data.sources.dialect import detect
from mlpfit.data.sources.number_text import number_from_text
from mlpfit.data.sources.table import read_table
from mlpfit.errors import UsageError


def write(tmp_path, text: str, name="t.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize("text, sep, decimal, thousands", [
    ("a,b,y\n1.5,2,3\n2.5,3,4\n", ",", ".", ""),
    ('a,b,y\n"1,234.5",2,3\n"12,345",3,4\n', ",", ".", ","),
    ("a;b;y\n1,5;2;3\n2,5;3;4\n", ";", ",", ""),
    ("a;b;y\n1.234,5;2;3\n12.345,0;3;4\n", ";", ",", "."),
    ("a\tb\ty\n1.5\t2\t3\n", "\t", ".", ""),
    ("a|b|y\n1|2|3\n", "|", ".", ""),
    ("a;b;y\n1.5;2;3\n2.5;3;4\n", ";", ".", ""),
])
def test_the_marks_are_detected(text, sep, decimal, thousands):
    dialect = detect(text)
    assert (dialect.sep, dialect.decimal, dialect.thousands) == (sep, decimal, thousands)


def test_marks_given_are_kept_and_named_in_the_note():
    dialect = detect("a;b\n1,5;2\n", decimal=".")
    assert dialect.decimal == "." and "--decimal as given" in dialect.describe()


@pytest.mark.parametrize("text, value", [
    ("1,234.50", 1234.5), ("$1,234", 1234.0), ("12 %", 12.0), ("-€3", -3.0), ("€ 1,000,000", 1e6), ("7", 7.0),
])
def test_numbers_written_with_marks_and_signs(text, value):
    assert number_from_text(text) == value


@pytest.mark.parametrize("text", ["abc", "12,34", "2021-03-04", "-", "", "1,2,3", "$"])
def test_other_text_is_no_number(text):
    assert number_from_text(text) is None


def test_european_marks(tmp_path):
    assert number_from_text("1.234,5 €", ",", ".") == 1234.5


def test_a_semicolon_file_with_decimal_commas_and_a_bom_reads_as_numbers(tmp_path):
    path = write(tmp_path, "area;rooms;price\n1.234;3;107.321,21\n2.000;4;200.000,5\n3.500,5;5;1,5\n",
                 encoding="utf-8-sig")
    table = read_table(path)
    assert table.task == "regress" and table.features == ["area", "rooms"]
    np.testing.assert_allclose(table.X[:, 0], [1234, 2000, 3500.5])
    np.testing.assert_allclose(table.Y[:, 0], [107321.21, 200000.5, 1.5])
    assert "semicolon-separated, decimal comma, thousands point" in table.reading


def test_a_target_with_thousands_separators_is_a_regression(tmp_path):
    rows = "".join(f'{k},"{k * 1000 + 107321.21:,.2f}"\n' for k in range(30))
    table = read_table(write(tmp_path, "x,price\n" + rows))
    assert table.task == "regress"
    assert table.Y[1, 0] == pytest.approx(108321.21)


def test_currency_and_percent_inputs_are_numbers_and_noted(tmp_path):
    rows = "".join(f"${k},{k} %,{k}\n" for k in range(1, 30))
    table = read_table(write(tmp_path, "cost,share,y\n" + rows))
    assert table.encoding.names == ["cost", "share"]
    np.testing.assert_array_equal(table.X[:3], [[1, 1], [2, 2], [3, 3]])
    assert "cost ('$1')" in table.reading and "share ('1 %')" in table.reading


@pytest.mark.parametrize("flag, value, allowed", [("--sep", "::", (",", ";")), ("--decimal", ";", (".", ","))])
def test_a_bad_mark_is_refused(flag, value, allowed):
    with pytest.raises(UsageError, match=flag):
        check_mark(flag, value, allowed)


def test_marks_by_name():
    assert check_mark("--sep", "tab", ("\t",)) == "\t" and check_mark("--thousands", "none", ("",)) == ""


def test_cli_fit_and_predict_take_the_marks(tmp_path, cli):
    rows = "".join(f"{k}|{k % 5},5|{2 * k},25\n" for k in range(60))
    (tmp_path / "t.csv").write_text("a|b|y\n" + rows)
    wrong = cli("fit", str(tmp_path / "t.csv"), "--sep", ";", "--out", str(tmp_path / "r0"))
    assert wrong.code == 2 and "--sep" in wrong.err and wrong.err.count("\n") == 1
    bad = cli("fit", str(tmp_path / "t.csv"), "--decimal", "x", "--out", str(tmp_path / "r0"))
    assert bad.code == 2 and "--decimal" in bad.err
    result = cli("fit", str(tmp_path / "t.csv"), "--sep", "|", "--decimal", ",", "--out", str(tmp_path / "r"),
                 "--json", "--epochs", "5")
    assert result.code == 0, result.err
    (tmp_path / "new.csv").write_text("b;a\n1,5;3\n")
    out = cli("predict", str(tmp_path / "r"), "--input", str(tmp_path / "new.csv"), "--sep", ";", "--json")
    assert out.code == 0, out.err
    assert cli("predict", str(tmp_path / "r"), "--input", str(tmp_path / "new.csv"), "--thousands", "??").code == 2
