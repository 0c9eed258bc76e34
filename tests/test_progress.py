"""Progress: a throttled bar on a terminal, plain lines elsewhere, nothing with --quiet or --json."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from mlpfit.cli import main as cli
from mlpfit.cli.progress import BarProgress, LineProgress, progress_callbacks


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _drive(callback, epochs: int) -> SimpleNamespace:
    """Feed a callback ``epochs`` epochs of logs, as the loop would."""
    loop = SimpleNamespace(epochs=epochs, history=SimpleNamespace(rows=[]))
    callback.on_train_begin(loop)
    for epoch in range(1, epochs + 1):
        logs = {"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 2.0 / epoch, "lr": 0.01, "seconds": 0.001 * epoch}
        loop.history.rows.append(logs)
        callback.on_epoch_end(loop, logs)
    callback.on_train_end(loop)
    return loop


def test_choice_of_display():
    assert progress_callbacks(quiet=True, as_json=False, stream=FakeTerminal()) == []
    assert isinstance(progress_callbacks(False, False, FakeTerminal())[0], BarProgress)
    assert isinstance(progress_callbacks(False, True, FakeTerminal())[0], BarProgress)  # stderr is free
    assert isinstance(progress_callbacks(False, False, io.StringIO())[0], LineProgress)
    assert progress_callbacks(False, True, io.StringIO()) == []


def test_lines_every_interval_and_a_last_line():
    stream = io.StringIO()
    _drive(LineProgress(stream, every=0.0), 3)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4 and lines[0].startswith("training: epoch 1/3")
    assert lines[-1].startswith("done: epoch 3/3, loss 0.3333")


def test_a_short_run_prints_only_the_last_line():
    stream = io.StringIO()
    _drive(LineProgress(stream, every=60.0), 50)
    assert stream.getvalue().splitlines() == [stream.getvalue().splitlines()[-1]]
    assert "epoch 50/50" in stream.getvalue()


def test_bar_is_throttled_and_ends_complete(monkeypatch):
    stream = FakeTerminal()
    bar = BarProgress(stream, max_hz=10)
    shown = []
    original = bar._show
    monkeypatch.setattr(bar, "_show", lambda logs: (shown.append(logs["epoch"]), original(logs)))
    _drive(bar, 5000)
    assert len(shown) < 100, f"redrew {len(shown)} times for 5000 tiny epochs"
    assert shown[-1] == 5000
    assert "5000/5000" in stream.getvalue()


def _cli(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


FIT = ("fit", "sin(x)", "--samples", "60", "--epochs", "5", "--hidden", "4", "--no-plots", "--force")


def test_cli_fit_not_on_a_terminal_prints_progress_lines_to_stderr(capsys, tmp_path):
    code, out, err = _cli(capsys, *FIT, "--out", str(tmp_path / "a"))
    assert code == 0
    assert "done: epoch 5/5" in err
    assert "done: epoch" not in out


def test_cli_fit_quiet_prints_nothing(capsys, tmp_path):
    code, out, err = _cli(capsys, *FIT, "--out", str(tmp_path / "b"), "--quiet")
    assert (code, out, err) == (0, "", "")


def test_cli_fit_json_prints_one_object_and_no_progress(capsys, tmp_path):
    code, out, err = _cli(capsys, *FIT, "--out", str(tmp_path / "c"), "--json")
    assert code == 0 and err == ""
    summary = json.loads(out)
    assert summary["epochs"] == 5 and summary["run"] == str(tmp_path / "c")


def test_bar_interrupted_before_its_end_still_gives_the_cursor_back():
    stream = FakeTerminal()
    bar = BarProgress(stream)
    bar.on_train_begin(SimpleNamespace(epochs=10, history=SimpleNamespace(rows=[])))
    assert "\x1b[?25l" in stream.getvalue()  # rich hid the cursor
    bar.close()  # what atexit does after a Ctrl-C skipped on_train_end
    bar.close()
    text = stream.getvalue()
    assert "\x1b[?25h" in text and text.rindex("\x1b[?25h") > text.index("\x1b[?25l")
