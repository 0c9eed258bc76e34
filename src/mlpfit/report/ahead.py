"""A report drawer made ready while the model trains.

A small fit's report costs about as much as its training, and a third of that is fixed cost:
importing matplotlib (0.5-0.6 s) and its first figure (fonts, the renderer). None of it depends
on the model, so a fit that will draw its report forks a child before training starts: the child
imports matplotlib and draws a throwaway figure on a core the training leaves free (the quick
start trains on one thread), then waits. Once the run folder is written, the parent hands the
child the folder; the child draws the report exactly as ``mlpfit report`` does (report.html,
its figures side by side from the child's warm state) and answers with the page's path.

The child is a helper, never a second owner of the run:
* it reads nothing but a folder path from the parent and writes nothing before it gets one;
* Ctrl-C is the parent's to handle (the child ignores SIGINT); a parent that stops for any
  reason kills and reaps the child (``close``), and a parent that dies closes the pipe the
  child waits on, so the child exits too;
* if the child is missing, was killed or failed, ``draw`` answers None and the parent draws the
  report itself, so any error shows exactly as it would without the child.

Forking follows report.drawing's rule: Linux, and no other Python thread that could hold a lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal

from mlpfit.report.drawing import can_fork


class ReportAhead:
    """A forked child that has imported matplotlib and waits for one run folder to draw."""

    def __init__(self, pid: int, to_child: int, from_child: int):
        self.pid, self.to_child, self.from_child = pid, to_child, from_child

    @classmethod
    def start(cls) -> ReportAhead | None:
        """Fork the child; None where forking is not safe (report.drawing.can_fork)."""
        if not can_fork():
            return None
        job_read, job_write = os.pipe()
        answer_read, answer_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no memory or no process to spare: the fit draws its report itself
            for fd in (job_read, job_write, answer_read, answer_write):
                os.close(fd)
            return None
        if pid == 0:  # the child: never returns from here
            os.close(job_write)
            os.close(answer_read)
            serve(job_read, answer_write)
        os.close(job_read)
        os.close(answer_write)
        return cls(pid, job_write, answer_read)

    def draw(self, run_dir: str) -> str | None:
        """The report of ``run_dir``, drawn by the child: the page's path, or None when the child did not
        draw it (the caller then draws it itself). The child is reaped either way."""
        try:
            os.write(self.to_child, (json.dumps(os.fspath(run_dir)) + "\n").encode())
            os.close(self.to_child)
            self.to_child = None
            with os.fdopen(self.from_child, "rb") as pipe:
                self.from_child = None
                data = pipe.read()
        except OSError:  # the child died before reading (a broken pipe): draw here
            data = b""
        finished = self.reap() and bool(data)
        if not finished:
            return None
        page = json.loads(data)
        return page if isinstance(page, str) and os.path.isfile(page) else None

    def reap(self, kill: bool = False) -> bool:
        """Wait for the child (killing it first if ``kill``); True when it exited cleanly."""
        if self.pid is None:
            return False
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0

    def close(self) -> None:
        """Stop a child that was not asked to draw (or is still drawing) and close the pipes."""
        for fd in (self.to_child, self.from_child):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.to_child = self.from_child = None
        self.reap(kill=True)


@contextlib.contextmanager
def report_ahead(wanted: bool):
    """A :class:`ReportAhead` for the block when ``wanted`` (and forking is safe), else None; the
    child never outlives the block."""
    ahead = ReportAhead.start() if wanted else None
    try:
        yield ahead
    finally:
        if ahead is not None:
            ahead.close()


def serve(job_read: int, answer_write: int) -> None:
    """The child's life: get ready, wait for a run folder, draw its report, answer its path, exit."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent's to handle
        from mlpfit.report import html

        warm_up()
        with os.fdopen(job_read, "rb") as pipe:
            line = pipe.readline()
        if line:  # end of file: the parent stopped before the run was saved; nothing to do
            page = html.write_report(json.loads(line))
            with os.fdopen(answer_write, "wb") as pipe:
                pipe.write(json.dumps(page).encode())
        code = 0
    except BaseException:  # noqa: BLE001 - the exit code says it failed: the parent draws the report and shows the error
        pass
    finally:
        os._exit(code)  # no atexit handlers, no second flush of output buffered by the parent


def warm_up() -> None:
    """Draw a small figure with text into memory: loads the fonts and the renderer's caches, so the
    report's first figure costs what the others do."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from mlpfit.report.plots import STYLE

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(2.0, 1.5))
        fig.colorbar(ax.imshow([[0.0, 1.0]]), ax=ax)
        ax.plot([0, 1], [1, 0], label="warm-up")
        ax.set(xlabel="x", ylabel="y", title="warm-up")
        ax.legend()
        FigureCanvasAgg(fig).draw()
        plt.close(fig)
