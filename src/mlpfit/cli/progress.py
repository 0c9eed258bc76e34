"""Training progress on stderr: a live bar on a terminal, a plain line every few seconds elsewhere.

Tiny epochs are the hard case (curve10 runs 5,000 epochs of 10 points in about a second), so the
per-epoch cost is one clock read and a comparison; the display is redrawn at most ``max_hz``
times a second. Nothing here ever writes to stdout, which ``--json`` keeps for its one object.
"""

from __future__ import annotations

import atexit
import math
import sys
import time

from mlpfit.train.callbacks import Callback


def _loss(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class LineProgress(Callback):
    """One plain line per ``every`` seconds (and one at the end): logs, CI, pipes."""

    def __init__(self, stream=None, every: float = 5.0):
        self.stream = stream if stream is not None else sys.stderr
        self.every = every  # seconds between lines; a log of a long run stays short
        self.next_at = 0.0
        self.last_logs: dict | None = None

    def on_train_begin(self, loop):
        self.next_at = time.perf_counter() + self.every

    def on_epoch_end(self, loop, logs):
        self.last_logs = logs
        if time.perf_counter() >= self.next_at:
            self.next_at = time.perf_counter() + self.every
            self._write(loop, logs)

    def on_train_end(self, loop):
        if self.last_logs is not None:
            self._write(loop, self.last_logs, done=True)

    def _write(self, loop, logs, done: bool = False) -> None:
        epoch, total = logs["epoch"], loop.epochs
        left = "" if done else f", about {_duration(logs['seconds'] * (total - epoch) / epoch)} left"
        state = "done" if done else "training"
        print(f"{state}: epoch {epoch}/{total}, loss {_loss(logs['train_loss'])}, "
              f"val loss {_loss(logs['val_loss'])}, {logs['seconds']:.1f} s{left}",
              file=self.stream, flush=True)


class BarProgress(Callback):
    """A rich progress bar on a terminal: epoch, loss, val loss, time left."""

    def __init__(self, stream=None, max_hz: float = 10.0):
        self.stream = stream if stream is not None else sys.stderr
        self.interval = 1.0 / max_hz  # a redraw costs ~1 ms; 10 a second is smooth and free
        self.next_at = 0.0
        self.bar = None
        self.task = None

    def on_train_begin(self, loop):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(file=self.stream, stderr=True)
        self.bar = Progress(TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
                            TextColumn("loss {task.fields[loss]}  val {task.fields[val]}"),
                            TimeRemainingColumn(), console=console, auto_refresh=False, transient=False)
        self.task = self.bar.add_task("fit", total=loop.epochs, loss="—", val="—")
        self.bar.start()
        # Ctrl-C skips on_train_end; rich hid the cursor, so give it back however the process ends.
        atexit.register(self.close)

    def on_epoch_end(self, loop, logs):
        now = time.perf_counter()
        if now >= self.next_at:
            self.next_at = now + self.interval
            self._show(logs)

    def on_train_end(self, loop):
        if self.bar is None:
            return
        if loop.history.rows:
            self._show(loop.history.rows[-1])
        self.close()

    def close(self) -> None:
        """Stop the live display (restoring the cursor); safe to call twice."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
            atexit.unregister(self.close)

    def _show(self, logs) -> None:
        self.bar.update(self.task, completed=logs["epoch"], loss=_loss(logs["train_loss"]), val=_loss(logs["val_loss"]))
        self.bar.refresh()


def progress_callbacks(quiet: bool, as_json: bool, stream=None) -> list[Callback]:
    """The progress display a CLI fit should show: none with --quiet; a bar only on a terminal."""
    stream = stream if stream is not None else sys.stderr
    if quiet:
        return []
    tty = hasattr(stream, "isatty") and stream.isatty()
    if tty:
        return [BarProgress(stream)]
    if as_json:
        return []  # --json on a pipe: stdout is the object, and stderr stays clean for scripts
    return [LineProgress(stream)]
