"""Draw a run's figures side by side, one forked process each, where that is safe.

Drawing is nearly all matplotlib (layout, text, rasterizing: 0.2-0.6 s a figure, the network's
part is milliseconds) and one process draws on one core. A forked child inherits the imported
matplotlib and the loaded run, draws its figure, writes its file (atomically, as every plot is)
and sends back the paths; the parent draws the first figure meanwhile. So the report takes about
as long as its slowest figure instead of their sum, where the cores are free.

Forking is only safe in a plain single-threaded process on Linux: not on macOS or Windows, not
inside ``mlpfit play`` (its server threads could hold a lock the child then waits on forever).
Elsewhere, and for a child that fails for any reason, the figure is drawn here in turn, so its
error (if any) is raised as it would be without children.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Callable

Job = Callable[[], list]  # draws one or more figures, returns their paths


def draw_all(jobs: list[Job]) -> list[str]:
    """Run every job (side by side where safe); returns their paths in the jobs' order."""
    if len(jobs) < 2 or not can_fork():
        return serial(jobs)
    children = [start(job) for job in jobs[1:]]
    try:
        results = [jobs[0]()]
    finally:  # also on an error or Ctrl-C here: no child is left behind unwaited
        answers = [collect(pid, reader) for pid, reader in children]
    for answer, job in zip(answers, jobs[1:]):
        results.append(job() if answer is None else answer)  # a child that failed: draw it here, errors show
    return [path for paths in results for path in paths]


def serial(jobs: list[Job]) -> list[str]:
    return [path for job in jobs for path in job()]


def can_fork() -> bool:
    """Linux, more than one usable core, and no other thread that a fork would leave holding a lock."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork") and len(os.sched_getaffinity(0)) > 1
            and threading.active_count() == 1)


def start(job: Job) -> tuple[int, int]:
    """Fork a child that runs ``job`` and writes its paths as JSON to a pipe; returns (pid, read end)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid:
        os.close(writer)
        return pid, reader
    os.close(reader)  # the child: never returns from here
    code = 1
    try:
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(json.dumps(job()).encode())
        code = 0
    except BaseException:  # noqa: BLE001 - reported by the exit code: the parent draws it again and raises
        pass
    finally:
        os._exit(code)  # no atexit handlers or buffered output of the parent's, run or flushed twice


def collect(pid: int, reader: int) -> list[str] | None:
    """A child's paths, or None when it did not finish cleanly."""
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not data:
        return None
    paths = json.loads(data)
    return paths if isinstance(paths, list) and all(isinstance(p, str) and os.path.isfile(p) for p in paths) else None
