"""The callback that lets a page watch, pause and step a training run by the library's own trainer.

It hooks in where every callback does (train begin, epoch end) plus the trainer's ``should_stop``
check after each optimizer step, which it chains so a closed page stops training at once. It
never slows training by more than about a tenth: a snapshot is taken at most
``SNAPSHOT_SECONDS`` apart, and after an expensive one the next waits until its cost is under
``MAX_SHARE`` of the time between them.
"""

from __future__ import annotations

import threading
import time

from mlpfit.fitting import diagnose
from mlpfit.play.snapshot import Snapshots
from mlpfit.train.callbacks import Callback

SNAPSHOT_SECONDS = 0.2  # at most five pictures a second: smooth to watch, cheap to make
MAX_SHARE = 0.1  # snapshots take at most this share of the training time


class Live(Callback):
    """Publishes rows, snapshots and diagnostics to a :class:`~mlpfit.play.session.Session`."""

    def __init__(self, session, on_begin=lambda: None):
        self.session = session
        self.on_begin = on_begin  # called first thing: the model exists, so the build lock can go
        self.snapshots = None
        self.next_snapshot = 0.0
        self.snapshot_seconds = 0.0  # time spent on pictures, for the overhead measurement
        self.paused_seconds = 0.0  # time spent paused, taken out of the reported training time
        self.epoch = 0

    def on_train_begin(self, trainer) -> None:
        self.on_begin()
        self.snapshots = Snapshots(self.session.view)
        before = trainer.should_stop
        trainer.should_stop = lambda: before() or self._after_step(trainer)
        self.session.publish(diagnostics=self._before_training(trainer))
        self._snapshot(trainer, 0)

    def _before_training(self, trainer) -> list[dict]:
        """The fit's pre-training checks (a linear net on a curved target, ...), said at once."""
        s, d = self.session, self.session.view.dataset
        found = diagnose.before_training(config=s.config, X=d.X, Y=d.Y, rows=s.view.split.train, task=d.task,
                                         x_scaler=s.view.x_scaler, y_scaler=s.view.y_scaler,
                                         parameters=trainer.shell.parameter_count, outputs=d.outputs)
        return [f.to_dict() for f in found]

    def _after_step(self, trainer) -> bool:
        """After every step: stop at once when asked; a long epoch still shows its progress."""
        if self.session.stop_requested:
            return True
        if time.perf_counter() >= self.next_snapshot + 4 * SNAPSHOT_SECONDS:
            self._snapshot(trainer, self.epoch)
        return False

    def on_epoch_end(self, trainer, logs) -> None:
        self.epoch = logs["epoch"]
        row = trainer.history.rows[-1]
        row["seconds"] -= self.paused_seconds  # the clock the trainer keeps also ran while paused
        train = self.session.config.train
        diverged = diagnose.divergence(trainer.history, train.lr, train.optimizer)
        self.session.publish(row=row, diagnostics=[diverged.to_dict()] if diverged else None)
        if time.perf_counter() >= self.next_snapshot:
            self._snapshot(trainer, self.epoch)
        self._wait_while_paused(trainer)
        if self.session.stop_requested:
            trainer.stop_training = True

    def _snapshot(self, trainer, epoch: int) -> None:
        start = time.perf_counter()
        picture = self.snapshots.take(trainer.network(), epoch)
        self.session.publish(snapshot=picture)
        cost = time.perf_counter() - start
        self.snapshot_seconds += cost
        self.next_snapshot = time.perf_counter() + max(SNAPSHOT_SECONDS, cost / MAX_SHARE)

    def _wait_while_paused(self, trainer) -> None:
        control = self.session.control
        if not control.must_wait():
            return
        self._snapshot(trainer, self.epoch)  # the picture of the epoch it stands on
        start = time.perf_counter()
        self.session.publish(state="paused")
        control.wait()
        self.paused_seconds += time.perf_counter() - start
        if not self.session.stop_requested:
            self.session.publish(state="running")


class Control:
    """Pause, resume and step-one-epoch, shared by the page's requests and the training thread."""

    def __init__(self, paused: bool = False, steps: int = 0):
        self.condition = threading.Condition()
        self.paused, self.steps = paused, steps  # steps: epochs still to run before pausing again
        self.stopped = False

    def must_wait(self) -> bool:
        """Called at an epoch's end: True when training should stop here until told to go on."""
        with self.condition:
            if self.steps:
                self.steps -= 1
                return self.steps == 0 and self.paused
            return self.paused and not self.stopped

    def wait(self) -> None:
        with self.condition:
            while self.paused and not self.steps and not self.stopped:
                self.condition.wait(0.5)

    def set(self, *, paused: bool | None = None, steps: int = 0, stopped: bool = False) -> None:
        with self.condition:
            if paused is not None:
                self.paused = paused
            self.steps += steps
            self.stopped = self.stopped or stopped
            self.condition.notify_all()
