"""A multilayer perceptron in matrix form: forward, backward, and the loss.

The lesson (seed 002) wrote a 1-5-1 network neuron by neuron: h_i = σ(w_i·x + b_i), then
ŷ = Σ a_i·h_i. Stack the five w_i into a column and the a_i into a row and the same net is two
matrix products. For a batch X of n rows, layer l computes

    z_l = h_{l-1} · W_lᵀ + b_l        (n, out)  — every neuron of the layer at once
    h_l = f(z_l)                      (n, out)  — the activation, element by element

with h_0 = X. Backpropagation walks the same layers in reverse with the chain rule.

Parameters live in a plain dict named like torch's ``nn.Sequential`` of Linear layers
("layers.0.weight" of shape [out, in], "layers.0.bias" of shape [out], ...), so weights saved by
this engine load into the torch model and back.
"""
import numpy as np

from mlpfit.errors import UsageError
from mlpfit.scratch.activations import get_activation


def weight_name(i):
    return f"layers.{i}.weight"


def bias_name(i):
    return f"layers.{i}.bias"


def num_layers(params):
    """How many Linear layers the parameter dict holds."""
    return sum(1 for key in params if key.endswith(".weight"))


def init_params(sizes, rng):
    """Random parameters for a net with layer widths ``sizes`` = [in, hidden..., out].

    PyTorch's default for nn.Linear: weight and bias both uniform in ±1/sqrt(fan_in), so a
    neuron's pre-activation starts with about the same spread whatever its number of inputs.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s <= 0 for s in sizes):
        raise UsageError(f"layer sizes must be at least [in, out], all > 0, got {sizes}")
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / np.sqrt(fan_in)
        params[weight_name(i)] = rng.uniform(-bound, bound, size=(fan_out, fan_in))
        params[bias_name(i)] = rng.uniform(-bound, bound, size=(fan_out,))
    return params


def forward(params, x, activation="tanh", output_activation="identity"):
    """Run the batch ``x`` [n, in] through the net; return (y [n, out], cache for backward).

    Hidden layers use ``activation``, the last layer ``output_activation``. The cache keeps every
    layer's input h_{l-1} and pre-activation z_l: the backward pass needs exactly those.
    """
    x = np.asarray(x, dtype=np.float64)
    count = num_layers(params)
    h = x
    inputs, pre_activations, derivatives = [], [], []
    for i in range(count):
        f, df = get_activation(output_activation if i == count - 1 else activation)
        z = h @ params[weight_name(i)].T + params[bias_name(i)]  # z = h·Wᵀ + b, b broadcast over rows
        inputs.append(h)
        pre_activations.append(z)
        derivatives.append(df)
        h = f(z)
    cache = {"inputs": inputs, "pre_activations": pre_activations, "derivatives": derivatives}
    return h, cache


def backward(params, cache, dloss_dy):
    """Gradients of the loss with respect to every parameter, by the chain rule.

    ``dloss_dy`` is dL/dy [n, out], from the loss. Going back one layer at a time, with
    delta_l = dL/dz_l (the error at a layer's pre-activation):

        delta_l   = dL/dh_l ⊙ f'(z_l)       the activation is element-wise, so is its chain rule
        dL/dW_l   = delta_lᵀ · h_{l-1}      z = h·Wᵀ + b: each w_jk meets input k of every row
        dL/db_l   = Σ_rows delta_l          the bias is added to every row, so its gradients add
        dL/dh_l-1 = delta_l · W_l           the error handed to the layer below

    The returned dict has the same keys and shapes as ``params``.
    """
    grads = {}
    dloss_dh = np.asarray(dloss_dy, dtype=np.float64)  # the last layer's output h is y
    for i in reversed(range(num_layers(params))):
        z = cache["pre_activations"][i]
        h_prev = cache["inputs"][i]
        df = cache["derivatives"][i]
        delta = dloss_dh * df(z)  # dL/dz = dL/dh · dh/dz
        grads[weight_name(i)] = delta.T @ h_prev  # dL/dW = deltaᵀ · h_prev   [out, in]
        grads[bias_name(i)] = delta.sum(axis=0)  # dL/db = Σ over the batch  [out]
        dloss_dh = delta @ params[weight_name(i)]  # dL/dh_prev = delta · W   [n, in]
    # Return them in the same order as params (first layer first), like a state dict.
    return {key: grads[key] for key in params}


def mse_loss(y, t):
    """Mean squared error over every element, and its gradient dL/dy.

    L = (1/N) Σ (y - t)², N = number of elements (torch's MSELoss, reduction "mean").
    dL/dy = 2 (y - t) / N: each prediction pulls on the loss in proportion to its error.
    """
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64).reshape(y.shape)
    diff = y - t
    loss = float(np.mean(diff * diff))
    return loss, 2.0 * diff / diff.size
