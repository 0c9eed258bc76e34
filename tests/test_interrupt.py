"""Interrupts: signal handlers that only raise a flag, and a real Ctrl-C / SIGTERM to `mlpfit fit`."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mlpfit.interrupt import Interrupted, stop_signals

SRC = Path(__file__).resolve().parents[1] / "src"
FIT = ["fit", "x**2 + y**2", "--domain", "-14:14", "--samples", "4000", "--batch-size", "64", "--epochs", "300"]  # ~2 s


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_the_block_only_raises_the_flag(sig):
    with stop_signals() as request:
        assert not request.requested
        signal.raise_signal(sig)
        signal.raise_signal(signal.SIGINT)  # a second one is ignored, the first is kept
    assert request.requested and request.signal_name == sig.name


def test_previous_handlers_come_back():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with stop_signals():
        assert signal.getsignal(signal.SIGINT) is not before[signal.SIGINT]
    assert {s: signal.getsignal(s) for s in before} == before


def test_outside_the_main_thread_nothing_is_installed():
    seen = {}
    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN when run in the background

    def worker():
        with stop_signals() as request:
            seen["handler"] = signal.getsignal(signal.SIGINT)
            seen["requested"] = request.requested

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == {"handler": before, "requested": False}


def test_interrupted_exits_130():
    assert Interrupted("x").exit_code == 130


# ---------------------------------------------------------------- the CLI, with real signals


def mlpfit(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", "mlpfit", *args], capture_output=True, text=True, env=env,
                          timeout=300, **kw)


def interrupted_fit(out: Path, sig) -> subprocess.CompletedProcess:
    """Start the fit, wait until training announces itself on stderr, then send ``sig``."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-m", "mlpfit", *FIT, "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    first = ""
    while "Ctrl-C" not in first:  # the handlers are installed before this line is printed
        line = proc.stderr.readline()
        assert line, f"fit ended before training started: {first}"
        first += line
    time.sleep(0.3)  # land somewhere inside an epoch, not on the first step
    proc.send_signal(sig)
    stdout, rest = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, first + rest)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "run"
    done = mlpfit(*FIT, "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_a_checkpoint_and_resume_finishes_like_an_uninterrupted_fit(tmp_path, straight, sig):
    out = tmp_path / "run"
    stopped = interrupted_fit(out, sig)
    assert stopped.returncode == 130, stopped.stderr
    last = stopped.stderr.strip().splitlines()[-1]
    assert f"interrupted by {sig.name}" in last and f"mlpfit fit --resume {out}" in last
    assert "Traceback" not in stopped.stderr
    assert (out / "checkpoint" / "manifest.json").is_file() and not (out / "manifest.json").exists()

    if sig == signal.SIGINT:  # (the CLI checks once; SIGTERM leaves the same folder)
        early = mlpfit("predict", str(out), "1", "2")
        assert early.returncode == 2 and "--resume" in early.stderr  # says how to finish it

    resumed = mlpfit("fit", "--resume", str(out), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    ours_w, theirs_w = load_file(out / "model.safetensors"), load_file(straight / "model.safetensors")
    assert ours_w.keys() == theirs_w.keys() and all(torch.equal(ours_w[k], theirs_w[k]) for k in ours_w)
    if sig == signal.SIGINT:
        ours, theirs = mlpfit("predict", str(out), "1", "2"), mlpfit("predict", str(straight), "1", "2")
        assert ours.returncode == 0 and ours.stdout == theirs.stdout and ours.stdout.strip()


def test_resume_refuses_options_that_would_change_the_config(tmp_path, straight):
    done = mlpfit("fit", "--resume", str(straight), "--epochs", "80")
    assert done.returncode == 2 and "--epochs" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_resume_of_a_finished_run_says_there_is_nothing_to_resume(straight):
    done = mlpfit("fit", "--resume", str(straight))
    assert done.returncode == 2 and "nothing to resume" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_fit_without_target_or_resume_is_a_usage_error():
    done = mlpfit("fit")
    assert done.returncode == 2 and "TARGET" in done.stderr
