"""report.drawing: figures drawn in forked children are the same files, in the same order, as drawn in turn;
a child that fails is drawn again in the parent, so its error shows."""

from __future__ import annotations

import os

import numpy as np
import pytest
from matplotlib.image import imread

from mlpfit.report import drawing, figures
from mlpfit.runfolder import store
from mlpfit.runfolder.run import checked_network
from mlpfit.train.history import History


def writes_pid(path: str):
    def job():
        with open(path, "w") as handle:
            handle.write(str(os.getpid()))
        return [path]
    return job


def test_children_run_the_jobs_and_answer_in_order(tmp_path):
    jobs = [writes_pid(str(tmp_path / f"{k}.txt")) for k in range(3)] + [lambda: []]
    children = [drawing.start(job) for job in jobs]
    answers = [drawing.collect(pid, reader) for pid, reader in children]
    assert answers == [[str(tmp_path / f"{k}.txt")] for k in range(3)] + [[]]
    pids = {int((tmp_path / f"{k}.txt").read_text()) for k in range(3)}
    assert len(pids) == 3 and os.getpid() not in pids  # each in its own process


def test_a_failing_child_is_drawn_again_here_and_its_error_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(drawing, "can_fork", lambda: True)
    monkeypatch.setattr(drawing, "cores", lambda: 2)

    def broken():
        raise ValueError("no such figure")

    pid, reader = drawing.start(broken)
    assert drawing.collect(pid, reader) is None
    with pytest.raises(ValueError, match="no such figure"):
        drawing.draw_all([writes_pid(str(tmp_path / "a.txt")), broken])
    assert (tmp_path / "a.txt").exists()


def test_a_child_that_claims_a_missing_file_is_not_believed(tmp_path):
    pid, reader = drawing.start(lambda: [str(tmp_path / "never-written.png")])
    assert drawing.collect(pid, reader) is None


def _figures(run_dir: str, folder: str) -> list[str]:
    files = store.read(run_dir, check_derived=False)
    fitted = checked_network(files)
    history = History.from_csv(files.history_csv, files.summary.get("history"))
    return figures.write_all(folder, files.summary, history, fitted, dict(files.samples))


@pytest.mark.parametrize("which", ["surface_run", "digits_run"])
def test_figures_drawn_side_by_side_equal_those_drawn_in_turn(which, request, tmp_path, monkeypatch):
    run_dir = request.getfixturevalue(which).run_dir
    (tmp_path / "forked").mkdir()
    (tmp_path / "serial").mkdir()
    monkeypatch.setattr(drawing, "can_fork", lambda: True)  # whatever threads this test process has
    monkeypatch.setattr(drawing, "cores", lambda: 3)  # three lanes, whatever the load: one figure to each, one more
    forked = _figures(run_dir, str(tmp_path / "forked"))
    monkeypatch.setattr(drawing, "can_fork", lambda: False)
    serial = _figures(run_dir, str(tmp_path / "serial"))
    names = [os.path.basename(p) for p in forked]
    assert names == [os.path.basename(p) for p in serial] and len(names) >= 3, names
    for name in names:
        a, b = imread(tmp_path / "forked" / name), imread(tmp_path / "serial" / name)
        assert a.shape == b.shape and np.array_equal(a, b), name


def test_a_fork_that_fails_leaves_the_figures_to_this_process(tmp_path, monkeypatch):
    def no_fork():
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(drawing, "can_fork", lambda: True)
    monkeypatch.setattr(drawing, "cores", lambda: 2)
    monkeypatch.setattr(drawing.os, "fork", no_fork)
    paths = drawing.draw_all([writes_pid(str(tmp_path / "a.txt")), writes_pid(str(tmp_path / "b.txt"))])
    assert paths == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert {(tmp_path / name).read_text() for name in ("a.txt", "b.txt")} == {str(os.getpid())}


def test_the_costliest_job_gets_a_lane_to_itself():
    assert drawing.dealt([1.0, 1.0, 1.0, 3.0], 2) == [[3], [0, 1, 2]]
    assert drawing.dealt([1.0] * 4, 2) == [[0, 2], [1, 3]]  # alike: dealt in turn
    assert sorted(i for lane in drawing.dealt([2.0, 5.0, 1.0], 3) for i in lane) == [0, 1, 2]


def test_costs_change_the_lanes_not_the_order_of_the_paths(tmp_path, monkeypatch):
    monkeypatch.setattr(drawing, "can_fork", lambda: True)
    monkeypatch.setattr(drawing, "cores", lambda: 2)
    jobs = [writes_pid(str(tmp_path / f"{k}.txt")) for k in range(4)]
    paths = drawing.draw_all(jobs, costs=[1.0, 1.0, 1.0, 3.0])
    assert paths == [str(tmp_path / f"{k}.txt") for k in range(4)]
    pids = [int((tmp_path / f"{k}.txt").read_text()) for k in range(4)]
    assert pids[0] == pids[1] == pids[2] != pids[3]  # the costly last job drawn apart from the other three
