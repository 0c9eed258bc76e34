"""Ctrl-C and SIGTERM as a request, not a crash: the loop finishes its step, then stops.

While :func:`stop_signals` is active, SIGINT and SIGTERM only set a flag. The training loop reads
it after every optimizer step, so the weights it stops with belong to a whole step and can be
saved as a checkpoint. The previous handlers come back afterwards. Signal handlers can only be
installed from the main thread; elsewhere the flag simply never rises.
"""

from __future__ import annotations

import contextlib
import signal
import threading

from mlpfit.errors import MlpfitError

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(MlpfitError):
    """Training was stopped by the user (Ctrl-C or SIGTERM); the message says how to resume."""

    exit_code = 130  # the shell's convention for "stopped by SIGINT"


class StopRequest:
    """A flag raised by a signal; ``signal_name`` says which one raised it."""

    def __init__(self):
        self.signal_name: str | None = None

    @property
    def requested(self) -> bool:
        return self.signal_name is not None

    def handle(self, signum, frame) -> None:
        # Keep only the first signal: a second Ctrl-C while the checkpoint is written must not
        # tear it half-way (the write is short; kill -9 remains for the impatient).
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name


@contextlib.contextmanager
def stop_signals():
    """Within the block, SIGINT/SIGTERM raise ``StopRequest.requested`` instead of stopping Python."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, request.handle)
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
