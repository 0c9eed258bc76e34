"""A page's training: the library's loop in a thread, watched, paused, stepped, stopped and saved."""

from __future__ import annotations

import math
import shlex
import time

import numpy as np
import pytest

from mlpfit.errors import DataError, FormulaError
from mlpfit.play import uploads
from mlpfit.play.session import Session
from mlpfit.play.settings import command, parse

SMALL = {"target": "sin(3*x)", "samples": "300", "hidden": "8,8", "epochs": "100", "batch-size": "16"}


def session(runs, **query) -> Session:
    return Session(parse({**SMALL, **query}, str(runs)), str(runs))


def wait_for(condition, seconds: float = 60.0) -> None:
    """Poll a condition; training on a shared CPU may take a while, so the limit is generous."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    s = session(runs)
    s.start()
    assert s.join(120)
    return s


def test_a_training_runs_to_done_and_reports_r2(finished):
    assert finished.state == "done", finished.error
    assert len(finished.rows) == finished.result.history.epochs
    metric = finished.final["metric"]
    assert metric["name"] == "R²" and metric["split"] == "test" and metric["values"][0] > 0.9
    units = finished.snapshot["units"]
    assert [len(layer) for layer in units] == [8, 8]
    assert all(set(u) == {"lo", "hi", "v"} for layer in units for u in layer)


def test_update_sends_setup_once_and_only_new_rows(finished):
    cursor = {}
    first = finished.update(cursor)
    assert first["setup"]["kind"] == "curve" and first["setup"]["units"]["layers"] == [8, 8]
    assert len(first["rows"]) == len(finished.rows) and first["final"]["epochs"] == len(finished.rows)
    assert finished.update(cursor) is None  # nothing changed since
    finished.publish(row={"epoch": 999, "train_loss": 1.0, "val_loss": 1.0, "lr": 0.0, "seconds": 0.0})
    second = finished.update(cursor)
    assert "setup" not in second and [r["epoch"] for r in second["rows"]] == [999]
    finished.rows.pop()


def test_the_pause_step_and_resume_buttons(tmp_path):
    s = session(tmp_path, epochs="30")
    s.step()  # a fresh page: one epoch, then wait
    wait_for(lambda: s.state == "paused")
    assert len(s.rows) == 1
    s.step()
    wait_for(lambda: len(s.rows) == 2 and s.state == "paused")
    s.start()  # go on
    assert s.join(120) and s.state == "done" and len(s.rows) == 30
    paused_rows = [r["seconds"] for r in s.rows]
    assert paused_rows == sorted(paused_rows)  # pause time is taken out, the clock still only goes forward


def test_stop_ends_a_long_training_mid_epoch(tmp_path):
    s = session(tmp_path, epochs="300", samples="20000", **{"batch-size": "8"})  # about 5 minutes
    s.start()
    wait_for(lambda: len(s.rows) >= 1 or s.snapshot is not None)
    s.stop()
    assert s.join(30)
    assert s.state == "stopped" and len(s.rows) < 300


def test_a_linear_net_on_a_bowl_is_told_why_it_cannot_work(tmp_path):
    s = session(tmp_path, target="x**2 + y**2", activation="identity", epochs="5")
    s.start()
    assert s.join(120)
    codes = [d["code"] for d in s.diagnostics]
    assert "nonlinear_target" in codes
    message = next(d for d in s.diagnostics if d["code"] == "nonlinear_target")
    assert "linear" in message["message"] and "activation" in message["hint"]


def test_refused_input_is_raised_before_any_thread(tmp_path):
    with pytest.raises(FormulaError):
        session(tmp_path, target="sin(3*x")
    with pytest.raises(DataError, match="not finite"):
        session(tmp_path, target="log(x)")


def test_save_writes_a_run_that_predict_reads_and_the_command_repeats(finished, tmp_path, cli):
    saved = finished.save()
    assert saved == finished.save()  # once
    path = saved["path"]
    assert path.startswith(finished.runs_dir) and saved["report"].endswith("/report.html")
    out = cli("predict", path, "0.5", "--json")
    assert out.code == 0, out.err
    predicted = out.json()["predictions"][0][0]
    assert abs(predicted - math.sin(1.5)) < 0.3
    assert cli("explain", path).code == 0 and cli("report", path).code == 0  # a normal run folder
    assert saved["command"] == command(finished.settings)
    words = shlex.split(saved["command"])
    again = cli(*words[1:], "--out", str(tmp_path / "again"), "--json", "--no-plots")
    assert again.code == 0, again.err
    # same seed, same CPU: the command trains exactly the model the page trained
    assert again.json()["metrics"]["test"]["r2"] == finished.result.summary["metrics"]["test"]["r2"]


def test_an_uploaded_table_trains_classes(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 2))
    lines = ["a,b,label"] + [f"{a:.4f},{b:.4f},{'in' if a * a + b * b < 0.5 else 'out'}" for a, b in X]
    stored = uploads.store(str(tmp_path), "rings.csv", "\n".join(lines).encode())
    assert stored["columns"] == ["a", "b", "label"] and stored["target"].startswith("upload:")
    s = session(tmp_path, target=stored["target"], epochs="30", **{"target-column": "label"})
    assert s.view.kind == "classes"
    s.start()
    assert s.join(120) and s.state == "done", s.error
    assert s.final["metric"]["name"] == "accuracy" and s.final["metric"]["values"][0] > 0.7
