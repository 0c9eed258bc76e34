"""Bad data: NaN/inf, constant columns, a single row, enormous values — learned or refused in one line."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpfit.fitting.fit import fit
from mlpfit.config.schema import DataConfig, FitConfig, RunConfig, TrainConfig
from mlpfit.data.checks import check_dataset
from mlpfit.data.dataset import Dataset
from mlpfit.errors import DataError

SRC = Path(__file__).resolve().parents[1] / "src"


def dataset(X, Y, name="table"):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    Y = Y.reshape(len(X), 1) if Y.ndim == 1 else Y
    return Dataset(name, X, Y, [f"in{i}" for i in range(X.shape[1])], [f"out{j}" for j in range(Y.shape[1])])


def fit_dataset(data: Dataset, monkeypatch, epochs=200):
    """fit on a Dataset built here, as a table reader would hand it over (nothing saved)."""
    monkeypatch.setattr("mlpfit.fitting.fit.load_dataset", lambda config: data)
    config = FitConfig(data=DataConfig(target="table.csv"), train=TrainConfig(epochs=epochs, threads=1),
                       run=RunConfig(quiet=True))
    return fit(config, save=False)


def line_grid(n=400, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, 1))


# ---------------------------------------------------------------- NaN and inf


@pytest.mark.parametrize("where, value, column", [("X", np.nan, "in1"), ("X", np.inf, "in0"), ("Y", -np.inf, "out0"),
                                                  ("Y", np.nan, "out0")])
def test_non_finite_values_are_refused_naming_the_column(where, value, column):
    X, Y = np.ones((10, 2)), np.ones((10, 1))
    (X if where == "X" else Y)[3, int(column[-1])] = value
    with pytest.raises(DataError) as err:
        check_dataset(dataset(X, Y))
    message = str(err.value)
    assert repr(column) in message and "row 4" in message and "\n" not in message


def test_the_pipeline_refuses_nan_before_scaling(monkeypatch):
    X = line_grid()
    Y = X ** 2
    X[7, 0] = np.nan
    with pytest.raises(DataError, match="input column 'in0' holds nan"):
        fit_dataset(dataset(X, Y), monkeypatch)


def test_an_empty_dataset_is_refused():
    with pytest.raises(DataError, match="no examples"):
        check_dataset(dataset(np.zeros((0, 1)), np.zeros((0, 1))))


def test_the_cli_refuses_a_formula_that_is_not_finite_on_its_domain():
    done = mlpfit("fit", "log(x)", "--domain", "-1:1", "--samples", "100", "--out", os.devnull + "-none")
    assert done.returncode == 2 and "not finite" in done.stderr and len(done.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- constant columns


def test_a_constant_input_column_trains_and_predicts(monkeypatch):
    X = np.hstack([line_grid(), np.full((400, 1), 5.0)])
    result = fit_dataset(dataset(X, 2 * X[:, :1]), monkeypatch)
    assert result.fitted.x_scaler.std[1] == 1.0  # not 0: nothing divides by zero
    predictions = result.fitted.predict(np.array([[0.5, 5.0], [-0.5, 5.0]]))
    assert np.all(np.isfinite(predictions)) and np.allclose(predictions[:, 0], [1.0, -1.0], atol=0.1)


def test_a_constant_target_trains_and_predicts_it(monkeypatch):
    result = fit_dataset(dataset(line_grid(), np.full(400, 3.0)), monkeypatch)
    assert np.allclose(result.fitted.predict(np.array([[0.2]])), 3.0, atol=1e-3)


# ---------------------------------------------------------------- a single row


def test_a_single_row_trains_and_predicts_it(monkeypatch):
    result = fit_dataset(dataset([[0.5, -1.0]], [[2.0]]), monkeypatch)  # 200 epochs: 50 ended 0.004 off on the NumPy engine, 0.001 on torch
    assert result.summary["examples"]["train"] == 1 and not result.split.held_out
    assert np.allclose(result.fitted.predict(np.array([[0.5, -1.0]])), 2.0, atol=1e-3)


def test_the_cli_fits_a_single_sample_and_predicts(tmp_path):
    done = mlpfit("fit", "x + 1", "--samples", "1", "--epochs", "20", "--out", str(tmp_path / "one"), "-q")
    assert done.returncode == 0, done.stderr
    predicted = mlpfit("predict", str(tmp_path / "one"), "0.3")
    assert predicted.returncode == 0 and np.isfinite(float(predicted.stdout))


# ---------------------------------------------------------------- enormous values


def test_targets_near_1e30_are_scaled_and_learned(monkeypatch):
    X = line_grid()
    result = fit_dataset(dataset(X, 1e30 * X), monkeypatch)
    assert result.fitted.y_scaler.std[0] == pytest.approx(1e30 * X[result.split.train].std(), rel=1e-9)
    assert result.fitted.predict(np.array([[0.5]]))[0, 0] == pytest.approx(0.5e30, rel=0.05)


def test_values_too_large_to_scale_are_refused():
    X = line_grid(20)
    with pytest.raises(DataError, match=r"target column 'out0' holds 1e\+200.*rescale"):
        check_dataset(dataset(X, np.where(X > 0, 1e200, 1.0)))


def test_the_cli_learns_a_formula_of_size_1e30(tmp_path):
    done = mlpfit("fit", "1e30*x", "--samples", "400", "--epochs", "300", "--out", str(tmp_path / "big"), "-q")
    assert done.returncode == 0, done.stderr
    predicted = float(mlpfit("predict", str(tmp_path / "big"), "0.5").stdout)
    assert predicted == pytest.approx(0.5e30, rel=0.05)


def mlpfit(*args):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", "mlpfit", *args], capture_output=True, text=True, env=env, timeout=300)
