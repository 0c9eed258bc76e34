"""Optuna trials, asked a batch at a time so same-shape settings train together.

--trials N is the study's total: before each ask a worker counts the trials that fill the budget
(finished by some worker, or running), so any number of workers on one storage stop together at
about N (two asking at the same instant can overshoot by a trial or two). On a shared storage a
worker asks for at most half of what is left, so a worker that starts later still gets trials. A trial whose worker
died is failed and queued again by the heartbeat (database storages); the queued copy fills its
slot and is always taken, whatever the total (a worker joining a study that already holds more trials
than its --trials still takes the retries it finds). A worker that finds its total held by other workers'
running trials waits for them, so the study completes while any worker lives; once the study holds its
total in finished trials, a worker ends: nothing it could do is left.
"""

# Deferred imports: optuna loads inside the functions that use it, so option errors answer fast.

from __future__ import annotations

import contextlib
import math
import os
import socket

try:
    import fcntl
except ImportError:  # not POSIX: workers ask without taking turns (a study may get one trial too many)
    fcntl = None

import numpy as np

from mlpfit.fitting.sweeping.batch import Shared, describe, resolved, train_group
from mlpfit.fitting.sweeping.heartbeat import Heartbeat
from mlpfit.fitting.sweeping.plan import TRIALS_PER_BATCH, Plan, group_key
from mlpfit.fitting.sweeping.storage import is_database, open_storage
from mlpfit.train.callbacks import Callback


class Pruner(Callback):
    """Reports each member's validation loss to its trial and stops members Optuna prunes."""

    def __init__(self, trials, every: int):
        self.trials, self.every = trials, every
        self.pruned: set[int] = set()  # members stopped for Optuna

    def on_epoch_end(self, trainer, logs):
        if logs["epoch"] % self.every:
            return
        for k, (trial, loss) in enumerate(zip(self.trials, logs["member_val_loss"])):
            if trainer.running[k] and math.isfinite(loss):
                trial.report(float(loss), logs["epoch"])
                if trial.should_prune():
                    self.pruned.add(k)
                    trainer.stop_members(np.arange(len(self.trials)) == k)


def suggest(trial, space: dict) -> dict:
    """One setting from the search space (ranges: lr log-uniform, depth integer)."""
    def pick(key, kind):
        value = space[key]
        if isinstance(value, tuple):
            return trial.suggest_float(key, *value, log=True) if kind is float else trial.suggest_int(key, *value)
        return trial.suggest_categorical(key, list(value))

    setting = {"lr": pick("lr", float), "hidden": [pick("width", int)] * pick("depth", int),
               "activation": pick("activation", str)}
    if "batch_size" in space:
        setting["batch_size"] = pick("batch_size", int)
    return setting


def open_study(plan: Plan, seed: int):
    """The plan's study, created or joined; returns (study, storage)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials show in the table, not as log lines
    storage = open_storage(plan.storage)
    study = optuna.create_study(study_name=plan.study, storage=storage, load_if_exists=True, direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=4))
    return study, storage


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_trials(shared: Shared, plan: Plan, on_trial=lambda row: None):
    """Ask, train and tell until the study holds plan.trials trials; returns (this worker's rows, study)."""
    # In memory the sweep repeats exactly; workers sharing a storage each get their own sampler
    # stream (seeded by pid), or they would all propose the same settings.
    seed = shared.base.train.seed if plan.storage is None else shared.base.train.seed + os.getpid()
    study, storage = open_study(plan, seed)
    study.set_user_attr("task", shared.dataset.task)
    rows, worker = [], worker_name()
    with Heartbeat(study, storage) as heartbeat:
        while True:
            heartbeat.fail_stale()  # dead workers' trials are queued again before we count
            with asking_in_turn(plan.storage):
                trials = ask_batch(study, plan.trials, heartbeat, shared=plan.storage is not None)
            if trials:
                rows += train_trials(shared, study, trials, plan.space, worker, on_trial)
                heartbeat.forget(trials)
            elif heartbeat.enabled and running(study) and finished(study) < plan.trials:
                heartbeat.wait()  # the rest is in other workers' hands: finish theirs if they die
            else:
                return rows, study


@contextlib.contextmanager
def asking_in_turn(storage: str | None):
    """Workers on one journal file ask in turn, so counting the study's trials and asking more is one step and
    two workers asking at once cannot both take the last trial (the study would hold one over --trials).

    An flock on the journal itself: Optuna's own journal lock is another file (created with O_EXCL), so the two
    never wait on each other. A database storage has no such lock here; its workers may overshoot by one."""
    if storage is None or is_database(storage) or fcntl is None:
        yield
        return
    fd = os.open(storage.removeprefix("journal:"), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def ask_batch(study, total: int, heartbeat: Heartbeat, shared: bool = False) -> list:
    """Up to TRIALS_PER_BATCH trials: queued retries first (always: they are part of the total), then new
    ones while the study is under its total.

    On a shared storage a worker takes at most half of what is left, so others starting a moment
    later still get trials and the last ones spread over the workers."""
    # A study may already hold more than this worker's total (another worker's larger --trials); new
    # trials are then none, but the retries are still this worker's to take.
    left = max(0, total - filled(study)) + len(queued(study))
    size = min(TRIALS_PER_BATCH, -(-left // 2) if shared else left)
    trials = []
    while len(trials) < size and (queued(study) or filled(study) < total):
        trial = study.ask()  # optuna hands out a queued (WAITING) trial before it makes a new one
        heartbeat.watch(trial)
        trials.append(trial)
    return trials


def queued(study) -> list:
    """Trials queued to run (a dead worker's, failed by the heartbeat and queued again)."""
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.WAITING,))


def filled(study) -> int:
    """Trials that count toward --trials: queued, running, or finished by a worker (diverged ones too).

    A failed trial that was queued again (a dead worker's: the heartbeat failed it) counts through its
    retry instead, even when the worker had recorded its row before it died (killed between recording
    and telling); counting both would fill the study with a retry that nobody then asks for. The retry
    counts from the moment it is queued: a worker that counted it only once running asked a new trial
    in its place, filled the study, and then waited forever on the retry nobody would ask for."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = {t.system_attrs.get("failed_trial") for t in trials} - {None}
    kept = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED)
    return sum(1 for t in trials if t.state in kept or (t.state == TrialState.FAIL and t.number not in retried
                                                          and "val_loss" in t.user_attrs.get("row", {})))


def finished(study) -> int:
    """The trials of filled() that are done: neither queued nor running."""
    from optuna.trial import TrialState

    return filled(study) - len(study.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING)))


def running(study) -> bool:
    from optuna.trial import TrialState

    return bool(study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)))


def train_trials(shared: Shared, study, trials, space: dict, worker: str, on_trial) -> list[dict]:
    """Train the asked trials, same shapes batched; tell each result with its table row."""
    settings = [suggest(trial, space) for trial in trials]
    configs = [resolved(shared, s) for s in settings]
    heads = [{"trial": t.number, **describe(s, c), "worker": worker} for t, s, c in zip(trials, settings, configs)]
    for trial, setting, head in zip(trials, settings, heads):
        trial.set_user_attr("setting", setting)
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("row", head)  # --show lists running trials too
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(group_key(config), []).append(i)
    rows = []
    for members in groups.values():
        group = [configs[i] for i in members]
        every = max(1, group[0].train.epochs // 20)  # ~20 reports per trial: a storage write each
        pruner = Pruner([trials[i] for i in members], every)
        results, _ = train_group(shared, group, [pruner], pruner.pruned)
        for i, result in zip(members, results):
            row = {**heads[i], **result}
            tell(study, trials[i], row)
            rows.append(row)
            on_trial(row)
    return rows


def tell(study, trial, row: dict) -> None:
    """Record the row and the outcome; a diverged setting is a failed trial with a result."""
    import optuna

    states = {"complete": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED}
    try:
        trial.set_user_attr("row", row)
        if row["state"] == "complete":
            study.tell(trial, row["val_loss"])
        else:
            study.tell(trial, state=states.get(row["state"], optuna.trial.TrialState.FAIL))
    except optuna.exceptions.UpdateFinishedTrialError:
        # Our heartbeat came too late (a stalled machine): another worker failed the trial and
        # queued it again. Its retry will be trained; this result stays in this worker's rows only.
        row["state"] = "lost"


def study_best(study) -> dict | None:
    """Across every worker of the study, the best completed trial's setting (None: none completed)."""
    try:
        return dict(study.best_trial.user_attrs["setting"])
    except (ValueError, KeyError):
        return None
