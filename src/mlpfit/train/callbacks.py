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

    Patience counts from the learning rate's peak: while the schedule warms up (the rate rises, as at
    the start of each of twocycle's cycles) a worse validation loss is the schedule's doing, not
    overfitting. So the epochs waited are those since the best epoch *after the rate last rose*
    (``cycle_best``), while the weights kept are the best of the whole run (``best``): a second cycle
    that starts above the first one's end is not stopped before its annealing can beat it.
    """

    FIELDS = ("best", "best_loss", "best_epoch", "wait", "stopped", "cycle_best", "cycle_best_loss")

    def __init__(self, patience: int, monitor: str = "val_loss", min_relative_improvement: float = 1e-4,
                 tol: float = 0.0):
        self.patience = patience
        self.monitor = monitor  # "val_loss", or "val_error" (1 - val_accuracy)
        self.min_relative_improvement = min_relative_improvement  # ignore improvements below noise
        self.tol = tol  # and, for patience, improvements smaller than this (scikit-learn's tol)
        self.reset(1)

    def reset(self, k: int) -> None:
        self.best = np.full(k, math.inf)  # best score per member
        self.best_loss = np.full(k, math.inf)  # validation loss at the best epoch: the tie-breaker for "val_error"
        self.best_epoch = np.zeros(k, dtype=np.int64)  # 0: no finite score yet, nothing kept
        self.wait = np.zeros(k, dtype=np.int64)  # epochs since the last improvement (since the rate's peak)
        self.stopped = np.zeros(k, dtype=bool)  # patience ran out
        self.cycle_best = np.full(k, math.inf)  # best score since the learning rate last rose
        self.cycle_best_loss = np.full(k, math.inf)

    def load_state_dict(self, state: dict, members: int) -> None:
        # A checkpoint written before patience counted from the peak: its best is the cycle's best.
        state = {"cycle_best": state.get("best"), "cycle_best_loss": state.get("best_loss"), **state}
        super().load_state_dict(state, members)

    def on_epoch_end(self, trainer, logs):
        loss = np.asarray(logs["member_val_loss"], dtype=np.float64)
        score = 1 - np.asarray(logs["member_val_accuracy"]) if self.monitor == "val_error" else loss
        judged = trainer.running & np.isfinite(score)  # a NaN epoch is the divergence guard's business
        first = self.best_epoch == 0
        improved = judged & (self.improved(score, loss, self.best, self.best_loss) | first)
        if improved.any():
            trainer.engine.keep(improved)
            self.best[improved], self.best_loss[improved] = score[improved], loss[improved]
            self.best_epoch[improved] = logs["epoch"]
        if rate_rose(trainer.history):  # warming up: nothing to judge yet, the cycle's best starts after it
            self.cycle_best[:], self.cycle_best_loss[:], self.wait[judged] = math.inf, math.inf, 0
            return
        progressed = judged & (self.improved(score, loss, self.cycle_best - self.tol, self.cycle_best_loss - self.tol) | first)
        self.cycle_best[progressed], self.cycle_best_loss[progressed] = score[progressed], loss[progressed]
        self.wait[progressed] = 0
        waiting = judged & ~progressed
        self.wait[waiting] += 1
        done = waiting & (self.wait >= self.patience)
        if done.any():
            self.stopped |= done
            trainer.stop_members(done)

    def improved(self, score: np.ndarray, loss: np.ndarray, best: np.ndarray, best_loss: np.ndarray) -> np.ndarray:
        threshold = 1 - self.min_relative_improvement
        better = score < best * threshold
        if self.monitor != "val_error":
            return better
        return better | ((score <= best) & (loss < best_loss * threshold))

    def on_train_end(self, trainer):
        kept = self.best_epoch > 0
        trainer.engine.restore(kept)
        history = trainer.history
        history.best_epoch = int(self.best_epoch[kept].max()) if kept.any() else None
        history.stopped_early = bool(self.stopped.all())
        if not kept.all():  # a member never had a finite score: no weights worth keeping, the mean is lost
            history.diverged = True
            history.diverged_at = history.diverged_at or history.epochs


def rate_rose(history) -> bool:
    """The learning rate at the end of the last epoch is above the one before: the schedule is warming up."""
    rows = history.rows
    return len(rows) >= 2 and rows[-1]["lr"] > rows[-2]["lr"]


class Settle(MemberState):
    """End a two-cycle fit after its first cycle when every output's validation R² already reaches ``r2``.

    A smooth function the net has learned after the first cycle (x²+y²: validation R² 0.99997 after 40%
    of the steps) gains little from the second (0.99999); one it has not (x·y·z: 0.9998) needs it. Only
    the mean validation loss is logged, in scaled units, so each output's R² is bounded from it: with K
    outputs, output k's MSE is at most K x the mean, and its R² = 1 - MSE_k / var_k ≥ 1 - K·loss / min var
    (``variance``: the smallest variance of a validation output, in the units the loss is measured in).
    """

    FIELDS = ("settled",)

    def __init__(self, r2: float, epoch: int, outputs: int, variance: float):
        self.r2, self.epoch = r2, epoch  # the first cycle's last epoch (train.schedules.first_cycle_epochs)
        self.outputs, self.variance = outputs, variance
        self.reset(1)

    def reset(self, k: int) -> None:
        self.settled = np.zeros(k, dtype=bool)  # ended after the first cycle

    def on_epoch_end(self, trainer, logs):
        if logs["epoch"] != self.epoch or not self.variance > 0:
            return
        loss = np.asarray(logs["member_val_loss"], dtype=np.float64)
        with np.errstate(all="ignore"):
            lowest_r2 = 1 - self.outputs * loss / self.variance
        done = trainer.running & np.isfinite(loss) & (lowest_r2 >= self.r2)
        if done.any():
            self.settled |= done
            trainer.stop_members(done)

    def on_train_end(self, trainer):
        trainer.history.settled = bool(self.settled.all())


class TrainOn(MemberState):
    """Settle's mirror: at the end of a twocycle fit, train one more cycle (the second's length) while a
    member's validation R² is below ``r2`` and still rose by at least ``gain`` over the cycle that just ended;
    at most ``cycles`` more, and none begins after ``seconds`` of training. A member that stopped gaining
    ends there, the others go on (sin(40x) on -1:1: R² 0.79 at the end of the default budget, 0.9995 after
    four times the epochs). The R² is bounded from the validation loss as Settle bounds it.
    """

    FIELDS = ("best", "best_before", "extra")

    def __init__(self, r2: float, gain: float, epoch: int, cycle: int, cycles: int, seconds: float, outputs: int,
                 variance: float):
        self.r2, self.gain = r2, gain
        self.epoch, self.cycle = epoch, cycle  # the schedule's last epoch, and the epochs of one more cycle
        self.cycles, self.seconds = cycles, seconds  # at most this many more cycles, none begun after `seconds`
        self.outputs, self.variance = outputs, variance
        self.reset(1)

    @property
    def extra_epochs_allowed(self) -> int:
        """How far past its epochs a trainer may have been extended (a checkpoint's epoch is checked against it)."""
        return self.cycles * self.cycle

    def reset(self, k: int) -> None:
        self.best = np.full(k, math.inf)  # each member's lowest validation loss so far
        self.best_before = np.full(k, math.inf)  # ... when the cycle running now began
        self.extra = np.zeros(1, dtype=np.int64)  # cycles added (one count: every member's schedule is the same)

    def lowest_r2(self, loss: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return 1 - self.outputs * loss / self.variance

    def on_epoch_end(self, trainer, logs):
        if not self.variance > 0:
            return
        loss = np.asarray(logs["member_val_loss"], dtype=np.float64)
        self.best = np.fmin(self.best, np.where(np.isfinite(loss), loss, math.inf))
        end = self.epoch + int(self.extra[0]) * self.cycle
        if logs["epoch"] == end - self.cycle:  # the last cycle so far begins after this epoch
            self.best_before = self.best.copy()
        if logs["epoch"] != end:
            return
        now, before = self.lowest_r2(self.best), self.lowest_r2(self.best_before)
        going = trainer.running & np.isfinite(now) & (now < self.r2) & (now - before >= self.gain)
        if not going.any() or self.extra[0] >= self.cycles or logs["seconds"] >= self.seconds:
            return
        self.extra[0] += 1
        trainer.epochs = end + self.cycle
        trainer.stop_members(trainer.running & ~going)

    def on_train_end(self, trainer):
        trainer.history.extra_cycles = int(self.extra[0])


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
