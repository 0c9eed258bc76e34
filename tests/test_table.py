"""CSV reader: good tables, every kind of bad table, and a fuzz that only DataError escapes."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import examples

from mlpfit.errors import DataError, UsageError
from mlpfit.data.sources.table import detect_task, read_inputs, read_table


def write(tmp_path, text: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_for(call, *args, **kwargs) -> str:
    """The DataError message of ``call``; it must be a single line."""
    with pytest.raises(DataError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    return message


def assert_words(message: str, *words: str) -> None:
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


# ----------------------------------------------------------------------------- good tables


def test_regression_defaults_to_last_column_as_target(tmp_path):
    path = write(tmp_path, "x1,x2,y\n1,2,3.5\n2,3,5.5\n4,5,9.25\n")
    table = read_table(path)
    assert table.features == ["x1", "x2"] and table.targets == ["y"]
    assert table.task == "regress"
    assert table.X.dtype == np.float64 and table.X.shape == (3, 2)
    np.testing.assert_array_equal(table.Y, [[3.5], [5.5], [9.25]])
    assert table.Y.dtype == np.float64 and table.path == str(path)


def test_classification_with_string_labels(tmp_path):
    path = write(tmp_path, "a,b,species\n1,2,setosa\n2,3, virginica\n3,1,setosa\n")
    table = read_table(path)
    assert table.task == "classify"
    assert table.Y.shape == (3, 1)
    assert list(table.Y[:, 0]) == ["setosa", "virginica", "setosa"]


def test_classification_with_integer_labels(tmp_path):
    rows = "".join(f"{i},{i % 3}\n" for i in range(12))
    table = read_table(write(tmp_path, "x,label\n" + rows))
    assert table.task == "classify"
    assert table.Y.dtype == np.int64
    assert list(table.Y[:4, 0]) == [0, 1, 2, 0]


def test_integer_target_written_as_decimals_is_regressed(tmp_path):
    rows = "".join(f"{i},{i % 3}.0\n" for i in range(12))
    assert read_table(write(tmp_path, "x,y\n" + rows)).task == "regress"


def test_multiple_targets_and_a_feature_subset(tmp_path):
    path = write(tmp_path, "a,b,c,y1,y2\n1,2,3,4,5\n6,7,8,9,10\n")
    table = read_table(path, target=["y1", "y2"], features=["c", "a"])
    assert table.features == ["c", "a"] and table.targets == ["y1", "y2"]
    np.testing.assert_array_equal(table.X, [[3, 1], [8, 6]])
    np.testing.assert_array_equal(table.Y, [[4, 5], [9, 10]])
    assert table.task == "regress"


def test_target_given_as_comma_separated_string(tmp_path):
    path = write(tmp_path, "a,y1,y2\n1,2,3\n")
    assert read_table(path, target="y1,y2").targets == ["y1", "y2"]


def test_task_override_classify_on_many_integers(tmp_path):
    rows = "".join(f"{i},{i}\n" for i in range(50))
    table = read_table(write(tmp_path, "x,y\n" + rows), task="classify")
    assert table.task == "classify" and table.Y.dtype == np.int64


def test_task_override_regress_on_few_integers(tmp_path):
    rows = "".join(f"{i},{i % 2}\n" for i in range(10))
    table = read_table(write(tmp_path, "x,y\n" + rows), task="regress")
    assert table.task == "regress" and table.Y.dtype == np.float64


def test_quoted_fields_crlf_bom_blank_lines_and_spaces(tmp_path):
    text = '\ufeff"x 1", y\r\n\r\n 1 , "2"\r\n3,4\r\n\r\n'
    table = read_table(write(tmp_path, text))
    assert table.features == ["x 1"] and table.targets == ["y"]
    np.testing.assert_array_equal(table.X[:, 0], [1, 3])


def test_boolean_feature_reads_as_zero_one(tmp_path):
    table = read_table(write(tmp_path, "flag,y\nTrue,1.5\nFalse,2.5\n"))
    np.testing.assert_array_equal(table.X[:, 0], [1.0, 0.0])


def test_read_inputs_selects_by_name_and_ignores_extras(tmp_path):
    path = write(tmp_path, "extra,b,a\nfoo,2,1\nbar,4,3\n")
    np.testing.assert_array_equal(read_inputs(path, ["a", "b"]), [[1, 2], [3, 4]])


# ----------------------------------------------------------------------------- detect_task


@pytest.mark.parametrize(
    "values, task",
    [
        (["a", "b", "a"], "classify"),
        ([True, False, True], "classify"),
        ([0, 1, 0, 1], "classify"),
        ([-1, 1, -1, 1], "classify"),
        (list(range(10)) * 2, "classify"),
        (list(range(10)), "regress"),  # one row per value: not enough to call them classes
        (list(range(21)) * 5, "regress"),  # more than 20 distinct integers
        ([0.0, 1.0, 0.0, 1.0], "regress"),
        ([1.5, 2.5], "regress"),
        ([7, 7, 7, 7], "regress"),  # a constant is not two classes
        (["1", "2", "1", "2"], "classify"),  # integers as text still count as integers
    ],
)
def test_detect_task_rule(values, task):
    assert detect_task(pd.Series(values)) == task


# ----------------------------------------------------------------------------- bad files


def test_missing_file(tmp_path):
    assert_words(error_for(read_table, tmp_path / "nope.csv"), "nope.csv", "no such file")


def test_directory(tmp_path):
    assert_words(error_for(read_table, tmp_path), "folder", ".csv")


def test_empty_file(tmp_path):
    assert_words(error_for(read_table, write(tmp_path, "")), "empty", "header")


def test_whitespace_only_file(tmp_path):
    assert_words(error_for(read_table, write(tmp_path, " \n\n")), "empty")


def test_header_only(tmp_path):
    assert_words(error_for(read_table, write(tmp_path, "a,b,y\n")), "no data rows")


@pytest.mark.parametrize("row, count", [("1,2", 2), ("1,2,3,4", 4)])
def test_ragged_row_names_line(tmp_path, row, count):
    path = write(tmp_path, f"a,b,y\n1,2,3\n\n{row}\n4,5,6\n")
    assert_words(error_for(read_table, path), "line 4", f"{count} fields", "header", "3")


def test_ragged_row_in_quoted_file(tmp_path):
    path = write(tmp_path, 'a,b,y\n"1",2,3\n1,"2\nstill 2"\n')
    assert_words(error_for(read_table, path), "line 3", "2 fields")


def test_unclosed_quote(tmp_path):
    assert_words(error_for(read_table, write(tmp_path, 'a,y\n1,"2\n3,4\n')), "line 2", "quote")


def test_non_numeric_feature(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3\n4,five,6\n")
    assert_words(error_for(read_table, path), "line 3", "'b'", "'five'", "not a number")


def test_missing_value(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3\n4,,6\n")
    assert_words(error_for(read_table, path), "line 3", "'b'", "missing")


def test_missing_value_spelled_na_in_target(tmp_path):
    path = write(tmp_path, "a,y\n1,2\n\n4,NA\n")
    assert_words(error_for(read_table, path), "line 4", "'y'", "missing")


def test_unknown_target_suggests_close_names(tmp_path):
    path = write(tmp_path, "age,height,weight\n1,2,3\n")
    assert_words(error_for(read_table, path, target=["wieght"]), "'wieght'", "not in the header", "'weight'")


def test_unknown_feature_lists_columns_when_nothing_is_close(tmp_path):
    path = write(tmp_path, "age,height,weight\n1,2,3\n")
    assert_words(error_for(read_table, path, features=["zzz"]), "'zzz'", "'age'", "'height'")


def test_duplicate_column_names(tmp_path):
    assert_words(error_for(read_table, write(tmp_path, "a,b,a\n1,2,3\n")), "'a'", "more than once")


def test_empty_column_name(tmp_path):
    assert_words(error_for(read_table, write(tmp_path, "a,,y\n1,2,3\n")), "column 2", "no name")


def test_header_missing_numbers_in_first_line(tmp_path):
    assert_words(error_for(read_table, write(tmp_path, "1,2,3\n4,5,6\n")), "no header row")


def test_semicolon_separated_is_read_and_a_wrong_sep_says_so(tmp_path):
    path = write(tmp_path, "a;b;y\n1;2;3\n4;5;6\n")
    np.testing.assert_array_equal(read_table(path).X, [[1, 2], [4, 5]])
    assert_words(error_for(read_table, path, sep=","), "single column", "--sep")


def test_target_also_feature(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3\n")
    assert_words(error_for(read_table, path, features=["a", "y"]), "'y'", "both a target and a feature")


def test_no_features_left(tmp_path):
    assert_words(error_for(read_table, write(tmp_path, "y\n1\n2\n")), "no input column")


def test_non_utf8_bytes(tmp_path):
    path = write(tmp_path, b"a,y\n1,2\n3,caf\xe9\n")
    assert_words(error_for(read_table, path), "line 3", "UTF-8", "0xe9")


def test_binary_file(tmp_path):
    path = write(tmp_path, bytes(range(256)) * 4, "data.bin")
    assert_words(error_for(read_table, path), "binary")


def test_gzip_file(tmp_path):
    path = write(tmp_path, gzip.compress(b"a,y\n1,2\n"), "data.csv.gz")
    assert_words(error_for(read_table, path), "gzip", "decompress")


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999"])
def test_infinite_values(tmp_path, value):
    path = write(tmp_path, f"a,y\n1,2\n{value},3\n")
    assert_words(error_for(read_table, path), "line 3", "'a'", "infinite")


def test_regress_on_string_target(tmp_path):
    path = write(tmp_path, "a,species\n1,setosa\n2,virginica\n")
    assert_words(error_for(read_table, path, task="regress"), "line 2", "'setosa'", "classify")


def test_classify_needs_single_target(tmp_path):
    path = write(tmp_path, "a,y1,y2\n1,2,3\n")
    assert_words(error_for(read_table, path, target=["y1", "y2"], task="classify"), "single target")


def test_string_target_among_several(tmp_path):
    path = write(tmp_path, "a,y1,y2\n1,2,cat\n")
    assert_words(error_for(read_table, path, target=["y1", "y2"]), "'cat'", "single target")


def test_bad_task_value_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="'classification'"):
        read_table(write(tmp_path, "a,y\n1,2\n"), task="classification")


def test_read_inputs_names_every_missing_column(tmp_path):
    path = write(tmp_path, "x1,x3\n1,2\n")
    assert_words(error_for(read_inputs, path, ["x1", "x2", "x4"]), "'x2'", "'x4'", "not in the header")


def test_read_inputs_bad_cell(tmp_path):
    path = write(tmp_path, "x1\n1\noops\n")
    assert_words(error_for(read_inputs, path, ["x1"]), "line 3", "'oops'")


# ----------------------------------------------------------------------------- fuzz


def only_data_errors(call, *args, **kwargs) -> None:
    try:
        call(*args, **kwargs)
    except DataError as error:
        assert "\n" not in str(error)


CSV_ALPHABET = st.sampled_from(list('ab,,,\n\n\r"1234567890.-e xNA;\t') + ["inf", "nan", "\x00", "é", "\ufeff"])


@settings(max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(CSV_ALPHABET, max_size=60).map("".join))
def test_fuzz_csvish_text(tmp_path, text):
    path = write(tmp_path, text, "fuzz.csv")
    only_data_errors(read_table, path)
    only_data_errors(read_inputs, path, ["a"])


@settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes(tmp_path, data):
    only_data_errors(read_table, write(tmp_path, data, "fuzz.csv"))


@settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.sampled_from([None, ["y"], ["a", "y"], ["b"]]),
    task=st.sampled_from([None, "regress", "classify"]),
    cells=st.lists(st.lists(st.sampled_from(["1", "2", "0.5", "", "x", "inf", "-3", "True"]), min_size=3, max_size=3), max_size=6),
)
def test_fuzz_table_cells(tmp_path, target, task, cells):
    text = "a,b,y\n" + "".join(",".join(row) + "\n" for row in cells)
    only_data_errors(read_table, write(tmp_path, text, "fuzz.csv"), target=target, task=task)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gaps=st.lists(st.sampled_from(["", " ", "\t", "  \t"]), min_size=4, max_size=4),
    bad_row=st.integers(0, 2),
    quoted=st.booleans(),
)
def test_reported_line_is_the_line_in_the_file(tmp_path, gaps, bad_row, quoted):
    """Blank lines and multi-line quoted fields must not shift the line a message names."""
    rows = ['"1\n",2', "3,4", "5,6"] if quoted else ["1,2", "3,4", "5,6"]
    rows[bad_row] = rows[bad_row].replace("2", "oops").replace("4", "oops").replace("6", "oops")
    lines = ["a,y"]
    for gap, row in zip(gaps, rows):
        lines += [gap, row]
    expected = sum(len(line.split("\n")) for line in lines[: 2 * bad_row + 2]) + 1  # header..gap before it
    message = error_for(read_table, write(tmp_path, "\n".join(lines) + "\n"), task="regress")
    assert f"line {expected}," in message


def test_nul_byte_deep_in_a_text_file(tmp_path):
    path = write(tmp_path, b"a,y\n" + b"1,2\n" * 5000 + b"3,\x004\n")
    assert_words(error_for(read_table, path), "binary", "NUL")
