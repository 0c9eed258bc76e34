"""What the report asks of a network beyond its predictions, in NumPy: every hidden layer's outputs,
and the gradient of the output with respect to the inputs.

Autograd is not needed for an MLP: the chain rule runs back through the layers by hand. With
z_i = h_{i-1}·W_iᵀ + b_i and h_i = f(z_i), a vector g = ∂target/∂h_i becomes ∂target/∂h_{i-1} =
(g ⊙ f'(z_i))·W_i. Each seed g at the output gives one row of the Jacobian, as one
``torch.autograd.grad`` call does. Stacked members ``[K, out, in]`` run the same lines batched;
their mean's gradient is the mean of theirs. Everything runs in float64 (float32 weights are cast
up), so the numbers agree with torch's to the weights' own precision.
"""

from __future__ import annotations

import numpy as np

from mlpfit.network.network import Network, forward_layers, softmax
from mlpfit.scratch.activations import get_activation


def hidden_outputs(net: Network, scaled: np.ndarray) -> list[np.ndarray]:
    """Every hidden layer's activations ``[n, units]`` (``[K, n, units]`` stacked) for scaled inputs."""
    return forward_layers(net, scaled)[1][:-1]


def backward_to_inputs(net: Network, pre: list[np.ndarray], seed: np.ndarray) -> np.ndarray:
    """``seed`` = ∂target/∂(network output) ``[..., n, outputs]`` carried back to ∂target/∂(scaled input)."""
    _, hidden_slope = get_activation(net.activation)
    _, last_slope = get_activation(net.output_activation)
    g = seed * last_slope(pre[-1])
    with np.errstate(all="ignore"):
        for i in range(len(net.weights) - 1, -1, -1):
            g = g @ net.weights[i].astype(np.float64)  # [..., n, out] @ [..., out, in]
            if i:
                g = g * hidden_slope(pre[i - 1])
    return g


def input_gradients(net: Network, X: np.ndarray) -> np.ndarray:
    """∂output/∂input per row in ORIGINAL units: ``[rows, outputs, inputs]``.

    Regression: every output (the network's output through the target scaler, no link). Classification:
    one output, the probability of the class the model predicts at each row. Ensembles: of the members'
    mean (mean outputs for regression, mean probabilities for classification).
    """
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    pre, post = forward_layers(net, net.x_scaler.transform(X))
    out = post[-1]
    share = 1.0 / net.members  # each member's part of the mean
    if net.task == "classify":
        seeds, y_std = [predicted_class_seed(out, net.stacked) * share], np.ones(1)
    else:
        seeds, y_std = [np.eye(out.shape[-1])[k] * share * np.ones_like(out) for k in range(out.shape[-1])], net.y_scaler.std
    rows = []
    for k, seed in enumerate(seeds):
        grad = backward_to_inputs(net, pre, seed)
        rows.append((grad.sum(axis=0) if net.stacked else grad) * y_std[k] / net.x_scaler.std)
    return np.stack(rows, axis=1)


def predicted_class_seed(logits: np.ndarray, stacked: bool) -> np.ndarray:
    """∂p_c/∂logits for each row's predicted class c (argmax of the mean probabilities):
    p_c (onehot_c − p), per member for stacked logits."""
    p = softmax(logits)
    mean = p.mean(axis=0) if stacked else p
    onehot = np.eye(p.shape[-1])[mean.argmax(axis=-1)]  # [n, classes]
    p_c = (p * onehot).sum(axis=-1, keepdims=True)
    return p_c * (onehot - p)
