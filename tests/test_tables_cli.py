"""End to end: a table as users have it (numbers, text, holes, an id column) through fit and predict."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pandas as pd
import pytest

from mlpfit.cli.main import main
from mlpfit.data.sources.encoding import BIN_ROWS

EFFECT = {"red": 4.0, "green": 0.0, "blue": -4.0}


def truth(frame: pd.DataFrame) -> np.ndarray:
    return (2 * frame["size"] + frame["color"].map(EFFECT) + 0.1 * frame["weight"]).to_numpy()


def mixed_table(n=240, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": [f"row-{k:04d}" for k in rng.permutation(n)],
                          "size": rng.uniform(0, 10, n).round(3),
                          "color": rng.choice(list(EFFECT), n),
                          "weight": rng.normal(50, 10, n).round(2)})
    frame["price"] = truth(frame).round(3)
    if n > 9:  # a hole in a number column and one in the text column
        frame.loc[5, "weight"] = np.nan
        frame.loc[9, "color"] = np.nan
    return frame


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """`mlpfit fit table.csv` with every default (only the run folder named)."""
    folder = tmp_path_factory.mktemp("table")
    frame = mixed_table()
    frame.to_csv(folder / "table.csv", index=False)
    with pytest.raises(SystemExit) as done:
        main(["fit", str(folder / "table.csv"), "--out", str(folder / "run"), "--quiet"])
    assert done.value.code == 0
    return folder, frame


def summary_of(run) -> dict:
    return json.loads((run / "summary.json").read_text())


def test_a_mixed_table_fits_with_defaults(table_run):
    folder, _ = table_run
    summary = summary_of(folder / "run")
    assert summary["table"]["columns"] == ["size", "color", "weight"]
    assert summary["table"]["one_hot"] == {"color": 3} and summary["table"]["imputed"] == {"color": 1, "weight": 1}
    assert "id" in summary["table"]["dropped"]
    count = 240 // BIN_ROWS  # a regression's number: its value and a piecewise input per BIN_ROWS rows
    bins = [f"size[bin {t}]" for t in range(1, count + 1)]
    assert summary["table"]["binned"] == {"size": count, "weight": count} and any("bins" in note for note in summary["notes"])
    assert summary["inputs"][:count + 4] == ["size", *bins, "color[blue]", "color[green]", "color[red]"]
    assert summary["metrics"]["test"]["r2"][0] > 0.98
    assert any("one-hot" in note for note in summary["notes"]) and any("filled" in note for note in summary["notes"])
    encoding = json.loads((folder / "run" / "encoding.json").read_text())
    assert encoding["format"] == "mlpfit-encoding" and "encoding.json" in json.loads(
        (folder / "run" / "manifest.json").read_text())["sha256"]


def test_predict_reads_a_csv_with_its_columns_in_another_order(table_run, cli, tmp_path):
    folder, _ = table_run
    new = mixed_table(n=8, seed=1).drop(columns=["price"])
    new = new[new["size"].between(0.5, 9.5)].dropna()
    shuffled = new[["weight", "id", "color", "size"]].assign(note="anything")
    shuffled.to_csv(tmp_path / "new.csv", index=False)
    result = cli("predict", str(folder / "run"), "--input", str(tmp_path / "new.csv"), "--json")
    assert result.code == 0, result.err
    predicted = np.array(result.json()["predictions"])[:, 0]
    np.testing.assert_allclose(predicted, truth(new), atol=1.0)
    plain = cli("predict", str(folder / "run"), "--input", str(tmp_path / "new.csv"))
    lines = plain.out.splitlines()
    assert lines[0] == "price" and len(lines) == len(new) + 1  # a header of the output's name
    # a table's regression is an ensemble: each mean with its members' spread
    assert all(" ± " in v for v in lines[1:])
    assert [float(v.split(" ± ")[0]) for v in lines[1:]] == pytest.approx(predicted, rel=1e-5)


def test_typed_values_may_be_text_and_may_be_missing(table_run, cli):
    folder, _ = table_run
    point = cli("predict", str(folder / "run"), "5", "red", "50")
    assert point.code == 0, point.err
    assert float(point.out.split(" ± ")[0]) == pytest.approx(2 * 5 + 4 + 5, abs=1.0) and point.err == ""
    filled = cli("predict", str(folder / "run"), "5", "red", "", "--json")
    assert filled.json()["imputed"] == [["weight"]] and "missing values, filled" in filled.err


def test_unseen_levels_and_points_outside_the_range_are_flagged(table_run, cli):
    folder, _ = table_run
    result = cli("predict", str(folder / "run"), "25", "purple", "50", "--json")
    assert result.code == 0, result.err
    answer = result.json()
    assert answer["unseen"] == [[{"column": "color", "value": "purple"}]]
    [flag] = answer["extrapolation"][0]
    assert flag["input"] == "size" and flag["value"] == 25 and flag["by"] == pytest.approx(25 - flag["high"])
    warned = result.err.splitlines()
    assert len(warned) == 2 and all(line.startswith("mlpfit: warning:") for line in warned)
    assert "size = 25 is" in warned[0] and "above" in warned[0] and "'purple'" in warned[1]


def test_output_writes_inputs_plus_predictions_and_never_overwrites(table_run, cli, tmp_path):
    folder, _ = table_run
    new = mixed_table(n=5, seed=2).drop(columns=["price"])
    new.loc[0, "size"] = 12.5
    new.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "predicted.csv"
    result = cli("predict", str(folder / "run"), "--input", str(tmp_path / "new.csv"), "--output", str(out))
    assert result.code == 0, result.err
    assert str(out) in result.out
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [*new.columns, "predicted_price", "std_price", "extrapolation"]
    assert [row["id"] for row in rows] == new["id"].tolist() and rows[0]["extrapolation"] == "size=12.5"
    assert rows[5 - 1]["weight"] == str(new["weight"].iloc[4])  # input cells as written
    before = out.read_bytes()
    again = cli("predict", str(folder / "run"), "--input", str(tmp_path / "new.csv"), "--output", str(out))
    assert again.code == 2 and "--force" in again.err and out.read_bytes() == before
    forced = cli("predict", str(folder / "run"), "1", "red", "40", "--output", str(out), "--force")
    assert forced.code == 0 and pd.read_csv(out).columns.tolist()[:3] == ["size", "color", "weight"]
    assert sorted(os.listdir(tmp_path)) == ["new.csv", "predicted.csv"]  # no temporary file left behind


def test_no_impute_keeps_the_refusal_and_drop_leaves_columns_out(tmp_path, cli):
    mixed_table(n=60).to_csv(tmp_path / "t.csv", index=False)
    refused = cli("fit", str(tmp_path / "t.csv"), "--no-impute", "--out", str(tmp_path / "r"))
    assert refused.code == 2 and "line 11, column 'color'" in refused.err and "missing" in refused.err
    dropped = cli("fit", str(tmp_path / "t.csv"), "--drop", "weight,color", "--epochs", "2", "--json",
                  "--out", str(tmp_path / "d"))
    assert dropped.code == 0, dropped.err
    assert dropped.json()["inputs"] == ["size"] and dropped.json()["table"]["dropped"]["weight"] == "--drop"


def test_many_text_levels_are_target_encoded_and_an_unseen_level_is_reported(tmp_path, cli):
    frame = pd.DataFrame({"city": [f"c{k % 60}" for k in range(600)], "x": np.arange(600) % 7})
    frame["y"] = frame["x"] + (np.arange(600) % 60) * 0.1
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = cli("fit", str(tmp_path / "t.csv"), "--out", str(tmp_path / "r"), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["inputs"] == ["city[target]", "x"]
    pd.DataFrame({"x": [1, 2], "city": ["c3", "atlantis"]}).to_csv(tmp_path / "new.csv", index=False)
    result = cli("predict", str(tmp_path / "r"), "--input", str(tmp_path / "new.csv"), "--json")
    assert result.code == 0 and json.loads(result.out)["unseen"] == [[], [{"column": "city", "value": "atlantis"}]]
    assert "city = 'atlantis'" in result.err
