"""A fitted mlpfit model in scikit-learn's terms: ``coefs_``/``intercepts_`` and the validation scores.

mlpfit trains on standardized inputs (and regression targets); scikit-learn's MLP has no scaler,
and its ``coefs_`` act on the raw inputs. So the scalers are folded into the first and last layer
here: ``(x - m) / s @ W + b`` is ``x @ (W / s) + (b - (m / s) @ W)``, and a target scaler
``y = z·σ + μ`` multiplies the last layer by σ and adds μ to its bias. Then a plain NumPy forward
pass over ``coefs_`` reproduces ``predict`` (regression) or the logits (classification). The
target scaler can be folded only through an identity output activation; with another one the
last layer's output is still in scaled units (``fitted_.y_scaler`` undoes it).
"""

from __future__ import annotations

import numpy as np


def layer_weights(fitted) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The network's weights as scikit-learn lays them out: ``W [in, out]`` and ``b [out]`` per layer
    (``[K, in, out]`` and ``[K, out]`` for an ensemble of K members), scalers folded in.
    ``fitted``: the trained :class:`mlpfit.network.Network`."""
    net = fitted
    coefs = [np.asarray(w, dtype=np.float64).swapaxes(-1, -2).copy() for w in net.weights]
    intercepts = [np.array(b, dtype=np.float64) for b in net.biases]
    fold_inputs(coefs, intercepts, net.x_scaler.mean, net.x_scaler.std)
    y_scaler = net.y_scaler
    if y_scaler is not None and not y_scaler.is_identity and net.output_activation == "identity":
        coefs[-1] = coefs[-1] * y_scaler.std
        intercepts[-1] = intercepts[-1] * y_scaler.std + y_scaler.mean
    return coefs, intercepts


def fold_inputs(coefs: list[np.ndarray], intercepts: list[np.ndarray], mean: np.ndarray, std: np.ndarray) -> None:
    """Make the first layer take raw inputs: divide its rows by the inputs' std, shift its bias by the mean."""
    first = coefs[0] / std[:, None]
    intercepts[0] = intercepts[0] - np.einsum("i,...io->...o", mean, first)
    coefs[0] = first


def validation_scores(history, task: str, loss: str, val_targets: np.ndarray | None) -> list[float] | None:
    """scikit-learn's per-epoch validation score: accuracy for classes; R² for regression by MSE,
    ``1 - MSE / variance`` of the scaled validation targets (pooled over outputs); None otherwise."""
    if task == "classify":
        return [float(v) for v in history.column("val_accuracy")]
    if loss != "mse" or val_targets is None or len(val_targets) < 2:
        return None
    variance = float(np.var(val_targets, axis=0).mean())
    if variance <= 0:
        return None
    return [1.0 - float(v) / variance for v in history.column("val_loss")]

