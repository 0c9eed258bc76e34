"""The pitfall checks: each finding has a code, a message about this run, and a hint to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Diagnostic:
    code: str  # stable identifier, e.g. "diverged"
    message: str  # what is wrong with this run, with its numbers
    hint: str  # what to do about it
    severity: str = "warning"  # "error" when the model is not usable

    def to_dict(self) -> dict:
        return asdict(self)


def suggest_lr(lr: float) -> float:
    """A learning rate a decade below the one that failed, rounded to a readable value."""
    return float(f"{lr / 10:.0e}")


def divergence(history, lr: float, optimizer: str) -> Diagnostic | None:
    if not history.diverged:
        return None
    return Diagnostic(
        "diverged",
        f"training diverged at epoch {history.diverged_at}: the loss became NaN, inf or exploded "
        f"with --lr {lr:g} ({optimizer})",
        f"use a smaller learning rate, e.g. --lr {suggest_lr(lr):g}",
        severity="error",
    )


def after_training(*, history, config) -> list[Diagnostic]:
    checks = [divergence(history, config.train.lr, config.train.optimizer)]
    return [d for d in checks if d is not None]
