"""Table columns as inputs: one-hot text, filled holes with markers, ranges, and the JSON that keeps them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlpfit.data.sources.csvfile import Sheet
from mlpfit.data.sources.encoding import (BIN_INPUTS, BIN_ROWS, BINS, ONE_HOT_LEVELS, Target, TableEncoding,
                                            needs_encoding)
from mlpfit.data.sources.raw_rows import unsquashed
from mlpfit.data.sources.table import frame_table, read_table
from mlpfit.errors import DataError, RunFolderError


def sheet(**columns) -> Sheet:
    return Sheet.from_frame(pd.DataFrame(columns))


def test_text_is_one_hot_with_one_input_per_sorted_level():
    s = sheet(size=[1.0, 2.0, 3.0, 4.0], color=["red", "blue", "red", "green"])
    encoding = TableEncoding.fit(s, ["size", "color"], squash=False)
    assert encoding.names == ["size", "color[blue]", "color[green]", "color[red]"]
    np.testing.assert_array_equal(encoding.transform(s).X, [[1, 0, 0, 1], [2, 1, 0, 0], [3, 0, 0, 1], [4, 0, 1, 0]])


def test_holes_are_filled_with_median_or_most_frequent_and_marked():
    s = sheet(size=[1.0, np.nan, 3.0, 10.0], color=["red", "red", None, "blue"])
    encoding = TableEncoding.fit(s, ["size", "color"], squash=False)
    assert encoding.names == ["size", "size[missing]", "color[blue]", "color[red]", "color[missing]"]
    checked = encoding.transform(s)
    np.testing.assert_array_equal(checked.X[1], [3.0, 1, 0, 1, 0])  # median of 1, 3, 10
    np.testing.assert_array_equal(checked.X[2], [3.0, 0, 0, 1, 1])  # most frequent level: red
    assert checked.imputed == [[], ["size"], ["color"], []]
    assert encoding.summary()["imputed"] == {"size": 1, "color": 1}


def test_numbers_of_a_table_are_squashed_around_their_median_into_a_bounded_range():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 1000.0]
    kinds = ["a", "b", "a", "b", "a", "b"]  # a text column: a table as people keep them
    encoding = TableEncoding.fit(sheet(size=values, kind=kinds), ["size", "kind"])
    assert encoding.tabular
    column = encoding.columns[0]
    assert column.center == 3.5 and column.spread == np.subtract(*np.quantile(values, [0.75, 0.25]))
    X = encoding.transform(sheet(size=values + [-1e9], kind=kinds + ["a"])).X[:, 0]
    assert np.all(np.diff(X[:6]) > 0)  # order kept
    assert abs(X[2] + X[3]) < 1e-12  # symmetric around the median
    assert X[5] < 3 and X[6] > -3  # an outlier, and a value a billion away, stay within ±3
    assert abs(X[3] - (0.5 / column.spread)) < 0.01  # near the median the code is the robust z-score
    np.testing.assert_allclose(unsquashed(X[:6], column.center, column.spread), values, rtol=1e-6)
    assert any("1 number column(s) squashed" in note for note in encoding.notes())


def test_a_few_measured_numbers_flags_and_no_scale_stay_raw():
    measured = TableEncoding.fit(sheet(m=[1.0, 2.0, 3.0, 4.0], v=[2.0, 1.0, 4.0, 3.0]), ["m", "v"])
    assert not measured.tabular and [c.center for c in measured.columns] == [None, None]
    columns = {f"x{k}": [1.0, 2.0, 3.0, float(k)] for k in range(5)} | {"flag": [0.0, 1.0, 1.0, 0.0]}
    table = TableEncoding.fit(sheet(**columns), list(columns))
    assert table.tabular and table.columns[0].center is not None and table.columns[-1].center is None
    np.testing.assert_array_equal(table.transform(sheet(**columns)).X[:, -1], [0.0, 1.0, 1.0, 0.0])
    raw = TableEncoding.fit(sheet(**columns), list(columns), squash=False)
    assert [c.center for c in raw.columns] == [None] * 6


def test_a_regression_tables_numbers_of_many_values_get_piecewise_inputs_at_their_quantiles():
    rng = np.random.default_rng(0)
    n = BINS * BIN_ROWS  # rows enough for every bin
    age, rooms = rng.exponential(30, n), rng.integers(1, 6, n).astype(float)
    s = sheet(age=age, rooms=rooms, kind=rng.choice(["a", "b"], n))
    y = Target(age[:, None], "regress", ["price"])
    encoding, X = TableEncoding.fit_transform(s, ["age", "rooms", "kind"], target=y)
    column = encoding.columns[0]
    np.testing.assert_allclose(column.edges, np.quantile(age, np.linspace(0, 1, BINS + 1)))
    assert encoding.names[:BINS + 1] == ["age", *(f"age[bin {t}]" for t in range(1, BINS + 1))]
    assert encoding.columns[1].edges == []  # five values: steps already
    bins = X[:, 1:BINS + 1]
    assert bins.min() == 0 and bins.max() == 1
    assert np.all(np.diff(bins, axis=1) <= 0)  # a bin fills only once the bins below it are full
    np.testing.assert_allclose(bins.sum(axis=1), np.interp(age, column.edges, np.arange(BINS + 1)), rtol=1e-9)
    again = TableEncoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    np.testing.assert_array_equal(again.transform(s).X, X)
    classes = TableEncoding.fit(s, ["age", "rooms", "kind"], target=Target(np.array(["x", "y"] * (n // 2)), "classify", ["c"]))
    plain = TableEncoding.fit(s, ["age", "rooms", "kind"], target=y, squash=False)
    assert classes.columns[0].edges == [] and plain.columns[0].edges == []


def test_few_rows_get_fewer_bins_and_a_wide_tables_columns_share_them():
    rng = np.random.default_rng(1)
    few = TableEncoding.fit(sheet(x=rng.normal(size=400), kind=rng.choice(["a", "b"], 400)), ["x", "kind"],
                            target=Target(rng.normal(size=(400, 1)), "regress", ["y"]))
    assert len(few.columns[0].edges) - 1 == 400 // BIN_ROWS  # each bin holds BIN_ROWS rows
    n = BINS * BIN_ROWS
    columns = {f"x{k}": rng.normal(size=n) for k in range(40)}
    wide = TableEncoding.fit(sheet(**columns), list(columns), target=Target(rng.normal(size=(n, 1)), "regress", ["y"]))
    assert {len(c.edges) - 1 for c in wide.columns} == {BIN_INPUTS // 40}


def test_bin_edges_read_from_disk_must_be_few_increasing_numbers():
    encoding = TableEncoding.fit(sheet(size=[1.0, 2.0], kind=["a", "b"]), ["size", "kind"])
    for edges in ([3.0, 1.0], [1.0, float("inf")], list(range(100)), "1,2"):
        data = encoding.to_dict()
        data["columns"][0]["edges"] = edges
        with pytest.raises(RunFolderError, match="bin edges"):
            TableEncoding.from_dict(json.loads(json.dumps(data)))


def test_a_column_mostly_of_one_value_is_divided_by_half_its_range():
    column = TableEncoding.fit(sheet(slag=[0.0] * 8 + [100.0, 300.0], kind=["a", "b"] * 5), ["slag", "kind"]).columns[0]
    assert column.center == 0.0 and column.spread == 150.0


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


def test_many_levels_without_a_target_are_refused_naming_the_column_and_drop():
    texts = [f"city{k}" for k in range(ONE_HOT_LEVELS + 1)] * 2
    with pytest.raises(DataError) as caught:
        TableEncoding.fit(sheet(city=texts), ["city"])
    assert "'city'" in str(caught.value) and "--drop city" in str(caught.value) and str(ONE_HOT_LEVELS) in str(caught.value)


def test_many_levels_are_target_encoded_cross_fitted_with_rare_levels_pooled_and_unseen_reported():
    rng = np.random.default_rng(0)
    city = rng.integers(0, 150, 3000)
    y = city * 10.0 + rng.normal(0, 1, 3000)
    texts = [f"c{k}" for k in city] + ["lonely", "alone"]  # two levels seen once: pooled
    y = np.append(y, [5000.0, -5000.0])
    s = sheet(city=texts)
    encoding, X = TableEncoding.fit_transform(s, ["city"], target=Target(y[:, None], "regress", ["y"]))
    assert encoding.names == ["city[target]"] and encoding.columns[0].kind == "target"
    codes = encoding.columns[0].codes
    assert len(codes) == 152
    assert np.corrcoef(X[:-2, 0], y[:-2])[0, 1] > 0.99  # the codes carry the level's mean
    assert codes["lonely"] == codes["alone"] and abs(codes["lonely"][0]) < 2000  # pooled, not each its own target
    assert not np.array_equal(X[:, 0], encoding.transform(s).X[:, 0])  # training rows are cross-fitted
    checked = encoding.transform(sheet(city=["c7", "nowhere"]))
    assert abs(checked.X[0, 0] - 70.0) < 2
    assert checked.X[1, 0] == pytest.approx(encoding.columns[0].default[0])
    assert checked.unseen == [[], [{"column": "city", "value": "nowhere"}]]
    again = TableEncoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    np.testing.assert_array_equal(again.transform(sheet(city=["c7"])).X, checked.X[:1])


def test_many_levels_of_a_class_target_give_one_probability_per_class():
    rng = np.random.default_rng(1)
    state = rng.integers(0, 60, 2000)
    labels = np.array(["a", "b", "c"])[state % 3]
    encoding, X = TableEncoding.fit_transform(sheet(state=[f"s{k}" for k in state]), ["state"],
                                              target=Target(labels[:, None], "classify", ["y"]))
    assert encoding.names == ["state[p(a)]", "state[p(b)]", "state[p(c)]"]
    assert X.shape == (2000, 3) and np.allclose(X.sum(axis=1), 1, atol=0.05)


def test_dates_as_text_become_days_year_month_and_weekday_and_are_read_back():
    s = sheet(sold=["2021-01-04", "2021-01-04", "2022-03-01", None, "2021-06-30"])
    encoding = TableEncoding.fit(s, ["sold"])
    column = encoding.columns[0]
    assert column.kind == "date" and column.format == "%Y-%m-%d" and column.origin == "2021-01-04"
    assert encoding.names == ["sold[days]", "sold[year]", "sold[month]", "sold[weekday]", "sold[missing]"]
    X = encoding.transform(s).X
    np.testing.assert_array_equal(X[0], [0, 2021, 1, 0, 0])  # a Monday
    np.testing.assert_array_equal(X[2], [421, 2022, 3, 1, 0])
    assert X[3, -1] == 1  # filled, and marked
    again = TableEncoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    np.testing.assert_array_equal(again.transform(sheet(sold=["2022-03-01"])).X[0], X[2])
    with pytest.raises(DataError, match=r"'yesterday' is not a date; write dates as in training, e.g. 2021-01-04"):
        encoding.transform(sheet(sold=["yesterday"]))


def test_parsed_datetimes_from_python_are_dates_too():
    stamps = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-05"])
    encoding = TableEncoding.fit(sheet(t=stamps), ["t"])
    assert encoding.names == ["t[days]", "t[weekday]"]  # one year and one month: those do not vary
    np.testing.assert_array_equal(encoding.transform(sheet(t=stamps)).X[:, 0], [0, 1, 4])
    np.testing.assert_array_equal(encoding.transform(sheet(t=["2020-01-03"])).X[0], [2, 4])


def test_a_bad_number_at_predict_does_not_suggest_drop():
    encoding = TableEncoding.fit(sheet(b=[1.0, 2.0]), ["b"])
    with pytest.raises(DataError) as caught:
        encoding.transform(sheet(b=["2", "five"]))
    assert "'five' is not a number" in str(caught.value) and "--drop" not in str(caught.value)


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


@pytest.mark.parametrize("edit, words", [
    (lambda c: c.update(codes={"a": [1.0, 2.0]}), "codes"),
    (lambda c: c.update(default=["x"]), "default code"),
    (lambda c: c.update(kind="embedding"), "kind"),
])
def test_an_edited_target_coding_is_refused(edit, words):
    rng = np.random.default_rng(0)
    texts = [f"c{k}" for k in rng.integers(0, 60, 400)]
    encoding = TableEncoding.fit(sheet(city=texts), ["city"], target=Target(rng.normal(size=(400, 1)), "regress", ["y"]))
    data = json.loads(json.dumps(encoding.to_dict()))
    edit(data["columns"][0])
    with pytest.raises(RunFolderError, match=words):
        TableEncoding.from_dict(data)


def test_an_edited_date_coding_is_refused():
    data = TableEncoding.fit(sheet(sold=["2021-01-04", "2022-03-01"]), ["sold"]).to_dict()
    data["columns"][0]["origin"] = "yesterday"
    with pytest.raises(RunFolderError, match="not ISO 8601"):
        TableEncoding.from_dict(data)


@pytest.mark.parametrize("cells", [
    [" red", "blue ", None, "red", "green", "blue", np.nan],  # text: each distinct value read once
    [1, 1.0, True, "1", " a", None, 3.0, False],  # mixed: 1 and True hash alike but are different levels
])
def test_level_texts_reads_each_cell_as_level_text_does(cells):
    from mlpfit.data.sources.encoding import level_texts
    from mlpfit.data.sources.raw_rows import level_text

    values = pd.Series(cells, dtype=object)
    present = values.notna().to_numpy()
    got = level_texts(values)
    assert len(got) == len(cells)
    assert [text for text, keep in zip(got, present) if keep] == [level_text(v) for v in values[present]]
