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

The child is report.drawing's (``start`` and ``collect``, as its lanes): forked only on Linux with no
other Python thread that could hold a lock, its answer a list of paths that exist, its failure its exit code.
"""

# Deferred imports: matplotlib loads in the forked drawer (or when drawing), never in the fitting process before it
# forks.

from __future__ import annotations

import contextlib
import json
import os
import signal

from mlpfit.report.drawing import can_fork, collect, start


class ReportAhead:
    """A forked child (report.drawing's: it answers its job's paths, or fails by its exit code) that has
    imported matplotlib and waits on a pipe for the one run folder to draw."""

    def __init__(self, pid: int, to_child: int, from_child: int):
        self.pid, self.to_child, self.from_child = pid, to_child, from_child

    @classmethod
    def start(cls, table: bool = False) -> ReportAhead | None:
        """Fork the child; None where forking is not safe (report.drawing.can_fork) or failed. ``table``: the run
        will be a CSV table's (see serve)."""
        if not can_fork():
            return None
        job_read, job_write = os.pipe()
        child = start(lambda: serve(job_read, job_write, table))
        os.close(job_read)
        if child is None:  # no memory or no process to spare: the fit draws its report itself
            os.close(job_write)
            return None
        return cls(child[0], job_write, child[1])

    def draw(self, run_dir: str) -> str | None:
        """The report of ``run_dir``, drawn by the child: the page's path, or None when the child did not
        draw it (the caller then draws it itself). The child is reaped either way."""
        with contextlib.suppress(OSError):  # a dead child's pipe is broken: its exit status says so below
            os.write(self.to_child, (json.dumps(os.fspath(run_dir)) + "\n").encode())
        self.close_job()
        answer = self.collect()
        return answer[0] if answer else None

    def close_job(self) -> None:
        if self.to_child is not None:
            os.close(self.to_child)  # a child still waiting reads the end of the pipe and exits
            self.to_child = None

    def collect(self) -> list | None:
        """The child's answer once it exited (report.drawing.collect), or None; it is reaped."""
        pid, reader, self.pid, self.from_child = self.pid, self.from_child, None, None
        return None if pid is None else collect(pid, reader)

    def close(self) -> None:
        """Stop a child that was not asked to draw (or is still drawing), and reap it."""
        self.close_job()
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.collect()


@contextlib.contextmanager
def report_ahead(wanted: bool, table: bool = False):
    """A :class:`ReportAhead` for the block when ``wanted`` (and forking is safe), else None; the
    child never outlives the block. ``table``: the run will be a CSV table's."""
    ahead = ReportAhead.start(table) if wanted else None
    try:
        yield ahead
    finally:
        if ahead is not None:
            ahead.close()


def serve(job_read: int, job_write: int, table: bool = False) -> list[str]:
    """The child's job: get ready, wait for a run folder, draw its report; returns [the page's path], or
    [] when the parent stopped before the run was saved (the end of the pipe, no folder). A ``table``'s report
    reads the run's encoding, with pandas: the child imports it while it waits too (0.3 s that the report
    otherwise spent after the training, when the child was forked before the fit read its table)."""
    os.close(job_write)  # the parent's end: open here, it would keep the pipe from ever ending
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent's to handle
    from mlpfit.report import html

    warm_up()
    if table:
        import mlpfit.data.sources.encoding  # noqa: F401 - loaded now, used by the report's run reader
    with os.fdopen(job_read, "rb") as pipe:
        line = pipe.readline()
    return [html.write_report(json.loads(line))] if line else []


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
