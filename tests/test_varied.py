"""mlpfit.network.varied: copies of rows with a few inputs changed predict what the network predicts for those
rows built in full, for single nets and stacked members, values and classes, deep and one-layer nets."""

from __future__ import annotations

import numpy as np
import pytest

from mlpfit.data.scaling import Standardizer
from mlpfit.network.network import Network
from mlpfit.network.varied import Varied


def _network(sizes, members=None, task="regress", link="identity", activation="relu", dtype=np.float32):
    rng = np.random.default_rng(len(sizes) + (members or 0))
    lead = () if members is None else (members,)
    weights = [rng.normal(0, 1 / np.sqrt(a), lead + (b, a)).astype(dtype) for a, b in zip(sizes, sizes[1:])]
    biases = [rng.normal(0, 0.1, lead + (b,)).astype(dtype) for b in sizes[1:]]
    inputs = sizes[0]
    x_scaler = Standardizer(rng.normal(0, 3, inputs), rng.uniform(0.5, 4, inputs))
    regress = task == "regress"
    return Network(weights, biases, activation, "identity", x_scaler,
                   Standardizer(np.array([100.0] * sizes[-1]), np.array([20.0] * sizes[-1])) if regress else None,
                   [f"x{i}" for i in range(inputs)], [f"y{i}" for i in range(sizes[-1])] if regress else ["class"],
                   task, None if regress else [f"c{i}" for i in range(sizes[-1])], None, link)


def _in_full(net, X, positions, values):
    copies = np.repeat(X[None], len(values), axis=0)
    copies[:, :, positions] = values
    flat = copies.reshape(-1, X.shape[1])
    predicted = net.predict_proba(flat) if net.task == "classify" else net.predict(flat)
    return predicted.reshape(len(values), len(X), -1)


CASES = {
    "single regression": dict(sizes=[7, 16, 16, 2]),
    "members with a logistic link": dict(sizes=[7, 16, 16, 1], members=3, link="logistic"),
    "member classes": dict(sizes=[7, 12, 4], members=2, task="classify", activation="tanh"),
    "single classes": dict(sizes=[7, 12, 12, 3], task="classify", activation="gelu"),
    "one linear layer": dict(sizes=[7, 1]),
    "float64 members": dict(sizes=[7, 8, 1], members=4, dtype=np.float64),
}


@pytest.mark.parametrize("case", CASES)
def test_changed_inputs_predict_as_the_rows_built_in_full(case):
    net = _network(**CASES[case])
    rng = np.random.default_rng(0)
    X = rng.normal(0, 3, (40, 7))
    positions = [2, 5]
    values = rng.normal(0, 3, (6, 40, 2))  # each copy's own values per row, as shuffled columns are
    got = Varied(net, X).predictions(positions, values)
    tolerance = 1e-4 if net.weights[0].dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, _in_full(net, X, positions, values), rtol=tolerance, atol=tolerance * 100)


def test_one_value_per_copy_reaches_every_row():
    net = _network([5, 8, 8, 1], members=2)
    X = np.random.default_rng(1).normal(size=(30, 5))
    grid = np.linspace(-4, 4, 9)[:, None, None]  # [copies, 1, 1]: a partial dependence curve's grid
    got = Varied(net, X).predictions([3], grid)
    np.testing.assert_allclose(got, _in_full(net, X, [3], np.broadcast_to(grid, (9, 30, 1))), rtol=1e-4, atol=1e-2)


def test_unchanged_values_give_the_plain_prediction():
    net = _network([6, 10, 10, 3], members=3, task="classify")
    X = np.random.default_rng(2).normal(size=(25, 6))
    same = Varied(net, X).predictions([0, 4], X[None][:, :, [0, 4]])[0]
    np.testing.assert_allclose(same, net.predict_proba(X), atol=1e-6)
