"""network.gradient: hidden outputs and input gradients in NumPy equal torch's forward pass and autograd on the
same weights, and `mlpfit report` / `mlpfit explain` never import torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from mlpfit.data.scaling import Standardizer
from mlpfit.engines.torch.model import MLP
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.network.gradient import hidden_outputs, input_gradients
from mlpfit.scratch.activations import ACTIVATIONS
from torch_reference import network_of, torch_module

HIDDEN = [name for name in ACTIVATIONS if name != "identity"] + ["identity"]


def torch_gradients(fitted, X: np.ndarray) -> np.ndarray:
    """The oracle: what report.sensitivity computed with autograd before it moved to NumPy, on a torch
    module loaded with the network's weights."""
    model = torch_module(fitted)
    dtype = next(model.parameters()).dtype
    scaled = torch.as_tensor(fitted.x_scaler.transform(X), dtype=dtype).requires_grad_(True)
    out = model(scaled)
    stacked = out.dim() == 3
    if fitted.task == "classify":
        probabilities = torch.softmax(out, dim=-1)
        out = probabilities.mean(0) if stacked else probabilities
        picked = out.gather(1, out.argmax(1, keepdim=True))
        targets, y_std = [picked[:, 0]], np.ones(1)
    else:
        out = out.mean(0) if stacked else out
        targets, y_std = [out[:, k] for k in range(out.shape[1])], fitted.y_scaler.std
    rows = []
    for k, target in enumerate(targets):
        (grad,) = torch.autograd.grad(target.sum(), scaled, retain_graph=k < len(targets) - 1)
        rows.append(grad.double().numpy() * y_std[k] / fitted.x_scaler.std)
    return np.stack(rows, axis=1)


def scalers(inputs: int, outputs: int, rng):
    x = Standardizer(rng.uniform(-2, 2, inputs), rng.uniform(0.3, 4.0, inputs))
    y = Standardizer(rng.uniform(-2, 2, outputs), rng.uniform(0.3, 4.0, outputs))
    return x, y  # not the identity: the original-units chain rule shows


def module(sizes, activation, members=1, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    if members == 1:
        return MLP(sizes, activation).to(dtype)
    return EnsembleMLP(sizes, activation, seeds=list(range(members))).to(dtype)


def regressor(sizes, activation, members=1, dtype=torch.float64, seed=0):
    rng = np.random.default_rng(seed)
    x, y = scalers(sizes[0], sizes[-1], rng)
    names = [f"x{i}" for i in range(sizes[0])], [f"y{k}" for k in range(sizes[-1])]
    return network_of(module(sizes, activation, members, dtype, seed), x, y, *names)


def classifier(sizes, activation, members=1, dtype=torch.float64, seed=0):
    rng = np.random.default_rng(seed)
    x, _ = scalers(sizes[0], sizes[-1], rng)
    model = module(sizes, activation, members, dtype, seed)
    with torch.no_grad():  # larger logits than a fresh init gives, so the probabilities are not all alike
        for p in model.parameters():
            p.mul_(3.0)
    return network_of(model, x, None, [f"x{i}" for i in range(sizes[0])], ["label"], task="classify",
                      classes=list(range(sizes[-1])))


def rows(inputs: int, n: int = 25, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-4, 4, (n, inputs))


@pytest.mark.parametrize("activation", HIDDEN)
def test_regression_gradients_equal_autograd(activation):
    fitted = regressor([3, 7, 5, 2], activation)
    X = rows(3)
    np.testing.assert_allclose(input_gradients(fitted, X), torch_gradients(fitted, X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu", "softplus"])
def test_an_ensembles_gradient_is_its_mean_prediction_s(activation):
    fitted = regressor([2, 6, 6, 3], activation, members=4)
    X = rows(2)
    found = input_gradients(fitted, X)
    assert found.shape == (25, 3, 2)
    np.testing.assert_allclose(found, torch_gradients(fitted, X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("members", [1, 3])
@pytest.mark.parametrize("activation", ["sigmoid", "elu", "silu", "leaky_relu"])
def test_classification_gradients_are_the_predicted_class_probability_s(activation, members):
    fitted = classifier([4, 9, 5], activation, members)
    X = rows(4, 40)
    found = input_gradients(fitted, X)
    assert found.shape == (40, 1, 4) and np.abs(found).max() > 1e-3
    np.testing.assert_allclose(found, torch_gradients(fitted, X), rtol=1e-8, atol=1e-12)


def test_image_sized_float32_classifier_matches_to_float32_precision():
    fitted = classifier([64, 32, 10], "relu", dtype=torch.float32, seed=3)
    assert fitted.weights[0].dtype == np.float32
    X = np.random.default_rng(2).uniform(0, 16, (50, 64))  # an 8x8 image's pixel range
    expected = torch_gradients(fitted, X)
    np.testing.assert_allclose(input_gradients(fitted, X), expected, rtol=1e-3,
                               atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("activation", ["tanh", "gelu", "relu", "sigmoid", "elu"])
def test_hidden_outputs_equal_the_torch_forward_pass(activation):
    fitted = regressor([2, 6, 4, 1], activation)
    scaled = fitted.x_scaler.transform(rows(2))
    model, expected, x = torch_module(fitted), [], torch.as_tensor(scaled)
    with torch.no_grad():
        for layer in model.layers[:-1]:
            x = model.activation(layer(x))
            expected.append(x.numpy())
    found = hidden_outputs(fitted, scaled)
    assert [h.shape for h in found] == [(25, 6), (25, 4)]
    for a, b in zip(found, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_stacked_hidden_outputs_are_each_members():
    net = regressor([2, 5, 1], "tanh", members=3)
    model = torch_module(net)
    scaled = net.x_scaler.transform(rows(2))
    (stacked,) = hidden_outputs(net, scaled)
    assert stacked.shape == (3, 25, 5) and net.members == 3 and net.sizes == [2, 5, 1]
    for k in range(3):
        member = model.member(k).double()
        with torch.no_grad():
            expected = member.activation(member.layers[0](torch.as_tensor(scaled))).numpy()
        np.testing.assert_allclose(hidden_outputs(net.member(k), scaled)[0], expected, rtol=1e-12)
        np.testing.assert_allclose(stacked[k], expected, rtol=1e-12)
    assert net.parameter_count == model.parameter_count


# ---------------------------------------------------------------- report and explain without torch

NO_TORCH = """
import sys
from mlpfit.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    assert not stop.code, stop.code
loaded = sorted(name for name in sys.modules if name == "torch" or name.startswith("torch."))
print("TORCH MODULES:", loaded)
"""


def run_without_torch(*argv: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", NO_TORCH, *argv], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("which", ["surface_run", "digits_run"])
def test_report_and_explain_never_import_torch(which, request):
    run_dir = request.getfixturevalue(which).run_dir
    page = os.path.join(run_dir, "report.html")
    before = os.stat(page).st_mtime_ns
    out = run_without_torch("report", run_dir)
    assert "TORCH MODULES: []" in out and os.stat(page).st_mtime_ns != before  # redrawn, torch-free
    out = run_without_torch("explain", run_dir, "--json")
    assert "TORCH MODULES: []" in out
    info = json.loads(out[: out.index("TORCH MODULES:")])
    assert info["sensitivity"] and info["parameters"] > 0
