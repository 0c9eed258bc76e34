"""Which columns are inputs: --drop, a pandas index saved by to_csv, row numbers and identifiers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mlpfit.data.sources.table import read_table
from mlpfit.errors import DataError, MlpfitWarning


def table(tmp_path, frame: pd.DataFrame, index: bool = False, **kwargs):
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=index)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = read_table(path, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, MlpfitWarning)]


def frame(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": rng.permutation(n), "name": [f"n{k}" for k in range(n)],
                         "x": rng.uniform(size=n).round(3), "y": rng.uniform(size=n).round(3)})


def test_row_numbers_and_unique_texts_are_left_out_with_a_warning(tmp_path):
    result, warned = table(tmp_path, frame())
    assert result.features == ["x"]
    assert set(result.encoding.dropped) == {"id", "name"}
    assert len(warned) == 2 and all("--features" in w for w in warned)
    assert "'id'" in warned[0] and "row number" in warned[0]


def test_a_pandas_index_saved_by_to_csv_is_recognised(tmp_path):
    result, warned = table(tmp_path, frame().drop(columns=["id", "name"]), index=True)
    assert result.features == ["x"] and "Unnamed: 0" in result.encoding.dropped
    assert any("pandas index" in w for w in warned)


def test_named_features_are_kept_even_if_they_look_like_ids(tmp_path):
    result, warned = table(tmp_path, frame(), features=["id", "x"])
    assert result.features == ["id", "x"] and warned == []


def test_the_last_input_is_never_taken_away(tmp_path):
    result, _ = table(tmp_path, pd.DataFrame({"t": np.arange(40), "y": np.arange(40) * 0.5}))
    assert result.features == ["t"]


def test_small_tables_keep_a_column_0_to_n(tmp_path):
    result, warned = table(tmp_path, pd.DataFrame({"t": np.arange(5), "x": [1.5, 2, 3, 1, 2], "y": [1.0] * 5}))
    assert result.features == ["t", "x"] and warned == []


def test_drop_leaves_out_named_columns_and_checks_them(tmp_path):
    data = frame().drop(columns=["name"])
    result, _ = table(tmp_path, data.assign(z=1.0), target="y", drop=["z"])
    assert result.features == ["x"] and result.encoding.dropped["z"] == "--drop"
    with pytest.raises(DataError, match="'zz'.*did you mean 'z'"):
        table(tmp_path, data.assign(z=1.0), target="y", drop=["zz"])
    with pytest.raises(DataError, match="names the target"):
        table(tmp_path, data, drop=["y"])


def test_an_empty_column_name_past_the_first_is_still_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,,y\n1,2,3\n")
    with pytest.raises(DataError, match="column 2 of the header has no name"):
        read_table(path)


def test_an_order_number_from_50000_is_an_identifier(tmp_path):
    data = frame()
    data["order"] = np.random.default_rng(3).permutation(np.arange(50_000, 50_030))
    result, warned = table(tmp_path, data[["order", "x", "y"]])
    assert "order" in result.encoding.dropped and result.features == ["x"]
    assert any("'order'" in message and "50000 to 50029" in message for message in warned)


def test_an_identifier_is_known_by_its_name_with_any_values(tmp_path):
    data = frame()
    data["CustomerID"] = np.random.default_rng(4).choice(10**9, 30, replace=False)
    data["paid"] = np.random.default_rng(5).choice(10**6, 30, replace=False)  # unique, but a name, not an id
    result, _ = table(tmp_path, data[["CustomerID", "paid", "x", "y"]])
    assert list(result.encoding.dropped) == ["CustomerID"] and result.features == ["paid", "x"]


def test_unique_dates_are_an_input_not_an_identifier(tmp_path):
    data = frame()
    data["sold"] = pd.date_range("2020-01-01", periods=30).strftime("%d/%m/%Y")
    result, warned = table(tmp_path, data[["sold", "x", "y"]])
    assert "sold" not in result.encoding.dropped and result.encoding.columns[0].kind == "date"
    assert not any("'sold'" in message for message in warned)
