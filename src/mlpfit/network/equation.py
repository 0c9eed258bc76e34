"""A network without nonlinearity is an affine map: read it back as an equation in original units.

With x' = (x - mx) / sx and y = y' * sy + my, a linear net y' = W x' + b gives
y = (sy * W / sx) x + (my + sy * (b - W @ (mx / sx))). Identity activations between layers
collapse by multiplying the layers' matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class AffineMap:
    weights: np.ndarray  # [outputs, inputs], original units
    bias: np.ndarray  # [outputs]


def is_linear(sizes: list[int], activation: str, output_activation: str) -> bool:
    """True when the whole network computes an affine function of its inputs."""
    return output_activation == "identity" and (len(sizes) == 2 or activation == "identity")


def collapse(layers: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Compose Linear layers [(W, b), ...] (W as [out, in]) into one (W, b)."""
    W, b = layers[0]
    for W_next, b_next in layers[1:]:
        W, b = W_next @ W, W_next @ b + b_next
    return W, b


def affine_map(layers, x_mean, x_std, y_mean, y_std) -> AffineMap:
    W, b = collapse([(np.asarray(w, dtype=np.float64), np.asarray(c, dtype=np.float64)) for w, c in layers])
    x_mean, x_std = np.asarray(x_mean, np.float64), np.asarray(x_std, np.float64)
    y_mean, y_std = np.asarray(y_mean, np.float64), np.asarray(y_std, np.float64)
    weights = y_std[:, None] * W / x_std[None, :]
    bias = y_mean + y_std * (b - W @ (x_mean / x_std))
    return AffineMap(weights, bias)


def format_equation(output: str, inputs: list[str], weights: np.ndarray, bias: float, digits: int = 4) -> str:
    """``y = 1.0000·x1 + 1.0000·x2 + 0.0000``: terms in input order, signs folded in."""
    # Round first (and add 0.0 to drop a negative zero) so a bias of -3e-9 reads "+ 0.0000".
    weights = [round(float(w), digits) + 0.0 for w in weights]
    bias = round(float(bias), digits) + 0.0
    text = f"{output} ="
    for k, (name, w) in enumerate(zip(inputs, weights)):
        sign = "-" if w < 0 else "+"
        text += f" {'-' if w < 0 else ''}{abs(w):.{digits}f}·{name}" if k == 0 else f" {sign} {abs(w):.{digits}f}·{name}"
    sign = "-" if bias < 0 else "+"
    return text + (f" {sign} {abs(bias):.{digits}f}" if inputs else f" {bias:.{digits}f}")


def member_maps(fitted) -> list[AffineMap] | None:
    """Each member's affine map in original units for a linear regression model (one for a single fit), else None."""
    net = fitted
    if net.task != "regress" or not is_linear(net.sizes, net.activation, net.output_activation):
        return None
    x, y = net.x_scaler, net.y_scaler
    return [affine_map(linear_layers(net.member(k)), x.mean, x.std, y.mean, y.std) for k in range(net.members)]


def linear_layers(net) -> list[tuple[np.ndarray, np.ndarray]]:
    """A single network's layers as (W [out, in], b) pairs in float64."""
    return [(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in zip(net.weights, net.biases)]


def equations(fitted) -> list[str] | None:
    """One equation per output for a linear regression model, else None.

    An ensemble's mean prediction is the mean of its members' affine maps, itself affine: its
    coefficients are the members' mean coefficients.
    """
    maps = member_maps(fitted)
    if maps is None:
        return None
    weights = np.mean([m.weights for m in maps], axis=0)
    bias = np.mean([m.bias for m in maps], axis=0)
    names = output_labels(fitted.outputs, fitted.inputs)
    return [format_equation(names[k], fitted.inputs, weights[k], bias[k]) for k in range(len(fitted.outputs))]


OUTPUT_LETTERS = ("y", "f", "g", "out")  # short names for a formula's outputs, the first that is no input's name


def output_labels(outputs, inputs) -> list[str]:
    """A name per output for an equation's left side: a column name as it is, a formula's output (``x**2 + y``)
    as y (or y1, y2, ...), or f, g, out when an input is named so (``y ≈ -2*y`` would read as an identity)."""
    taken = set(inputs)
    for letter in OUTPUT_LETTERS:
        short = [letter] if len(outputs) == 1 else [f"{letter}{k + 1}" for k in range(len(outputs))]
        if not taken & set(short):
            break
    else:
        short = [f"output_{k + 1}" for k in range(len(outputs))]
    return [o if o.isidentifier() and o not in taken else short[k] for k, o in enumerate(outputs)]


def coefficient_spread(fitted) -> list[dict] | None:
    """For a linear ensemble: the standard deviation over members of each coefficient, per output."""
    maps = member_maps(fitted)
    if maps is None or len(maps) < 2:
        return None
    weights = np.std([m.weights for m in maps], axis=0)
    bias = np.std([m.bias for m in maps], axis=0)
    return [{"output": out, "weights": dict(zip(fitted.inputs, map(float, weights[k]))), "bias": float(bias[k])}
            for k, out in enumerate(fitted.outputs)]
