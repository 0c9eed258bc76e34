"""A messy housing table (tests/messy_housing.py) with every default: fit, predict, explain, export."""

from __future__ import annotations

import csv
import importlib.util
import json

import numpy as np
import pytest

from messy_housing import housing, save_eu, save_us, written

ORDER = ["rooms", "condition", "area", "sale_date", "district", "order_id"]  # not the training order


def r2(predicted, truth) -> float:
    return 1 - ((predicted - truth) ** 2).sum() / ((truth - truth.mean()) ** 2).sum()


@pytest.fixture(scope="module")
def new_rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("new")
    frame, truth = housing(400, seed=1, first_id=53_000)
    written(frame.drop(columns="price"))[ORDER].to_csv(folder / "new.csv", index=False)
    return folder / "new.csv", truth


@pytest.fixture(scope="module", params=["us", "eu"])
def run(request, tmp_path_factory):
    from mlpfit.cli.main import main

    folder = tmp_path_factory.mktemp(request.param)
    frame, _ = housing()
    (save_us if request.param == "us" else save_eu)(frame, folder / "houses.csv")
    with open(folder / "houses.csv", "rb") as handle:
        assert handle.read(3) == (b"\xef\xbb\xbf" if request.param == "eu" else b"ord")
    try:
        main(["fit", str(folder / "houses.csv"), "--out", str(folder / "run"), "--quiet", "--json"])
    except SystemExit as done:
        assert done.code in (0, None)
    return folder / "run"


def cli_json(capsys, *argv):
    from mlpfit.cli.main import main

    capsys.readouterr()
    try:
        main(list(argv))
    except SystemExit as done:
        assert done.code in (0, None), capsys.readouterr().err
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_fits_as_a_regression_without_the_id_and_notes_the_reading(run):
    summary = json.loads((run / "summary.json").read_text())
    assert summary["task"] == "regress"
    assert "order_id" not in " ".join(summary["inputs"])
    assert "order_id" in summary["table"]["dropped"]
    assert summary["table"]["target_encoded"] == {"district": 150}
    assert any(note.startswith("read as ") for note in summary["notes"])


def test_predicts_new_rows_in_another_order(run, new_rows, capsys):
    path, truth = new_rows
    out, _ = cli_json(capsys, "predict", str(run), "--input", str(path), "--json")
    assert r2(np.array(out["predictions"])[:, 0], truth) >= 0.95


def test_explain_ranks_area_first_per_original_column(run, capsys):
    out, _ = cli_json(capsys, "explain", str(run), "--json")
    importance = out["importance"]["price"]
    assert set(importance) == {"sale_date", "district", "area", "rooms", "condition"}
    assert max(importance, key=importance.get) == "area"


def test_the_exported_module_on_raw_rows_equals_predict(run, capsys, tmp_path):
    """Rows as the training file writes them (text cells read with its marks)."""
    frame, _ = housing(200, seed=2, first_id=60_000)
    path = tmp_path / "rows.csv"
    eu = (run.parent / "houses.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    (save_eu if eu else save_us)(frame.drop(columns="price")[ORDER], path)
    module_path = tmp_path / "houses_model.py"
    cli_json(capsys, "export", str(run), "--format", "python", "--out", str(module_path), "--json")
    spec = importlib.util.spec_from_file_location("houses_model", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = list(csv.DictReader(open(path, newline="", encoding="utf-8-sig"), delimiter=";" if eu else ","))
    expected, _ = cli_json(capsys, "predict", str(run), "--input", str(path), "--json")
    np.testing.assert_allclose(module.predict(rows), expected["predictions"], rtol=1e-9)
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    np.testing.assert_allclose(module.predict(columns), expected["predictions"], rtol=1e-9)
    import pandas as pd

    frame = pd.DataFrame(rows).replace("", np.nan)  # a DataFrame, holes as NaN
    np.testing.assert_allclose(module.predict(frame), expected["predictions"], rtol=1e-9)


def test_the_onnx_graph_takes_one_input_per_column_and_equals_predict(run, new_rows, capsys, tmp_path):
    import onnxruntime as ort

    from mlpfit.export.onnx_table import feeds

    path, _ = new_rows
    cli_json(capsys, "export", str(run), "--format", "onnx", "--out", str(tmp_path / "m.onnx"), "--json")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["sale_date", "district", "area", "rooms", "condition"]
    assert "days since 2020-01-01" in session.get_modelmeta().custom_metadata_map["columns"]
    encoding = json.loads((run / "encoding.json").read_text())
    rows = list(csv.DictReader(open(path, newline="")))
    if encoding["marks"]["decimal"] == ",":  # the eu run reads text with its own marks: give it numbers
        rows = [{**row, "area": float(row["area"].replace(",", ""))} for row in rows]
    got = session.run(None, feeds(encoding, rows))[0]
    expected, _ = cli_json(capsys, "predict", str(run), "--input", str(path), "--json")
    np.testing.assert_allclose(got, expected["predictions"], rtol=1e-5)


def test_the_cli_the_api_and_the_estimators_share_one_encoding(run, tmp_path):
    import pandas as pd

    import mlpfit
    from mlpfit.estimators import Regressor

    cli_encoding = json.loads((run / "encoding.json").read_text())
    kinds = {c["name"]: c["kind"] for c in cli_encoding["columns"]}
    frame, _ = housing()  # the CLI's rows: a number's bins depend on how many rows it has
    frame["sale_date"] = pd.to_datetime(frame["sale_date"])  # parsed by the caller, text in the CSV: the same inputs
    result = mlpfit.fit(frame, target_columns="price", out=str(tmp_path / "api"), epochs=5)
    api_encoding = json.loads((tmp_path / "api" / "encoding.json").read_text())
    assert {c["name"]: c["kind"] for c in api_encoding["columns"]} == kinds
    assert result.summary["inputs"] == json.loads((run / "summary.json").read_text())["inputs"]
    estimator = Regressor(epochs=5).fit(frame.drop(columns=["price", "order_id"]), frame["price"])
    assert {c.name: c.kind for c in estimator.encoding_.columns} == kinds
    assert estimator.encoding_.names == result.summary["inputs"]


def test_the_report_shows_importance_per_column(run):
    assert (run / "sensitivity.png").stat().st_size > 10_000
    assert "Which input columns matter" in (run / "report.html").read_text()
