"""Table columns as inputs: one-hot text, filled holes with markers, ranges, and the JSON that keeps them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlpfit.data.sources.csvfile import Sheet
from mlpfit.data.sources.encoding import MAX_LEVELS, TableEncoding, needs_encoding
from mlpfit.data.sources.table import frame_table, read_table
from mlpfit.errors import DataError, RunFolderError


def sheet(**columns) -> Sheet:
    return Sheet.from_frame(pd.DataFrame(columns))


def test_text_is_one_hot_with_one_input_per_sorted_level():
    s = sheet(size=[1.0, 2.0, 3.0, 4.0], color=["red", "blue", "red", "green"])
    encoding = TableEncoding.fit(s, ["size", "color"])
    assert encoding.names == ["size", "color[blue]", "color[green]", "color[red]"]
    np.testing.assert_array_equal(encoding.transform(s).X, [[1, 0, 0, 1], [2, 1, 0, 0], [3, 0, 0, 1], [4, 0, 1, 0]])


def test_holes_are_filled_with_median_or_most_frequent_and_marked():
    s = sheet(size=[1.0, np.nan, 3.0, 10.0], color=["red", "red", None, "blue"])
    encoding = TableEncoding.fit(s, ["size", "color"])
    assert encoding.names == ["size", "size[missing]", "color[blue]", "color[red]", "color[missing]"]
    checked = encoding.transform(s)
    np.testing.assert_array_equal(checked.X[1], [3.0, 1, 0, 1, 0])  # median of 1, 3, 10
    np.testing.assert_array_equal(checked.X[2], [3.0, 0, 0, 1, 1])  # most frequent level: red
    assert checked.imputed == [[], ["size"], ["color"], []]
    assert encoding.summary()["imputed"] == {"size": 1, "color": 1}


def test_without_impute_a_hole_is_refused_naming_its_row():
    s = sheet(size=[1.0, np.nan, 3.0])
    with pytest.raises(DataError, match=r"data row 2, column 'size': the value is missing"):
        TableEncoding.fit(s, ["size"], impute=False)


def test_an_unseen_level_is_all_zeros_and_reported():
    encoding = TableEncoding.fit(sheet(color=["red", "blue"]), ["color"])
    checked = encoding.transform(sheet(color=["purple", "blue"]))
    np.testing.assert_array_equal(checked.X, [[0, 0], [1, 0]])
    assert checked.unseen == [[{"column": "color", "value": "purple"}], []]


def test_values_outside_the_training_range_are_flagged_with_the_distance():
    encoding = TableEncoding.fit(sheet(size=[0.0, 10.0, 5.0]), ["size"])
    checked = encoding.transform(sheet(size=[-2.0, 5.0, 13.0]))
    assert checked.extrapolation[1] == []
    assert checked.extrapolation[0] == [{"input": "size", "value": -2.0, "low": 0.0, "high": 10.0, "by": 2.0}]
    assert checked.extrapolation[2][0]["by"] == 3.0


def test_too_many_levels_are_refused_naming_the_column_and_drop():
    texts = [f"city{k}" for k in range(MAX_LEVELS + 1)] * 2
    with pytest.raises(DataError) as caught:
        TableEncoding.fit(sheet(city=texts), ["city"])
    assert "'city'" in str(caught.value) and "--drop city" in str(caught.value) and str(MAX_LEVELS) in str(caught.value)


def test_a_word_among_numbers_is_a_typo_not_a_category():
    with pytest.raises(DataError, match=r"'five' is not a number"):
        TableEncoding.fit(sheet(b=["2", "five", "3"]), ["b"])


def test_a_column_without_values_is_refused():
    with pytest.raises(DataError, match="no values at all.*--drop empty"):
        TableEncoding.fit(sheet(empty=[np.nan, np.nan]), ["empty"])


def test_the_encoding_round_trips_through_json():
    s = sheet(size=[1.0, np.nan, 3.0], color=["a", "b", None])
    encoding = TableEncoding.fit(s, ["size", "color"], other=["y"], dropped={"id": "--drop"})
    again = TableEncoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    assert again == encoding
    np.testing.assert_array_equal(again.transform(s).X, encoding.transform(s).X)
    with pytest.raises(RunFolderError):
        TableEncoding.from_dict({"format": "something else"})


def test_columns_are_matched_by_name_whatever_their_order():
    encoding = TableEncoding.fit(sheet(a=[1.0, 2.0], b=["x", "y"]), ["a", "b"])
    np.testing.assert_array_equal(encoding.transform(sheet(b=["y"], a=[5.0], extra=["?"])).X, [[5.0, 0, 1]])
    with pytest.raises(DataError, match="needs input column.*'a'"):
        encoding.transform(sheet(b=["y"]))


def test_read_table_encodes_text_features_and_imputes_on_request(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("size,color,y\n1,red,3\n,blue,4\n3,red,5\n")
    table = read_table(path, impute=True)
    assert table.features == ["size", "color"] and table.encoding.names[:2] == ["size", "size[missing]"]
    assert table.X.shape == (3, 4)
    with pytest.raises(DataError, match="line 3, column 'size'"):
        read_table(path)  # the reader's default is still to refuse holes


def test_frames_with_text_or_holes_need_encoding_plain_ones_do_not():
    assert needs_encoding(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))
    assert needs_encoding(pd.DataFrame({"a": [1.0, np.nan]}))
    assert not needs_encoding(pd.DataFrame({"a": [1.0, 2.0], "flag": [True, False]}))
    assert not needs_encoding(np.zeros((2, 2)))


def test_frame_table_takes_the_same_rules_as_a_csv():
    frame = pd.DataFrame({"color": ["red", "blue"] * 10, "size": np.arange(20) * 0.5, "y": np.arange(20) % 2})
    table = frame_table(frame, target="y")
    assert table.task == "classify" and table.encoding.names == ["color[blue]", "color[red]", "size"]
