"""Shared studies: worker processes on a journal file and on a real PostgreSQL server that this
module starts (Debian's postgresql package, which scripts/setup installs when run as root).

The workers are real `mlpfit sweep` processes. To make "two workers share the study" certain rather
than a matter of timing, the first worker is paused (SIGSTOP) while it holds trials, and the
second fills the rest of the study; a worker killed with SIGKILL mid-trial is what a crashed
machine looks like to the others.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import optuna
import pytest

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
POLL = 0.05
# Tiny trials: a few hundred samples, one small shape, enough epochs that a batch takes a moment.
SWEEP = ["sweep", "x**2", "--samples", "300", "--epochs", "150", "--space", "width=4 depth=1"]


# ---------------------------------------------------------------- a PostgreSQL server for this session


def postgres_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL cluster in a temp folder, on 127.0.0.1 only, stopped at the end."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        if os.geteuid() == 0 and os.path.exists("/etc/debian_version"):
            pytest.fail("PostgreSQL is not installed: run scripts/setup (as root it installs Debian's postgresql)")
        reason = "PostgreSQL is not installed and cannot be here (scripts/setup installs it as root on Debian)"
        print(reason)
        pytest.skip(reason)
    root = tempfile.mkdtemp(prefix="mlpfit-pg-")
    as_postgres = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(root, "data"), free_port()
    run = lambda *args: subprocess.run([*as_postgres, *args], check=True, capture_output=True, timeout=120)  # noqa: E731
    try:
        run(f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        run(f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-o", options, "-w", "-t", "60", "start")
        run(f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlpfit")
        yield f"postgresql://postgres@127.0.0.1:{port}/mlpfit"
    finally:
        subprocess.run([*as_postgres, f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------- helpers


def start_worker(tmp_path, name: str, storage: str, study: str, trials: int, heartbeat: str | None = None):
    env = {**os.environ, "PYTHONPATH": SRC}
    if heartbeat:
        env["MLPFIT_SWEEP_HEARTBEAT"] = heartbeat
    command = [sys.executable, "-m", "mlpfit", *SWEEP, "--trials", str(trials), "--storage", storage,
               "--study", study, "--out", str(tmp_path / name), "--threads", "1"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def load(storage: str, study: str):
    if "://" not in storage:
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
    return optuna.load_study(study_name=study, storage=storage)


def wait_until(check, what: str, timeout: float = 180):
    """Poll until check() is true; the timeout only guards against a hang."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():
                return
        except KeyError:  # the study does not exist yet
            pass
        time.sleep(POLL)
    pytest.fail(f"timed out waiting until {what}")


def trials_of(storage: str, study: str, process, state=None) -> list:
    worker = f"{socket.gethostname()}:{process.pid}"
    return [t for t in load(storage, study).get_trials(deepcopy=False)
            if t.user_attrs.get("worker") == worker and (state is None or t.state == state)]


def finish(process) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def pause_outside_journal_lock(process, storage: str) -> bool:
    """SIGSTOP the process, unless it holds the journal's lock file: a lock held past its grace
    period (30 s) is broken by the other workers, which a real worker never does for that long."""
    os.kill(process.pid, signal.SIGSTOP)
    # The stop lands after kill returns: a worker still running could take the lock after the check below.
    wait_until(lambda: stopped(process.pid), "worker a stops", timeout=10)
    if "://" in storage or not os.path.lexists(storage + ".lock"):  # the lock is a symlink
        return True
    os.kill(process.pid, signal.SIGCONT)
    return False


def stopped(pid: int) -> bool:
    """The process is stopped (SIGSTOP has taken effect): state T in /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")


def share_one_study(tmp_path, storage: str, study: str, trials: int):
    """Worker a takes its share and is paused; b fills the rest; a resumes. Returns (a, b, a's output, b's)."""
    a = start_worker(tmp_path, "a", storage, study, trials)
    try:
        wait_until(lambda: trials_of(storage, study, a, optuna.trial.TrialState.RUNNING), "worker a trains")
        wait_until(lambda: pause_outside_journal_lock(a, storage), "worker a pauses without the journal's lock")
        assert len(load(storage, study).trials) < trials, "worker a asked for every trial before it was paused"
        b = start_worker(tmp_path, "b", storage, study, trials, heartbeat="1:300")  # a is paused, not dead
        wait_until(lambda: trials_of(storage, study, b, optuna.trial.TrialState.COMPLETE)
                   and len(load(storage, study).trials) >= trials, "worker b fills the study")
    finally:
        os.kill(a.pid, signal.SIGCONT)
    return a, b, finish(a), finish(b)


# ---------------------------------------------------------------- journal file


def test_two_workers_share_one_journal_study(tmp_path):
    journal = str(tmp_path / "study.journal")
    a, b, _, shown = share_one_study(tmp_path, journal, "shared", trials=6)
    study = load(journal, "shared")
    assert len(study.trials) == 6  # --trials is the study's total, not each worker's
    assert {t.state for t in study.trials} <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    assert {t.user_attrs["worker"].rsplit(":", 1)[1] for t in study.trials} == {str(a.pid), str(b.pid)}
    assert len({t.params["lr"] for t in study.trials}) == 6  # the workers did not propose the same settings
    assert "sweep: 6 settings" in shown  # b's table is the whole study's, a's trials included
    for name in ("a", "b"):
        assert os.path.isfile(tmp_path / name / "best" / "manifest.json")


def test_workers_option_runs_local_processes_on_a_journal_in_out(tmp_path, cli):
    out = tmp_path / "sw"
    result = cli(*SWEEP, "--epochs", "30", "--trials", "6", "--workers", "2", "--out", str(out), "--threads", "1")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if " trial " in line]
    assert len(lines) == 6 and all(line.split()[0] in ("w1", "w2") for line in lines)  # one whole line per trial
    assert [line.rsplit("(", 1)[1] for line in lines] == [f"{i}/6)" for i in range(1, 7)]
    study = load(str(out / "sweep.journal"), "mlpfit-sweep")
    assert len(study.trials) == 6
    assert "sweep: 6 settings" in result.out
    assert os.path.isfile(out / "best" / "manifest.json")
    assert not [name for name in os.listdir(out) if name.startswith(".best-")]  # no half-built refit left


def test_show_reads_a_journal_study_without_training(tmp_path, cli):
    out = tmp_path / "sw"
    assert cli(*SWEEP, "--epochs", "20", "--trials", "3", "--storage", str(tmp_path / "s.journal"),
               "--study", "look", "--out", str(out), "--quiet").code == 0
    shown = cli("sweep", "--storage", str(tmp_path / "s.journal"), "--study", "look", "--show")
    assert shown.code == 0 and "study look: 3 trials" in shown.out
    rows = cli("sweep", "--storage", str(tmp_path / "s.journal"), "--study", "look", "--show", "--json").json()["rows"]
    assert sorted(r["trial"] for r in rows) == [0, 1, 2]
    missing = cli("sweep", "--storage", str(tmp_path / "s.journal"), "--study", "nope", "--show")
    assert missing.code == 2 and "look" in missing.err and len(missing.err.strip().splitlines()) == 1


# ---------------------------------------------------------------- PostgreSQL


def test_two_workers_share_one_postgres_study(tmp_path, postgres_url, cli):
    a, b, _, shown = share_one_study(tmp_path, postgres_url, "pg-shared", trials=6)
    study = load(postgres_url, "pg-shared")
    assert len(study.trials) == 6
    assert {t.user_attrs["worker"].rsplit(":", 1)[1] for t in study.trials} == {str(a.pid), str(b.pid)}
    assert "sweep: 6 settings" in shown
    table = cli("sweep", "--storage", postgres_url, "--study", "pg-shared", "--show")
    assert table.code == 0 and "study pg-shared: 6 trials" in table.out
    assert str(a.pid) in table.out and str(b.pid) in table.out  # the worker column names both


def test_a_killed_worker_is_retried_and_the_study_completes(tmp_path, postgres_url, cli):
    url, name = postgres_url, "pg-killed"
    a = start_worker(tmp_path, "a", url, name, trials=4, heartbeat="1:5")
    wait_until(lambda: trials_of(url, name, a, optuna.trial.TrialState.RUNNING), "worker a trains")
    a.kill()  # SIGKILL: no chance to tell anything
    a.wait(timeout=30)
    killed = {t.number for t in trials_of(url, name, a, optuna.trial.TrialState.RUNNING)}
    assert killed, "worker a finished its trials before it was killed"
    b = start_worker(tmp_path, "b", url, name, trials=4, heartbeat="1:5")
    shown = finish(b)
    study = load(url, name)
    states = {t.number: t.state for t in study.trials}
    assert all(states[n] == optuna.trial.TrialState.FAIL for n in killed)  # marked failed by b's heartbeat
    retries = [t for t in study.trials if "failed_trial" in t.system_attrs]
    assert {t.system_attrs["failed_trial"] for t in retries} >= killed  # each killed trial was queued again
    assert all(t.state != optuna.trial.TrialState.WAITING and t.user_attrs["worker"].endswith(f":{b.pid}")
               for t in retries)  # b ran them all
    finished = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(finished) == 4  # the study completed: nothing but time was lost
    assert "failed" in shown and "retry of" in shown
    assert os.path.isfile(tmp_path / "b" / "best" / "manifest.json")


def queued_after_grace(url: str, name: str) -> int:
    """Fail the study's stale trials as any worker's heartbeat would (grace 5 s); the number now queued."""
    from mlpfit.fitting.sweeping.storage import HEARTBEAT_ENV, open_storage

    os.environ[HEARTBEAT_ENV] = "1:5"
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(url))
    finally:
        del os.environ[HEARTBEAT_ENV]
    optuna.storages.fail_stale_trials(study)
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))


def test_a_worker_joining_after_a_kill_takes_the_retry_whatever_its_total(tmp_path, postgres_url):
    """The study holds more trials than the joining worker's --trials 2: it still takes the killed worker's
    queued retries and ends. Was: it asked nothing (a negative batch) and waited on the retries forever."""
    url, name = postgres_url, "pg-joined"
    a = start_worker(tmp_path, "a", url, name, trials=30, heartbeat="1:5")
    wait_until(lambda: len(trials_of(url, name, a, optuna.trial.TrialState.COMPLETE)) > 2
               and trials_of(url, name, a, optuna.trial.TrialState.RUNNING), "worker a finishes trials and trains more")
    a.kill()
    a.wait(timeout=30)
    killed = {t.number for t in trials_of(url, name, a, optuna.trial.TrialState.RUNNING)}
    assert killed, "worker a finished its trials before it was killed"
    wait_until(lambda: queued_after_grace(url, name) >= len(killed), "a's trials are failed and queued again")
    b = start_worker(tmp_path, "b", url, name, trials=2, heartbeat="1:5")
    finish(b)  # ends (communicate's timeout guards the hang this test is about)
    retries = [t for t in load(url, name).trials if "failed_trial" in t.system_attrs]
    assert {t.system_attrs["failed_trial"] for t in retries} >= killed
    assert all(t.state != optuna.trial.TrialState.WAITING and t.user_attrs["worker"].endswith(f":{b.pid}")
               for t in retries)  # b trained every retry


def test_database_errors_are_one_line(cli, postgres_url):
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/mlpfit"
    unreachable = cli(*SWEEP, "--trials", "2", "--storage", closed)
    assert unreachable.code == 2 and "cannot reach the database" in unreachable.err
    no_driver = cli(*SWEEP, "--trials", "2", "--storage", "postgresql+pg8000://postgres@127.0.0.1/mlpfit")
    assert no_driver.code == 2 and 'mlpfit[postgres]' in no_driver.err
    absent = cli("sweep", "--storage", postgres_url, "--study", "never-made", "--show")
    assert absent.code == 2 and "never-made" in absent.err
    for result in (unreachable, no_driver, absent):
        assert len(result.err.strip().splitlines()) == 1, result.err
