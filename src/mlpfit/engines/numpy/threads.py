"""Threads for the NumPy engine's member groups: a pool held while training, work that any free thread takes,
and the choice, epoch by epoch, whether splitting the members over the threads pays.

Members of one shape train as one batched product per layer; with two threads they split into two groups,
each taking its members' gradients and optimizer update (NumPy lets go of the GIL inside every product and
elementwise call). A split step makes every NumPy call twice (once per group), so it pays only when the second
thread gets a core of its own: on a machine busy with other processes it may not, and then one group on one
thread is faster. The results are the same bit for bit either way (each member's arithmetic is its own).
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import threading

EXPLORE_EVERY = 32  # epochs: the way not taken is tried again this often, since the load from other processes changes
# (at load 4 a split step took 1.5x one group's, so each try costs; a 500-epoch fit still tries 15 times)
SMOOTHING = 0.5  # weight of the newest epoch's time per step in each way's running estimate
SPLIT_MARGIN = 0.9  # a split must take at most this share of one group's time per step: it costs more CPU, and
# single epochs timed on a busy machine are noisy (a split chosen on noise cost 10% more CPU and wall time)


@contextlib.contextmanager
def member_threads(threads: int):
    """Workers for all but the first of ``threads`` member groups while an epoch trains (None for one thread:
    the calling thread takes the first group itself); shut down with the epoch, so a fit leaves no threads behind."""
    if threads == 1:
        yield None
        return
    with concurrent.futures.ThreadPoolExecutor(threads - 1, thread_name_prefix="mlpfit-members") as pool:
        yield pool


def side_by_side(pool, work, items: list) -> list:
    """``[work(item) for item in items]``, taken by this thread and ``pool``'s workers alike: each item goes to the
    first thread free to take it, and this thread waits only for items a worker has begun. On a busy machine,
    where a worker may not get a core for a while, this thread goes on with the next group instead of waiting."""
    if pool is None or len(items) < 2:
        return [work(item) for item in items]
    pending = collections.deque(range(len(items)))
    results, errors = [None] * len(items), []
    done = [threading.Event() for _ in items]

    def take() -> None:
        while True:
            try:
                i = pending.popleft()  # atomic: each item is taken once
            except IndexError:
                return
            try:
                results[i] = work(items[i])
            except BaseException as error:  # raised below, in this thread
                errors.append(error)
            finally:
                done[i].set()

    for _ in items[1:]:
        pool.submit(take)
    take()
    for event in done:
        event.wait()
    if errors:
        raise errors[0]
    return results


class SplitChooser:
    """Whether the next epoch splits the members over the threads: the way whose recent epochs took less time
    per step (a split by SPLIT_MARGIN), each tried first twice (the first epoch each way allocates its
    workspaces, so it is not timed: it made one group look slow and kept a split for 31 epochs), and the
    other tried again every EXPLORE_EVERY epochs."""

    def __init__(self):
        self.seconds = {True: None, False: None}  # split or not -> running estimate of seconds per step
        self.warmed = {True: False, False: False}  # the way's first epoch (its workspaces made) is behind it
        self.epochs = 0

    def split(self) -> bool:
        untried = [way for way, seconds in self.seconds.items() if seconds is None]
        if untried:
            return untried[0]
        self.epochs += 1
        faster = self.seconds[True] < SPLIT_MARGIN * self.seconds[False]
        return (not faster) if self.epochs % EXPLORE_EVERY == 0 else faster

    def record(self, split: bool, seconds_per_step: float) -> None:
        if not self.warmed[split]:
            self.warmed[split] = True
            return
        before = self.seconds[split]
        self.seconds[split] = seconds_per_step if before is None else (
            SMOOTHING * seconds_per_step + (1 - SMOOTHING) * before)
