"""The whole sweep: one process, N local workers, or a look at a shared study.

Results go to a table on screen, ``sweep.csv`` in the sweep folder, and the best setting (lowest
validation loss) is refit as a normal run folder ``<out>/best`` that ``mlpfit predict`` reads. With
a storage, the rows are the whole study's (every worker's trials), and every worker refits the
study's best so far when it ends.
"""

# Deferred imports: optuna loads inside the functions that use it, so option errors answer fast.

from __future__ import annotations

import copy
import dataclasses
import os
import time
from dataclasses import dataclass, field

from mlpfit.config import schema as cfg
from mlpfit.errors import TrainingError, UsageError
from mlpfit.fitting.sweeping import best as refitting
from mlpfit.fitting.sweeping.batch import Shared, best_setting, load_shared, run_grid
from mlpfit.fitting.sweeping.ownership import claim_study
from mlpfit.fitting.sweeping.plan import DEFAULT_STUDY, Plan
from mlpfit.fitting.sweeping.results import study_rows, study_task, write_csv
from mlpfit.fitting.sweeping.storage import open_storage, shown_url
from mlpfit.fitting.sweeping.trials import open_study, run_trials, study_best, worker_name
from mlpfit.fitting.sweeping.workers import run_workers
from mlpfit.interrupt import Interrupted
from mlpfit.runfolder import store as runs
from mlpfit.runfolder.claim import prepare_dir

JOURNAL = "sweep.journal"  # the shared study of --workers N when no --storage is given


@dataclass
class SweepResult:
    out: str  # the sweep folder
    rows: list[dict]  # one per setting or trial
    best: dict  # the setting that was refit
    best_run: str  # <out>/best
    csv: str  # <out>/sweep.csv
    task: str = "regress"  # what val_score is: mean R² over outputs, or accuracy
    inputs: list = field(default_factory=list)  # input names, for the predict hint
    notes: list = field(default_factory=list)  # e.g. a worker that was killed


def run(base: cfg.FitConfig, plan: Plan, progress=lambda text: None, on_trial=lambda worker, row: None) -> SweepResult:
    """Run the plan in this process, or in plan.workers local processes; ``on_trial`` sees each finished trial."""

    shared = load_shared(base)
    out = base.run.out or runs.default_run_dir(f"sweep-{shared.dataset.name}")
    prepare_dir(out, base.run.force)
    start = time.perf_counter()
    notes = []
    csv_path = os.path.join(out, "sweep.csv")
    if plan.grid is not None:
        rows = grid_keeping_rows(shared, plan.grid, progress, csv_path)
        best_run, best = refitting.refit_best(base, out, lambda: best_setting(rows))
    elif plan.workers > 1:
        rows, best_run, best, notes = run_parallel(base, plan, out, on_trial, shared)
    else:
        if plan.storage:
            check_study(plan, shared, out)
        me = worker_name()
        rows, study = run_trials(shared, plan, on_trial=lambda row: on_trial(me, row))
        rows = study_rows(study) if plan.storage else rows
        progress(f"trained in {time.perf_counter() - start:.1f} s; refitting the best setting")
        best_run, best = refitting.refit_best(base, out, lambda: study_best(study) or best_setting(rows))
    write_csv(csv_path, rows)
    return SweepResult(out, rows, best, best_run, csv_path, shared.dataset.task, list(shared.dataset.inputs), notes)


def grid_keeping_rows(shared, settings: list[dict], progress, csv_path: str) -> list[dict]:
    """The grid's rows; Ctrl-C in the middle keeps the groups already trained in ``csv_path``."""
    done: list[dict] = []
    try:
        return run_grid(shared, settings, progress, on_group=lambda rows: done.__setitem__(slice(None), rows))
    except Interrupted as stop:
        if not done:
            raise
        write_csv(csv_path, done)
        raise Interrupted(f"{str(stop).split(';')[0]}; the {len(done)} setting(s) trained before are in {csv_path}") from None


def check_study(plan: Plan, shared: Shared, out: str) -> None:
    """Refuse a stored study made for another target or data (before any worker trains on it)."""
    import optuna

    try:  # loading writes nothing, so a refused sweep leaves the storage exactly as it was
        study = optuna.load_study(study_name=plan.study, storage=open_storage(plan.storage))
    except KeyError:
        study, _ = open_study(plan, seed=0)  # a new study, marked as this data's below
    where = f"--storage {shown_url(plan.storage)}" if plan.storage != os.path.join(out, JOURNAL) else \
        f"--out {out!r} (its {JOURNAL}, from an earlier sweep)"
    claim_study(study, shared, where)


def run_parallel(base: cfg.FitConfig, plan: Plan, out: str, on_trial, shared: Shared):
    """plan.workers processes on one study (a journal in the sweep folder unless --storage names one)."""
    worker_base = copy.deepcopy(base)
    worker_base.run = dataclasses.replace(base.run, out=out, force=True, quiet=True, json=False)
    worker_plan = dataclasses.replace(plan, storage=plan.storage or os.path.join(out, JOURNAL), workers=1)
    check_study(worker_plan, shared, out)
    notes = run_workers(plan.workers, work, (worker_base, worker_plan),
                        lambda worker, kind, row: on_trial(worker, row) if kind == "trial" else None)
    study, _ = open_study(worker_plan, seed=0)
    best_run = os.path.join(out, "best")
    best = refitting.current_setting(best_run)  # what the last worker refit: the study's best
    if best is None:
        raise TrainingError("no trial of the sweep completed (each diverged, was pruned or failed): "
                            "lower the learning rates in --space")
    return study_rows(study), best_run, best, notes


def work(base: cfg.FitConfig, plan: Plan, send) -> None:
    """One worker of --workers N: trials until the study is full, then refit its best so far."""
    shared = load_shared(base)
    _, study = run_trials(shared, plan, on_trial=lambda row: send("trial", row))
    if study_best(study) is not None:
        refitting.refit_best(base, base.run.out, lambda: study_best(study))


def show(storage: str | None, study_name: str | None) -> tuple[list[dict], str]:
    """(rows, task) of a stored study, without training."""
    import optuna


    if storage is None:
        raise UsageError("--show reads a stored study: give --storage FILE.journal or a database URL")
    backend = open_storage(storage, must_exist=True)
    name = study_name or DEFAULT_STUDY
    try:
        study = optuna.load_study(study_name=name, storage=backend)
    except KeyError:
        names = optuna.get_all_study_names(backend)
        held = ", ".join(repr(n[:60]) for n in names[:20]) or "no study"
        raise UsageError(f"--study {name[:60]!r} is not in {shown_url(storage)}: it holds {held}") from None
    return study_rows(study), study_task(study)
