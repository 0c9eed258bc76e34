"""Loss functions by name. Regression losses compare scaled outputs; cross_entropy takes logits."""

from __future__ import annotations

import torch
from torch.nn import functional as F

LOSSES = {
    "mse": F.mse_loss,
    "mae": F.l1_loss,
    "huber": F.huber_loss,
    "cross_entropy": F.cross_entropy,
}


def get_loss(name: str):
    return LOSSES[name]


def loss_sum(name: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Summed (not averaged) loss, so a split's loss can be accumulated over chunks exactly."""
    return LOSSES[name](prediction, target, reduction="sum") / (1 if name == "cross_entropy" else prediction.shape[1])


def member_loss(name: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean loss of each of K members, ``[K]``, from ``prediction [K, N, ...]``; ``target`` is
    ``[N, ...]`` (shared by every member) or ``[K, N, ...]`` (each member's own rows)."""
    k = prediction.shape[0]
    if name == "cross_entropy":
        target = target.expand(k, *target.shape[-1:]) if target.dim() == 1 else target
        flat = F.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), target.reshape(-1), reduction="none")
        return flat.view(k, -1).mean(1)
    per_item = LOSSES[name](prediction, target.expand_as(prediction), reduction="none")
    return per_item.reshape(k, -1).mean(1)
