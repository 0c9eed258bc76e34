"""The flat NumPy net computes what torch's autograd and mlpfit.scratch compute: outputs, losses and
every parameter's gradient, for every activation and loss, with row weights and dropout (float64)."""

import numpy as np
import pytest
import torch

from mlpfit.engines.numpy.activations import ACTIVATIONS
from mlpfit.engines.numpy.losses import LOSSES, batch_loss, row_losses
from mlpfit.engines.numpy.net import BiasRows, FlatMLP, Layout, add_bias
from mlpfit.engines.torch import losses as torch_losses
from mlpfit.engines.torch.model import ACTIVATIONS as TORCH_ACTIVATIONS, MLP
from mlpfit.scratch.network import backward as scratch_backward, forward as scratch_forward, init_params

SIZES = [3, 6, 5, 4]
ROWS = 9


def problem(loss: str, seed: int = 0):
    """Inputs, the flat net's targets (one-hot for classes) and torch's targets (class indices for classes)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1.5, (ROWS, SIZES[0]))
    if loss == "cross_entropy":
        classes = rng.integers(0, SIZES[-1], ROWS)
        return X, np.eye(SIZES[-1])[classes], torch.as_tensor(classes)
    Y = rng.integers(0, 2, (ROWS, SIZES[-1])).astype(float) if loss == "bce" else rng.normal(0, 1, (ROWS, SIZES[-1]))
    return X, Y, torch.as_tensor(Y)


def flat_grads(net, params, X, T, loss, scale=None):
    """(loss, outputs, gradient dict) from the flat net, float64."""
    layers = net.layout.views(params)
    grad = np.zeros_like(params)
    y = net.forward(layers, X).copy()
    value = batch_loss(loss, net.last.h[-1], T, net.output_grad(), net.loss_elements(), scale)
    dy = net.output_grad().copy()
    net.backward(layers, net.layout.views(grad))
    return value, y, net.layout.to_dict(grad), dy


def torch_grads(state, activation, output_activation, X, target, loss, weight=None):
    model = MLP(SIZES, activation, output_activation).double()
    model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    y = model(torch.as_tensor(X))
    w = None if weight is None else torch.as_tensor(weight)
    value = torch_losses.batch_loss(loss, y, target, w)
    value.backward()
    return float(value.detach()), y.detach().numpy(), {k: p.grad.numpy() for k, p in model.named_parameters()}


def fresh_params(net, seed=1):
    params = np.empty(net.layout.size)
    net.layout.from_dict(init_params(SIZES, np.random.default_rng(seed)), params)
    return params * 2.0  # larger weights: the activations' curved parts are reached


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("loss", list(LOSSES))
def test_gradients_equal_torch_autograd_and_scratch(activation, loss):
    X, T, target = problem(loss)
    net = FlatMLP(SIZES, activation, "identity", dtype=np.float64)
    params = fresh_params(net)
    value, y, grads, dy = flat_grads(net, params, X, T, loss)
    state = net.layout.to_dict(params)
    torch_value, torch_y, torch_grads_ = torch_grads(state, activation, "identity", X, target, loss)
    np.testing.assert_allclose(y, torch_y, rtol=1e-12, atol=1e-12)
    assert value == pytest.approx(torch_value, rel=1e-12, abs=1e-14)
    for name, g in torch_grads_.items():
        np.testing.assert_allclose(grads[name], g, rtol=1e-10, atol=1e-12, err_msg=name)
    # scratch's readable backward, fed the same dL/dy, blames every parameter alike
    scratch_y, cache = scratch_forward(state, X, activation, "identity")
    np.testing.assert_allclose(y, scratch_y, rtol=1e-12, atol=1e-12)
    for name, g in scratch_backward(state, cache, dy).items():
        np.testing.assert_allclose(grads[name], g, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_row_weights_give_torch_weighted_mean_and_its_gradient(loss):
    X, T, target = problem(loss, seed=3)
    weight = np.random.default_rng(4).uniform(0, 3, ROWS)
    weight[2] = 0.0  # a row without influence
    net = FlatMLP(SIZES, "tanh", "sigmoid", dtype=np.float64)  # a non-identity output too
    params = fresh_params(net, seed=5)
    value, _, grads, _ = flat_grads(net, params, X, T, loss, (weight / weight.sum())[:, None])
    torch_value, _, expected = torch_grads(net.layout.to_dict(params), "tanh", "sigmoid", X, target, loss, weight)
    assert value == pytest.approx(torch_value, rel=1e-12)
    for name, g in expected.items():
        np.testing.assert_allclose(grads[name], g, rtol=1e-10, atol=1e-12, err_msg=name)
    rows = row_losses(loss, net.forward(net.layout.views(params), X), T)
    assert float((rows * weight).sum() / weight.sum()) == pytest.approx(torch_value, rel=1e-12)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_and_derivative_match_torch_across_their_branches(name):
    z = np.concatenate([np.linspace(-30, 30, 241), [0.0, 20.0, 20.5, -1e-3, 1e-3]])[None, :]
    forward, backward = ACTIVATIONS[name]
    h, tmp, tmp2 = np.empty_like(z), np.empty_like(z), np.empty_like(z)
    forward(z, h, tmp)
    output = h.copy()  # backward may overwrite h (and z): the net has used them by then
    dh = np.ones_like(z)
    backward(z.copy(), h, dh, tmp, tmp2)
    zt = torch.tensor(z, requires_grad=True)
    ht = TORCH_ACTIVATIONS[name]()(zt)
    ht.sum().backward()
    np.testing.assert_allclose(output, ht.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dh, zt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_float32_net_stays_close_to_float64():
    X, T, _ = problem("mse")
    wide, narrow = FlatMLP(SIZES, "gelu", dtype=np.float64), FlatMLP(SIZES, "gelu", dtype=np.float32)
    params = fresh_params(wide)
    _, y64, g64, _ = flat_grads(wide, params, X, T, "mse")
    _, y32, g32, _ = flat_grads(narrow, params.astype(np.float32), X.astype(np.float32), T.astype(np.float32), "mse")
    assert y32.dtype == np.float32 and all(g.dtype == np.float32 for g in g32.values())
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
    for name in g64:
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-3, atol=1e-5)


def test_dropout_masks_are_inverted_and_backward_goes_through_them():
    p = 0.25
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (2000, SIZES[0]))
    net = FlatMLP(SIZES, "tanh", dropout=p, dtype=np.float64)
    params = fresh_params(net)
    layers = net.layout.views(params)
    net.forward(layers, X, np.random.default_rng(7))
    for mask in net.last.mask:  # each unit: 0, or kept and scaled by 1/(1-p)
        assert set(np.unique(mask)) == {0.0, 1.0 / (1.0 - p)}
        assert (mask == 0).mean() == pytest.approx(p, abs=0.02)
    masks = [m.copy() for m in net.last.mask]
    T = rng.normal(0, 1, (2000, SIZES[-1]))
    batch_loss("mse", net.last.h[-1], T, net.output_grad(), net.loss_elements())
    grad = np.zeros_like(params)
    net.backward(layers, net.layout.views(grad))
    # torch, with the same masks applied where nn.functional.dropout applies them
    state = {k: torch.tensor(v, requires_grad=True) for k, v in net.layout.to_dict(params).items()}
    h = torch.as_tensor(X)
    for i in range(2):
        h = torch.tanh(h @ state[f"layers.{i}.weight"].T + state[f"layers.{i}.bias"]) * torch.as_tensor(masks[i])
    y = h @ state["layers.2.weight"].T + state["layers.2.bias"]
    torch.nn.functional.mse_loss(y, torch.as_tensor(T)).backward()
    for name, g in net.layout.to_dict(grad).items():
        np.testing.assert_allclose(g, state[name].grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
    # evaluation (no generator) drops nothing: the plain model's outputs
    model = MLP(SIZES, "tanh", dropout=p).double().eval()
    model.load_state_dict({k: torch.as_tensor(v) for k, v in net.layout.to_dict(params).items()})
    np.testing.assert_allclose(net.forward(layers, X), model(torch.as_tensor(X)).detach().numpy(), rtol=1e-12)


def test_layout_names_shapes_and_refusals():
    layout = Layout(SIZES)
    flat = np.arange(layout.size, dtype=np.float64)
    state = layout.to_dict(flat)
    assert list(state) == list(MLP(SIZES).state_dict())  # torch's names, in torch's order
    assert all(state[k].shape == tuple(v.shape) for k, v in MLP(SIZES).state_dict().items())
    again = np.zeros_like(flat)
    layout.from_dict(state, again)
    np.testing.assert_array_equal(again, flat)
    assert layout.weight_mask.sum() == sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:]))
    with pytest.raises(ValueError, match="layers.1.weight"):
        layout.from_dict({**state, "layers.1.weight": np.zeros((5, 5))}, again)
    with pytest.raises(ValueError):
        layout.from_dict({k: v for k, v in state.items() if k != "layers.0.bias"}, again)
    with pytest.raises(ValueError):
        layout.from_dict({**state, "layers.0.bias": np.array(["a"] * 6)}, again)


def test_float32_gelu_uses_a_fast_erf_within_float32_rounding_of_torch():
    from scipy.special import ndtr

    from mlpfit.engines.numpy.activations import normal_cdf_into

    z = np.linspace(-12, 12, 200_001).astype(np.float32)
    out, scratch = np.empty_like(z), np.empty_like(z)
    normal_cdf_into(z, out, scratch)
    assert np.abs(out - ndtr(z.astype(np.float64))).max() < 5e-7  # Φ; float32's spacing at 1/2 is 6e-8
    forward, backward = ACTIVATIONS["gelu"]
    h, dh, tmp, tmp2 = (np.empty_like(z) for _ in range(4))
    forward(z, h, tmp)
    dh[...] = 1.0
    backward(z, h, dh, tmp, tmp2)
    zt = torch.tensor(z, requires_grad=True)
    ht = torch.nn.functional.gelu(zt)
    ht.sum().backward()
    np.testing.assert_allclose(h, ht.detach().numpy(), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(dh, zt.grad.numpy(), rtol=2e-6, atol=2e-6)


def test_gelu_backward_at_zero_is_one_half():
    forward, backward = ACTIVATIONS["gelu"]
    for dtype in (np.float32, np.float64):
        z = np.array([[0.0, -0.0, 1.0]], dtype)
        h, dh, tmp, tmp2 = (np.empty_like(z) for _ in range(4))
        forward(z, h, tmp)
        dh[...] = 2.0
        backward(z, h, dh, tmp, tmp2)
        assert dh[0, 0] == dh[0, 1] == 1.0 and np.isfinite(dh).all()


@pytest.mark.parametrize("rows, width", [(256, 32), (400, 32), (7, 5), (9, 64), (256, 300)])
def test_bias_added_through_a_tile_is_the_broadcast_sum_bit_for_bit(rows, width):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1, (3, rows, width)).astype(np.float32)
    bias = rng.normal(0, 1, (3, width + 4)).astype(np.float32)[:, 2 : 2 + width]  # a strided view, as in the flat buffer
    expected = z + bias[:, None, :]
    add_bias(z, bias, BiasRows.fitting(z))
    np.testing.assert_array_equal(z, expected)
