"""The NumPy engine's member threads: work any free thread takes (this thread never waits on a worker that has
not begun), and the epoch-by-epoch choice whether splitting the members over the threads pays."""

import concurrent.futures
import threading
import time

import pytest

from mlpfit.engines.numpy.threads import EXPLORE_EVERY, SplitChooser, member_threads, side_by_side


def test_items_come_back_in_order_from_whichever_thread_took_them():
    with member_threads(3) as pool:
        assert side_by_side(pool, lambda x: x * x, list(range(7))) == [x * x for x in range(7)]
    assert side_by_side(None, lambda x: -x, [1, 2]) == [-1, -2]


def test_this_thread_takes_every_item_when_the_worker_is_busy():
    """Was: each group handed to a worker and waited for; on a busy machine a worker without a core held up
    every step. Here the only worker is blocked, and the items are all done here, without waiting for it."""
    release = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(release.wait, 10)
        takers = []
        start = time.perf_counter()
        side_by_side(pool, lambda item: takers.append(threading.current_thread()), ["a", "b", "c"])
        elapsed = time.perf_counter() - start
        release.set()
    assert takers == [threading.current_thread()] * 3
    assert elapsed < 5  # not held up until the worker is released


def test_an_error_in_a_worker_is_raised_here():
    def work(item):
        if item == 1:
            time.sleep(0.05)  # the worker (if it took it) is still in it while this thread finishes the others
            raise ValueError("item 1")
        return item

    with member_threads(2) as pool, pytest.raises(ValueError, match="item 1"):
        side_by_side(pool, work, [0, 1, 2, 3])


def warmed(chooser: SplitChooser) -> SplitChooser:
    """Past each way's first epoch (not timed: it makes the workspaces)."""
    for way in (True, False):
        chooser.record(way, 100.0)
    return chooser


def test_the_first_epoch_each_way_is_not_timed():
    """Was: the first unsplit epoch, which made one group's workspaces, was timed and kept a split for 31 epochs."""
    chooser = SplitChooser()
    ways = []
    for seconds in (3.0, 1.0, 5.0, 0.5):  # each way slow only while making its workspaces
        ways.append(chooser.split())
        chooser.record(ways[-1], seconds)
    assert ways == [True, True, False, False]
    assert chooser.split() is False  # one group: 0.5 s a step against the split's 1.0


def test_chooser_tries_both_ways_then_keeps_the_faster_and_tries_the_other_again_now_and_then():
    chooser = warmed(SplitChooser())
    assert chooser.split() is True
    chooser.record(True, 1.0)  # split: faster
    assert chooser.split() is False
    chooser.record(False, 2.0)
    picks = [chooser.split() for _ in range(2 * EXPLORE_EVERY)]
    assert picks.count(False) == 2 and picks.count(True) == 2 * EXPLORE_EVERY - 2
    for _ in range(6):  # the load changed: the second thread gets no core, and one group is faster
        chooser.record(True, 4.0)
    assert chooser.split() is False


def test_a_split_must_be_clearly_faster_to_be_kept():
    """A split step makes every call twice and costs more CPU: within timing noise of one group, one group wins."""
    close, clear = warmed(SplitChooser()), warmed(SplitChooser())
    for chooser, split_seconds in ((close, 0.95), (clear, 0.8)):
        chooser.record(True, split_seconds)
        chooser.record(False, 1.0)
    assert not any(close.split() for _ in range(EXPLORE_EVERY - 1))
    assert all(clear.split() for _ in range(EXPLORE_EVERY - 1))
