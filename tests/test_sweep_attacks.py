"""Issue 29: sweeps under attack. A storage that is a link, a FIFO, a device or another kind of file;
a study reused for another target; passwords in printed URLs. Each is refused with exit 2 and one
line, and leaves every file as it was. Everything lies in pytest's temporary folder.

The storages that used to hang or read without end run in a child process with a deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mlpfit.errors import UsageError
from mlpfit.fitting.sweeping import run as sweeping
from mlpfit.fitting.sweeping import storage as stores
from cli_lines import one_line, run_cli

pytestmark = pytest.mark.usefixtures("one_thread")
QUICK = ["--samples", "200", "--epochs", "3", "--trials", "2", "--space", "width=8 depth=1", "--threads", "1", "-q"]
PASSWORD = "hunter2secret"


def sweep_in_child(tmp_path, *args, seconds: int = 120) -> subprocess.CompletedProcess:
    """`mlpfit sweep ...` in a child process that is killed after ``seconds`` (a hang fails, not blocks)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        return subprocess.run([sys.executable, "-m", "mlpfit", "sweep", *map(str, args)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mlpfit sweep {' '.join(map(str, args))} did not end within {seconds} s")


# ---------------------------------------------------------------- 3. sweeps write through links


def test_a_linked_journal_in_the_sweep_folder_is_not_appended_to(tmp_path, capsys):
    out, victim = tmp_path / "sweep", tmp_path / "victim.txt"
    assert run_cli(capsys, "sweep", "x**2", *QUICK, "--out", out)[0] == 0  # a sweep folder mlpfit made
    victim.write_text("keep me\n")
    (out / "sweep.journal").symlink_to(victim)
    code, _, err = run_cli(capsys, "sweep", "x**2", *QUICK, "--workers", "2", "--out", out, "--force")
    assert code == 2 and "symbolic link" in one_line(err)
    assert victim.read_text() == "keep me\n"


def test_a_fifo_storage_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "study.journal")
    try:
        done = sweep_in_child(tmp_path, "x**2", *QUICK, "--storage", tmp_path / "study.journal", "--out", tmp_path / "s")
    finally:
        try:  # a regression that waits in the FIFO gets its EOF here
            os.close(os.open(tmp_path / "study.journal", os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert done.returncode == 2 and "not a regular file" in one_line(done.stderr)


def test_a_device_storage_is_refused(tmp_path, capsys):
    code, _, err = run_cli(capsys, "sweep", "x**2", *QUICK, "--storage", "/dev/zero", "--out", tmp_path / "s")
    assert code == 2 and "not a regular file" in one_line(err)


@pytest.mark.parametrize("name, content", [("data.csv", "a,b\n1,2\n"), ("rows.jsonl", '{"a": 1}\n{"a": 2}\n'),
                                           ("notes.txt", "my notes\n")])
def test_a_file_that_is_no_journal_is_left_alone(tmp_path, capsys, name, content):
    (tmp_path / name).write_text(content)
    code, _, err = run_cli(capsys, "sweep", "x**2", *QUICK, "--storage", tmp_path / name, "--out", tmp_path / "s")
    assert code == 2 and "not an Optuna journal" in one_line(err)
    assert (tmp_path / name).read_text() == content


def test_sqlite_on_a_text_file_is_one_line_and_leaves_it(tmp_path, capsys):
    (tmp_path / "notes.db").write_text("not a database at all, just text\n" * 10)
    code, _, err = run_cli(capsys, "sweep", "x**2", *QUICK, "--storage", f"sqlite:///{tmp_path / 'notes.db'}",
                           "--out", tmp_path / "s")
    assert code == 2 and "not a usable database" in one_line(err)
    assert (tmp_path / "notes.db").read_text() == "not a database at all, just text\n" * 10


def test_a_port_that_is_not_a_number_is_one_line_without_the_password(tmp_path, capsys):
    url = f"postgresql://me:{PASSWORD}@db.example:port/mlpfit"
    code, _, err = run_cli(capsys, "sweep", "x**2", *QUICK, "--storage", url, "--out", tmp_path / "s")
    assert code == 2 and "not a database URL" in one_line(err) and PASSWORD not in err


# ---------------------------------------------------------------- 4. a study belongs to one target


def test_a_stored_study_refuses_another_target(tmp_path, capsys):
    journal = tmp_path / "shared.journal"
    assert run_cli(capsys, "sweep", "x**2", *QUICK, "--storage", journal, "--out", tmp_path / "a")[0] == 0
    before = journal.read_bytes()
    code, _, err = run_cli(capsys, "sweep", "sin(3*x)", *QUICK, "--storage", journal, "--out", tmp_path / "b")
    line = one_line(err)
    assert code == 2 and "'x**2'" in line and "--study" in line
    assert journal.read_bytes() == before and not (tmp_path / "b" / "best").exists()
    # the same target (and data) joins its study as before
    assert run_cli(capsys, "sweep", "x**2", *QUICK, "--storage", journal, "--out", tmp_path / "c")[0] == 0


def test_other_data_for_the_same_formula_is_another_study(tmp_path, capsys):
    journal = tmp_path / "shared.journal"
    assert run_cli(capsys, "sweep", "x**2", *QUICK, "--storage", journal, "--out", tmp_path / "a")[0] == 0
    code, _, err = run_cli(capsys, "sweep", "x**2", *QUICK, "--domain", "-5:5", "--storage", journal, "--out", tmp_path / "b")
    assert code == 2 and "other data" in one_line(err)


def test_force_over_a_parallel_sweep_of_another_target_is_refused(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert run_cli(capsys, "sweep", "x**2", *QUICK, "--workers", "2", "--out", out)[0] == 0
    best_before = (out / "best" / "summary.json").read_bytes()
    code, _, err = run_cli(capsys, "sweep", "sin(3*x)", *QUICK, "--workers", "2", "--out", out, "--force")
    assert code == 2 and "earlier sweep" in one_line(err)
    assert (out / "best" / "summary.json").read_bytes() == best_before  # not refit with the old target's best


# ---------------------------------------------------------------- 7. no password, no raw URL


def test_show_of_a_missing_study_hides_the_password(monkeypatch):
    import optuna

    memory = optuna.storages.InMemoryStorage()
    optuna.create_study(study_name="other", storage=memory)
    monkeypatch.setattr(sweeping, "open_storage", lambda url, must_exist=False: memory)
    with pytest.raises(UsageError) as refused:
        sweeping.show(f"postgresql://me:{PASSWORD}@db.example:5432/mlpfit", "missing")
    assert PASSWORD not in str(refused.value) and "'other'" in str(refused.value)


@pytest.mark.parametrize("url", [f"postgresql://me:{PASSWORD}@db:port/x", f"mysql+nodriver://me:{PASSWORD}@db/x",
                                 f"post\x1b[2Jgres://me:{PASSWORD}@db/x"])
def test_a_shown_url_never_carries_the_password_or_a_control_character(url):
    shown = stores.shown_url(url)
    assert PASSWORD not in shown and "\x1b" not in shown and "me" in shown
