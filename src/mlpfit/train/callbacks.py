"""Callbacks: small objects the trainer calls with a flat ``logs`` dict after every epoch.

Each rule is written once and holds per member (K = 1 for a single fit): a callback reads the
``member_*`` arrays of the logs and stops members with ``trainer.stop_members``; it never raises
to do so. Its state is plain data (``state_dict``), so a checkpoint can carry it.
"""

from __future__ import annotations

import math

import numpy as np


class Callback:
    def on_train_begin(self, trainer) -> None:
        pass

    def on_epoch_end(self, trainer, logs: dict) -> None:
        pass

    def on_train_end(self, trainer) -> None:
        pass

    def state_dict(self) -> dict | None:
        return None  # stateless: nothing to checkpoint

    def load_state_dict(self, state: dict | None, members: int) -> None:
        pass


class MemberState(Callback):
    """A callback whose state is a few per-member arrays, saved and checked as plain lists."""

    FIELDS: tuple[str, ...] = ()

    def on_train_begin(self, trainer) -> None:
        self.reset(trainer.members)

    def reset(self, k: int) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {name: getattr(self, name).tolist() for name in self.FIELDS}

    def load_state_dict(self, state: dict, members: int) -> None:
        self.reset(members)
        for name in self.FIELDS:
            mine = getattr(self, name)
            saved = np.asarray(state[name], dtype=mine.dtype)
            if saved.shape != mine.shape:
                raise ValueError(f"{type(self).__name__}.{name} has shape {saved.shape}, expected {mine.shape}")
            setattr(self, name, saved)


class EarlyStopping(MemberState):
    """Stop a member when its validation score has not improved for ``patience`` epochs; keep its best weights.

    The score is validation loss, or for classification the validation error rate: cross-entropy
    starts rising on a confident net while its accuracy is still improving, and accuracy is what
    the user asked for. On small validation sets many epochs tie on error rate; validation loss
    breaks the tie, so the first lucky epoch of an undertrained net is not the one kept.
    """

    FIELDS = ("best", "best_loss", "best_epoch", "wait", "stopped")

    def __init__(self, patience: int, monitor: str = "val_loss", min_relative_improvement: float = 1e-4):
        self.patience = patience
        self.monitor = monitor  # "val_loss", or "val_error" (1 - val_accuracy)
        self.min_relative_improvement = min_relative_improvement  # ignore improvements below noise
        self.reset(1)

    def reset(self, k: int) -> None:
        self.best = np.full(k, math.inf)  # best score per member
        self.best_loss = np.full(k, math.inf)  # validation loss at the best epoch: the tie-breaker for "val_error"
        self.best_epoch = np.zeros(k, dtype=np.int64)  # 0: no finite score yet, nothing kept
        self.wait = np.zeros(k, dtype=np.int64)  # epochs since the last improvement
        self.stopped = np.zeros(k, dtype=bool)  # patience ran out

    def on_epoch_end(self, trainer, logs):
        loss = np.asarray(logs["member_val_loss"], dtype=np.float64)
        score = 1 - np.asarray(logs["member_val_accuracy"]) if self.monitor == "val_error" else loss
        judged = trainer.running & np.isfinite(score)  # a NaN epoch is the divergence guard's business
        improved = judged & (self.improved(score, loss) | (self.best_epoch == 0))
        if improved.any():
            trainer.engine.keep(improved)
            self.best[improved], self.best_loss[improved] = score[improved], loss[improved]
            self.best_epoch[improved], self.wait[improved] = logs["epoch"], 0
        waiting = judged & ~improved
        self.wait[waiting] += 1
        done = waiting & (self.wait >= self.patience)
        if done.any():
            self.stopped |= done
            trainer.stop_members(done)

    def improved(self, score: np.ndarray, loss: np.ndarray) -> np.ndarray:
        threshold = 1 - self.min_relative_improvement
        better = score < self.best * threshold
        if self.monitor != "val_error":
            return better
        return better | ((score <= self.best) & (loss < self.best_loss * threshold))

    def on_train_end(self, trainer):
        kept = self.best_epoch > 0
        trainer.engine.restore(kept)
        history = trainer.history
        history.best_epoch = int(self.best_epoch[kept].max()) if kept.any() else None
        history.stopped_early = bool(self.stopped.all())
        if not kept.all():  # a member never had a finite score: no weights worth keeping, the mean is lost
            history.diverged = True
            history.diverged_at = history.diverged_at or history.epochs


class DivergenceGuard(MemberState):
    """Stop a member on a NaN/inf loss or one that grew 1,000-fold over its start: its lr is too large."""

    FIELDS = ("first", "diverged", "diverged_at")

    def __init__(self, factor: float = 1e3):
        self.factor = factor
        self.reset(1)

    def reset(self, k: int) -> None:
        self.first = np.full(k, math.nan)  # first finite training loss per member
        self.diverged = np.zeros(k, dtype=bool)
        self.diverged_at = np.zeros(k, dtype=np.int64)  # 0: not diverged

    def on_epoch_end(self, trainer, logs):
        train = np.asarray(logs["member_train_loss"], dtype=np.float64)
        val = np.asarray(logs["member_val_loss"], dtype=np.float64)
        starting = np.isnan(self.first) & np.isfinite(train)
        self.first[starting] = np.maximum(train[starting], 1e-12)
        with np.errstate(invalid="ignore"):
            exploded = (train > self.factor * self.first) & (train > 10)
        bad = trainer.running & (~np.isfinite(train) | ~np.isfinite(val) | exploded)
        if bad.any():
            self.diverged |= bad
            self.diverged_at[bad] = logs["epoch"]
            trainer.stop_members(bad)

    def on_train_end(self, trainer):
        if self.diverged.all():
            trainer.history.diverged = True
            trainer.history.diverged_at = int(self.diverged_at.max())
