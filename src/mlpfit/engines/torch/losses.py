"""Loss functions by name. Regression losses compare scaled outputs; cross_entropy takes logits;
bce takes one logit per 0/1 target column (multilabel: one independent yes/no per column); poisson
one log-rate per count column (exp(y) - t·y).

Every loss takes optional per-row weights: the loss is then the weighted mean over rows,
Σ wᵢ·lossᵢ / Σ wᵢ (scikit-learn's ``sample_weight``), so a row of weight 0 has no influence and a
row of weight 2 counts as two copies of it.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

LOSSES = {
    "mse": F.mse_loss,
    "mae": F.l1_loss,
    "huber": F.huber_loss,
    "cross_entropy": F.cross_entropy,
    "bce": F.binary_cross_entropy_with_logits,
    "poisson": F.poisson_nll_loss,  # log_input=True by default: the output is the log of the rate
}


def row_losses(name: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The loss of each row, ``[..., N]``: averaged over the outputs (one value per row for classes)."""
    if name == "cross_entropy":
        return F.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), target.reshape(-1),
                               reduction="none").view(prediction.shape[:-1])
    return LOSSES[name](prediction, target.to(prediction.dtype).expand_as(prediction), reduction="none").mean(-1)


def batch_loss(name: str, prediction: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None):
    """Mean loss of a batch; with ``weight`` [N] the weighted mean (0 when every weight is 0)."""
    if weight is None:
        return LOSSES[name](prediction, target if name == "cross_entropy" else target.to(prediction.dtype))
    return (row_losses(name, prediction, target) * weight).sum() / weight.sum().clamp_min(1e-30)


def loss_sum(name: str, prediction: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None):
    """Summed (not averaged) loss, so a split's loss can be accumulated over chunks exactly."""
    if weight is not None:
        return (row_losses(name, prediction, target) * weight).sum()
    return LOSSES[name](prediction, target, reduction="sum") / (1 if name == "cross_entropy" else prediction.shape[1])


def member_loss(name: str, prediction: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None):
    """Mean loss of each of K members, ``[K]``, from ``prediction [K, N, ...]``; ``target`` is
    ``[N, ...]`` (shared by every member) or ``[K, N, ...]`` (each member's own rows); ``weight``
    likewise ``[N]`` or ``[K, N]`` (a weighted mean per member)."""
    k = prediction.shape[0]
    if name == "cross_entropy":
        target = target.expand(k, *target.shape[-1:]) if target.dim() == 1 else target
        per_row = row_losses(name, prediction, target)
    else:
        per_row = row_losses(name, prediction, target.expand_as(prediction))
    if weight is None:
        return per_row.mean(1)
    weight = weight.expand_as(per_row)
    return (per_row * weight).sum(1) / weight.sum(1).clamp_min(1e-30)


def l2_penalty(weights, alpha: float, rows) -> torch.Tensor | float:
    """scikit-learn's L2 term, 0.5·alpha·Σ‖W‖² / rows, over weight matrices (not biases).

    ``weights`` are ``[out, in]`` matrices (one model) or ``[K, out, in]`` (K members: one term
    per member, ``[K]``); ``rows`` is the batch's row count or weight sum (a number or ``[K]``).
    """
    if not alpha:
        return 0.0
    total = sum(w.pow(2).flatten(-2).sum(-1) for w in weights)
    return 0.5 * alpha * total / rows
