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


def is_classification_loss(name: str) -> bool:
    return name == "cross_entropy"


def loss_sum(name: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Summed (not averaged) loss, so a split's loss can be accumulated over chunks exactly."""
    return LOSSES[name](prediction, target, reduction="sum") / (1 if name == "cross_entropy" else prediction.shape[1])
