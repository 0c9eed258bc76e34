"""Draw a run's figures side by side, a forked process per core, where that is safe.

Drawing is nearly all matplotlib (layout, text, rasterizing; the network's part is milliseconds)
and one process draws on one core. The figures are dealt out to one lane per usable core; a
forked child per lane but the first inherits the imported matplotlib and the loaded run, draws
its figures, writes their files (atomically, as every plot is) and sends back the paths, while
the parent draws the first lane. So the report takes about as long as its slowest lane instead
of the sum of its figures.

Lanes are counted from the cores, not from the load average: the scheduler shares a busy core
fairly, so a second lane still finishes sooner than drawing in turn (on two busy cores the quick
start's report takes about two thirds of the time in two lanes that it takes in one).

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

from mlpfit.runtime import blas_threads

Job = Callable[[], list]  # draws one or more figures, returns their paths


def draw_all(jobs: list[Job], costs: list[float] | None = None) -> list[str]:
    """Run every job (side by side where safe); returns their paths in the jobs' order. ``costs``, one per job
    (default: all alike), deal them out so that the lanes' totals come out even."""
    lanes = min(len(jobs), cores()) if can_fork() else 1
    if lanes < 2:
        return serial(jobs)
    groups = dealt(costs or [1.0] * len(jobs), lanes)  # one process per core: more would only take turns
    with blas_threads(1):  # a lane per core already: BLAS threads of their own would only contend for the cores
        children = [start(lambda group=group: [jobs[i]() for i in group]) for group in groups[1:]]
        try:
            results = [[jobs[i]() for i in groups[0]]]
        finally:  # also on an error or Ctrl-C here: no child is left behind unwaited
            answers = [collect(*child) if child else None for child in children]
    for answer, group in zip(answers, groups[1:]):
        done = answer is not None and len(answer) == len(group)
        results.append(answer if done else [jobs[i]() for i in group])  # a child that failed: drawn here, errors show
    ordered = [None] * len(jobs)
    for group, paths_per_job in zip(groups, results):
        for i, paths in zip(group, paths_per_job):
            ordered[i] = paths
    return [path for paths in ordered for path in paths]


def dealt(costs: list[float], lanes: int) -> list[list[int]]:
    """The jobs' indices in ``lanes`` groups, the costliest first, each to the lane with the least work so far: a
    report's one slow figure gets a lane to itself rather than the company of the next one."""
    groups, totals = [[] for _ in range(lanes)], [0.0] * lanes
    for i in sorted(range(len(costs)), key=lambda i: -costs[i]):
        lane = totals.index(min(totals))
        groups[lane].append(i)
        totals[lane] += costs[i]
    return [sorted(group) for group in groups]


def serial(jobs: list[Job]) -> list[str]:
    return [path for job in jobs for path in job()]


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def can_fork() -> bool:
    """Linux and no other thread that a fork would leave holding a lock."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


def start(job: Job) -> tuple[int, int] | None:
    """Fork a child that runs ``job`` and writes its paths as JSON to a pipe; returns (pid, read end), or
    None when no process could be forked (its figures are then drawn here)."""
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # out of memory or processes
        os.close(reader)
        os.close(writer)
        return None
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


def collect(pid: int, reader: int) -> list | None:
    """A child's answer (per job, its paths), or None when it did not finish cleanly."""
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not data:
        return None
    answer = json.loads(data)
    return answer if written(answer) else None


def written(answer) -> bool:
    """Paths (nested in lists) of files that exist: what a child that finished its figures answers."""
    if isinstance(answer, list):
        return all(written(item) for item in answer)
    return isinstance(answer, str) and os.path.isfile(answer)
