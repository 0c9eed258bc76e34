"""mlpfit.engines.torch.losses for the flat NumPy net: each loss's value and its gradient dL/dy, into given buffers.

Every loss is written as a per-element loss ``e`` and its derivative ``g`` with respect to the
prediction (both [n, outputs], or [K, n, outputs] for K members at once, each with its own batch);
:func:`batch_loss` then takes torch's reductions, per member: a row's loss is
the mean of its elements (regression, bce) or their sum (cross_entropy, whose targets arrive one-hot
so ``-t·log softmax`` summed over a row is the class's negative log-likelihood), and the batch's
loss the (weighted) mean of its rows, Σ wᵢ·rowᵢ / Σ wᵢ. The L2 term is added by the engine.
"""

from __future__ import annotations

import numpy as np

from mlpfit.engines.numpy.activations import sigmoid_into

HUBER_DELTA = 1.0  # torch's F.huber_loss default


def mse(y, t, g, e):
    np.subtract(y, t, out=g)
    np.multiply(g, g, out=e)
    g *= 2.0


def mae(y, t, g, e):
    np.subtract(y, t, out=g)
    np.abs(g, out=e)
    np.sign(g, out=g)  # torch's l1 backward: sign, 0 at 0


def huber(y, t, g, e):
    """0.5·d² inside ±delta, delta·(|d| - delta/2) outside, written as 0.5·min(|d|, δ)² + δ·(|d| - min(|d|, δ))."""
    np.subtract(y, t, out=g)
    np.abs(g, out=e)
    inside = np.minimum(e, HUBER_DELTA)
    e -= inside
    e *= HUBER_DELTA
    inside *= inside
    inside *= 0.5
    e += inside
    np.clip(g, -HUBER_DELTA, HUBER_DELTA, out=g)


def cross_entropy(y, t, g, e):
    """Softmax over the logits y; t one-hot. e = -t·log p (summed over a row: the row's loss), g = p - t."""
    shift = y.max(axis=-1, keepdims=True)
    np.subtract(y, shift, out=e)  # y - max: exp cannot overflow
    np.exp(e, out=g)
    total = g.sum(axis=-1, keepdims=True)
    g /= total
    g -= t
    e -= np.log(total)  # log p
    e *= t
    np.negative(e, out=e)


def bce(y, t, g, e):
    """Logistic loss of logits y against 0/1 targets t: max(y, 0) - y·t + log(1 + e^-|y|); g = σ(y) - t."""
    np.abs(y, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.log1p(e, out=e)
    np.maximum(y, 0.0, out=g)
    e += g
    np.multiply(y, t, out=g)
    e -= g
    sigmoid_into(y, g)
    g -= t


def poisson(y, t, g, e):
    """Poisson deviance of log-rates y against counts t, up to terms without y: e = exp(y) - t·y, g = exp(y) - t
    (torch's poisson_nll_loss with log_input; scikit-learn's half Poisson loss)."""
    np.exp(y, out=g)
    np.multiply(y, t, out=e)
    np.subtract(g, e, out=e)
    g -= t


LOSSES = {"mse": mse, "mae": mae, "huber": huber, "cross_entropy": cross_entropy, "bce": bce, "poisson": poisson}
ROW_SUMS = {"cross_entropy"}  # a row's loss is the sum of its elements, not their mean


def batch_loss(name: str, y, t, g, e, scale=None):
    """The batch's mean loss (a float64 array: [K] for K members, a 0-d one for one net); ``g`` becomes dL/dy.
    ``scale`` [n, 1] or [K, n, 1]: each row's weight / Σ weights (None: 1/n)."""
    rows, per_row = y.shape[-2], 1 if name in ROW_SUMS else y.shape[-1]
    if name == "mse" and scale is None:  # the common case in four calls: (y - t), (y - t)², Σ, 2(y - t)/N
        np.subtract(y, t, out=g)
        np.multiply(g, g, out=e)
        g *= 2.0 / (rows * per_row)
        return e.sum(axis=(-2, -1), dtype=np.float64) / (rows * per_row)
    LOSSES[name](y, t, g, e)
    if scale is None:
        g *= 1.0 / (rows * per_row)
        return e.sum(axis=(-2, -1), dtype=np.float64) / (rows * per_row)
    g *= scale
    if per_row != 1:
        g *= 1.0 / per_row
    return (e.sum(axis=-1, dtype=np.float64) * scale[..., 0]).sum(axis=-1) / per_row


def row_losses(name: str, y, t) -> np.ndarray:
    """Each row's loss [n] (or [K, n] for K members' outputs), float64, for evaluation."""
    g, e = np.empty_like(y), np.empty_like(y)
    LOSSES[name](y, np.broadcast_to(t, y.shape), g, e)
    rows = e.sum(axis=-1, dtype=np.float64)
    return rows if name in ROW_SUMS else rows / y.shape[-1]
