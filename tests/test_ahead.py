"""report.ahead: a child made ready during training draws the report exactly as the parent would; a child
that is killed, interrupted or fails leaves the report to the parent; no child outlives its fit."""

from __future__ import annotations

import json
import os
import shutil
import signal

import numpy as np
import pytest
from matplotlib.image import imread

from mlpfit.fitting import fit as fitting
from mlpfit.report import ahead, drawing, html

from conftest import formula_config


@pytest.fixture
def forking(monkeypatch):
    """Fork whatever threads this test process has (pytest plugins may start some)."""
    monkeypatch.setattr(drawing, "can_fork", lambda: True)
    monkeypatch.setattr(ahead, "can_fork", lambda: True)


def copy_run(run_dir, folder) -> str:
    return shutil.copytree(run_dir, folder)


def gone(pid: int) -> bool:
    """The process no longer exists (reaped: not even a zombie left)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_child_draws_the_same_report_as_the_parent(surface_run, tmp_path, forking):
    by_child, by_parent = copy_run(surface_run.run_dir, tmp_path / "child"), copy_run(surface_run.run_dir, tmp_path / "parent")
    for name in ("loss.png", "fit.png", "units.png", "sensitivity.png", "report.html"):
        os.remove(os.path.join(by_child, name))
    worker = ahead.ReportAhead.start()
    pid = worker.pid
    page = worker.draw(by_child)
    assert page == os.path.join(by_child, "report.html") and gone(pid)
    html.write_report(by_parent)
    for name in ("loss.png", "fit.png", "units.png", "sensitivity.png"):
        assert np.array_equal(imread(os.path.join(by_child, name)), imread(os.path.join(by_parent, name))), name
    assert open(page).read() == open(os.path.join(by_parent, "report.html")).read()


def test_a_killed_child_answers_none_and_is_reaped(surface_run, tmp_path, forking):
    run_dir = copy_run(surface_run.run_dir, tmp_path / "run")
    worker = ahead.ReportAhead.start()
    pid = worker.pid
    os.kill(pid, signal.SIGKILL)
    assert worker.draw(run_dir) is None and gone(pid)


def test_the_child_ignores_ctrl_c_which_is_the_parents_to_handle(surface_run, tmp_path, forking):
    run_dir = copy_run(surface_run.run_dir, tmp_path / "run")
    worker = ahead.ReportAhead.start()
    os.kill(worker.pid, signal.SIGINT)
    assert worker.draw(run_dir) == os.path.join(run_dir, "report.html")


def test_a_child_that_cannot_draw_answers_none(surface_run, tmp_path, forking):
    run_dir = copy_run(surface_run.run_dir, tmp_path / "run")
    with open(os.path.join(run_dir, "summary.json"), "w") as handle:
        handle.write("{ not json")
    worker = ahead.ReportAhead.start()
    assert worker.draw(run_dir) is None


def test_close_stops_a_child_that_was_never_asked(forking):
    with ahead.report_ahead(True) as worker:
        pid = worker.pid
    assert gone(pid)


def test_no_child_where_forking_is_unsafe_or_nothing_is_drawn(monkeypatch):
    monkeypatch.setattr(ahead, "can_fork", lambda: False)
    assert ahead.ReportAhead.start() is None
    monkeypatch.setattr(ahead, "can_fork", lambda: True)
    with ahead.report_ahead(False) as worker:
        assert worker is None


def test_a_fit_draws_its_report_in_the_child(tmp_path, forking, monkeypatch):
    answers = []
    draw = ahead.ReportAhead.draw

    def recorded(self, run_dir):
        answers.append(draw(self, run_dir))
        return answers[-1]

    monkeypatch.setattr(ahead.ReportAhead, "draw", recorded)
    result = fitting.fit(formula_config("x*y", str(tmp_path / "run"), epochs=5))
    assert answers == [os.path.join(result.run_dir, "report.html")]
    assert {"fit.png", "units.png", "report.html"} <= set(os.listdir(result.run_dir))
    manifest = json.load(open(os.path.join(result.run_dir, "manifest.json")))
    assert "report.html" in json.dumps(manifest)  # registered as derived by the child, as write_report does


def test_a_fit_whose_child_failed_draws_the_report_itself(tmp_path, forking, monkeypatch):
    monkeypatch.setattr(ahead, "warm_up", lambda: os._exit(3))  # the child dies before it is asked
    result = fitting.fit(formula_config("x*y", str(tmp_path / "run"), epochs=5))
    assert {"fit.png", "units.png", "report.html"} <= set(os.listdir(result.run_dir))


def test_an_interrupted_fit_leaves_no_child(tmp_path, forking, monkeypatch):
    started = []
    start = ahead.ReportAhead.start.__func__

    def recorded(cls, table=False):
        started.append(start(cls, table))
        return started[-1]

    monkeypatch.setattr(ahead.ReportAhead, "start", classmethod(recorded))

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fitting.interruptible, "run", interrupt)
    with pytest.raises(KeyboardInterrupt):
        fitting.fit(formula_config("x*y", str(tmp_path / "run"), epochs=5))
    assert len(started) == 1 and started[0].pid is None  # reaped by close()


def test_a_fit_draws_with_the_child_its_caller_made_ready_and_leaves_closing_it_to_the_caller(tmp_path, forking,
                                                                                                 monkeypatch):
    """The CLI forks the drawer before its own imports and the data: the fit uses it and forks no other."""
    given = ahead.ReportAhead.start()
    monkeypatch.setattr(ahead.ReportAhead, "start", classmethod(lambda cls: pytest.fail("a second child")))
    result = fitting.fit(formula_config("x*y", str(tmp_path / "run"), epochs=5), ahead=given)
    assert given.pid is None and given.to_child is None  # it drew the report, and was reaped
    assert {"fit.png", "units.png", "report.html"} <= set(os.listdir(result.run_dir))
    given.close()  # the caller's: harmless after the draw


def test_a_cli_fit_that_fails_before_training_leaves_no_child(cli, tmp_path, forking):
    bad = tmp_path / "ragged.csv"
    bad.write_text("a,b,y\n1,2,3\n4,5\n")
    before = set(os.listdir("/proc"))
    result = cli("fit", str(bad), "--out", str(tmp_path / "run"))
    assert result.code == 2 and "Traceback" not in result.err
    mine = [pid for pid in set(os.listdir("/proc")) - before if pid.isdigit() and parent_of(pid) == os.getpid()]
    assert mine == []


def parent_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_a_fork_that_fails_means_no_child(monkeypatch):
    def no_fork():
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(ahead, "can_fork", lambda: True)
    monkeypatch.setattr(ahead.os, "fork", no_fork)
    open_before = len(os.listdir("/proc/self/fd"))
    assert ahead.ReportAhead.start() is None
    assert len(os.listdir("/proc/self/fd")) == open_before  # its pipes closed again


@pytest.mark.parametrize("table", [False, True])
def test_a_tables_drawer_loads_the_encoding_reader_while_it_waits(table):
    """The child forks before the fit reads its CSV: a table's report would import pandas after the training."""
    import subprocess
    import sys

    code = ("import os, sys\nfrom mlpfit.report import ahead\nread, write = os.pipe()\n"
            f"assert ahead.serve(read, write, table={table}) == []\n"  # closes its own write end: no run comes
            "print('mlpfit.data.sources.encoding' in sys.modules, 'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(table), str(table)]
