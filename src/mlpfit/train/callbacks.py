"""Callbacks: small objects the loop calls with a flat ``logs`` dict after every epoch.

A callback asks the loop to stop by setting ``loop.stop_training``; it never raises to do so.
"""

from __future__ import annotations

import math


class Callback:
    def on_train_begin(self, loop) -> None:
        pass

    def on_epoch_end(self, loop, logs: dict) -> None:
        pass

    def on_train_end(self, loop) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when the validation score has not improved for ``patience`` epochs; keep the best weights.

    The score is validation loss, or for classification the validation error rate: cross-entropy
    starts rising on a confident net while its accuracy is still improving, and accuracy is what
    the user asked for. On small validation sets many epochs tie on error rate; validation loss
    breaks the tie, so the first lucky epoch of an undertrained net is not the one kept.
    """

    def __init__(self, patience: int, min_relative_improvement: float = 1e-4, monitor: str = "val_loss"):
        self.patience = patience
        self.monitor = monitor  # "val_loss", or "val_error" (1 - val_accuracy)
        self.min_relative_improvement = min_relative_improvement  # ignore improvements below noise
        self.best = math.inf
        self.best_loss = math.inf  # validation loss at the best epoch: the tie-breaker for "val_error"
        self.best_epoch = None
        self.best_state = None
        self.wait = 0

    def on_epoch_end(self, loop, logs):
        loss = 1 - logs["val_accuracy"] if self.monitor == "val_error" else logs["val_loss"]
        if not math.isfinite(loss):
            return
        if self._improved(loss, logs["val_loss"]) or self.best_state is None:
            self.best, self.best_loss, self.best_epoch, self.wait = loss, logs["val_loss"], logs["epoch"], 0
            self.best_state = {k: v.detach().clone() for k, v in loop.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                loop.stop_training = True
                loop.history.stopped_early = True

    def _improved(self, score: float, val_loss: float) -> bool:
        if score < self.best * (1 - self.min_relative_improvement):
            return True
        tied = self.monitor == "val_error" and score <= self.best
        return tied and val_loss < self.best_loss * (1 - self.min_relative_improvement)

    def on_train_end(self, loop):
        if self.best_state is not None:
            loop.model.load_state_dict(self.best_state)
            loop.history.best_epoch = self.best_epoch


class DivergenceGuard(Callback):
    """Stop on a NaN/inf loss or one that grew 1,000-fold over its start: the lr is too large."""

    def __init__(self, factor: float = 1e3):
        self.factor = factor
        self.first = None

    def on_epoch_end(self, loop, logs):
        loss = logs["train_loss"]
        if self.first is None and math.isfinite(loss):
            self.first = max(loss, 1e-12)
        exploded = self.first is not None and loss > self.factor * self.first and loss > 10
        if not math.isfinite(loss) or not math.isfinite(logs["val_loss"]) or exploded:
            loop.stop_training = True
            loop.history.diverged = True
            loop.history.diverged_at = logs["epoch"]
