"""Input sensitivities (mean |∂y/∂x| in original units), partial dependence, and class gradient pictures."""

import json
import os

import numpy as np
import pandas as pd
import pytest

import mlpfit
from mlpfit.data.sources.encoding import BIN_ROWS
from mlpfit.data.sources.raw_rows import squashed
from mlpfit.fitting.predicting import rows_from_frame
from mlpfit.report import sensitivity
from conftest import assert_not_blank


def finite_differences(f, X: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Central differences of f (rows -> [rows, outputs]) per input: [rows, outputs, inputs]."""
    columns = []
    for i in range(X.shape[1]):
        step = np.zeros(X.shape[1])
        step[i] = h
        columns.append((f(X + step) - f(X - step)) / (2 * h))
    return np.stack(columns, axis=2)


def test_gradients_match_finite_differences_in_original_units(curve_run, surface_run):
    for run in (curve_run, surface_run):
        X = np.random.default_rng(0).uniform(-1.5, 1.5, (20, len(run.summary["inputs"])))
        np.testing.assert_allclose(sensitivity.gradients(run.fitted, X), finite_differences(run.fitted.predict, X),
                                   rtol=2e-2, atol=2e-3)


def test_a_classifiers_gradient_is_its_predicted_class_probability(digits_run):
    fitted = digits_run.fitted
    X = np.asarray(digits_run.dataset.X[:5], dtype=np.float64)
    predicted = fitted.predict(X)
    picked = lambda Z: fitted.predict_proba(Z)[np.arange(len(Z)), predicted][:, None]  # noqa: E731
    # h = 1e-3 pixel units: a rarely-used pixel's std is small, so 1e-2 moved its scaled input far enough to
    # switch ReLU units (a kink: up to 8e-4 off); at 1e-3 none switch and float32 noise stays below 5e-5.
    np.testing.assert_allclose(sensitivity.gradients(fitted, X), finite_differences(picked, X, h=1e-3),
                               rtol=5e-2, atol=2e-4)


def test_sensitivity_of_x1_x2_plus_x3_is_what_calculus_says(default_fit):
    run = default_fit("x1*x2 + x3", -1.0, 1.0)
    values = mlpfit.load(run.run_dir).sensitivity()["x1 * x2 + x3"]
    # ∂/∂x1 = x2, ∂/∂x2 = x1, ∂/∂x3 = 1: mean |x| on [-1, 1] is 0.5
    assert abs(values["x1"] - 0.5) < 0.03 and abs(values["x2"] - 0.5) < 0.03 and abs(values["x3"] - 1) < 0.03
    X = sensitivity.sample_rows(mlpfit.load(run.run_dir).samples)
    curve = sensitivity.partial_dependence(run.fitted, X, 2, np.array([-1.0, 1.0]))[:, 0]
    assert abs((curve[1] - curve[0]) - 2.0) < 0.05  # partial dependence on x3: slope 1


def test_sensitivities_are_in_original_units(linear_run):
    # A linear net is an affine map y = W x + b in original units: its sensitivities are |W|, exactly.
    from mlpfit.network.equation import affine_map

    fitted = linear_run.fitted
    layers = [(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in zip(fitted.weights, fitted.biases)]
    W = affine_map(layers, fitted.x_scaler.mean, fitted.x_scaler.std, fitted.y_scaler.mean, fitted.y_scaler.std).weights
    values = mlpfit.load(linear_run.run_dir).sensitivity()["x1 + x2"]
    np.testing.assert_allclose([values["x1"], values["x2"]], np.abs(W[0]), rtol=1e-5)
    assert not np.allclose(fitted.x_scaler.std, fitted.y_scaler.std, rtol=0.1)  # scaled units would differ


def test_explain_json_has_sensitivity_per_output_per_input(curve_run, cli):
    result = cli("explain", curve_run.run_dir, "--json")
    assert result.code == 0, result.err
    values = result.json()["sensitivity"]
    assert list(values) == curve_run.summary["outputs"] and all(list(v) == ["x"] for v in values.values())
    text = cli("explain", curve_run.run_dir).out
    assert "sensitivity, mean |∂output/∂input|" in text and "sin(x): x " in text


def test_sensitivity_png_is_drawn_listed_and_shown(wide_run):
    path = os.path.join(wide_run.run_dir, "sensitivity.png")
    assert_not_blank(path)
    manifest = json.load(open(os.path.join(wide_run.run_dir, "manifest.json")))
    assert "sensitivity.png" in manifest["derived"]
    assert 'alt="sensitivity.png"' in open(os.path.join(wide_run.run_dir, "report.html"), encoding="utf-8").read()


def test_image_runs_get_a_gradient_picture_per_class(digits_run):
    assert_not_blank(os.path.join(digits_run.run_dir, "sensitivity.png"))
    run = mlpfit.load(digits_run.run_dir)
    X = sensitivity.sample_rows(run.samples, 300)
    pictures, counts = sensitivity.class_pictures(run.fitted, X)
    assert pictures.shape == (10, 64) and counts.sum() == 300 and np.abs(pictures).max() > 0
    values = run.sensitivity()
    assert list(values) == [sensitivity.PREDICTED] and len(values[sensitivity.PREDICTED]) == 64


def test_a_run_without_a_sample_has_no_sensitivity(curve_run, tmp_path):
    assert sensitivity.sensitivities(curve_run.fitted, None) is None
    assert sensitivity.write(str(tmp_path), curve_run.summary, curve_run.fitted, None) == []



def test_a_binned_columns_partial_dependence_moves_its_bins_with_its_value(tmp_path):
    """A regression table's number has bin inputs beside its value: the curve must set them from the value."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.exponential(40, 400), "mix": rng.uniform(0, 1, 400),
                          "kind": rng.choice(["a", "b"], 400)})
    frame["strength"] = np.log1p(frame["age"]) + frame["mix"] + (frame["kind"] == "b") + rng.normal(0, 0.1, 400)
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = mlpfit.fit(str(tmp_path / "t.csv"), target="strength", epochs=5, threads=1, plots=False)
    encoding = result.fitted.encoding
    coding = encoding.columns[0]
    assert coding.name == "age" and len(coding.edges) == 400 // BIN_ROWS + 1
    rows = frame.drop(columns=["strength"]).head(20)
    X = rows_from_frame(rows, encoding).X
    ages = np.array([1.0, 30.0, 150.0])
    curve = sensitivity.partial_dependence(result.fitted, X, result.fitted.inputs.index("age"),
                                           squashed(ages, coding.center, coding.spread))
    for age, mean in zip(ages, curve[:, 0]):
        moved = rows_from_frame(rows.assign(age=age), encoding).X
        assert mean == pytest.approx(result.fitted.predict(moved)[:, 0].mean(), rel=1e-6)


def test_a_panel_of_many_classes_draws_those_the_column_moves_most():
    from mlpfit.report.sensitivity import PD_CURVES, moving_most

    grid = np.linspace(0, 1, 11)[:, None]
    spans = np.array([0.01, 0.3, 0.0, 0.2, 0.05, 0.5, 0.02, 0.4, 0.03, 0.1, 0.25, 0.0])
    curves = 0.05 + grid * spans  # [grid, 12 classes], class k rising by spans[k]
    assert moving_most(curves) == [1, 3, 5, 7, 9, 10]  # the six largest spans, in the classes' order
    assert len(moving_most(curves)) == PD_CURVES
    assert moving_most(curves[:, :4]) == [0, 1, 2, 3]  # a few: all of them
    curves[:, 5] = np.nan  # a diverged class is never preferred
    assert 5 not in moving_most(curves)
