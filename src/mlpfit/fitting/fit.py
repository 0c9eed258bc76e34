"""One fit, start to end, for every kind of fit: source → dataset → scaling → model → training →
evaluation → run folder → report.

One model or an ensemble, the torch or the NumPy engine, regression or classes, a CLI fit, the
Python API or an estimator: all come through :func:`fit`, so a feature written here works for all.
"""

# Deferred imports: the report (matplotlib) loads only when a fit draws one without a drawer made ready ahead.

from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import dataclass, replace

from mlpfit import engines
from mlpfit.config.schema import FitConfig
from mlpfit.data.dataset import Dataset, Split
from mlpfit.errors import RunFolderError, UsageError, quoted_error
from mlpfit.fitting import diagnose, interruptible, memory
from mlpfit.fitting.build import Members, Start, build, finish, member_seeds
from mlpfit.fitting.prepare import load_dataset, member_rows, prepare, resolve
from mlpfit.fitting.stopping import stopping_rules
from mlpfit.fitting.summary import make_summary, member_info, split_samples
from mlpfit.interrupt import stop_signals
from mlpfit.network.network import Network
from mlpfit.report.ahead import ReportAhead, report_ahead
from mlpfit.runfolder import checkpoint, claim, store
from mlpfit.runfolder import run as runs
from mlpfit.runtime import without_huge_pages
from mlpfit.train.history import History
from mlpfit.train.trainer import Trainer

@dataclass
class FitResult:
    config: FitConfig  # resolved: every default concrete
    fitted: Network  # the trained network, whichever engine trained it
    history: History
    summary: dict  # the --json object
    dataset: Dataset
    split: Split
    run_dir: str | None  # None when nothing was saved
    optimizer_state: object = None  # the engine's optimizer at the end: a later fit may continue it (Start)
    trainer: Trainer | None = None  # how training went: seconds, members still running
    stopping: object = None  # the stopping rules (fitting.stopping): each member's best epoch and divergence


def fit(config: FitConfig, dataset: Dataset | None = None, callbacks=(), save: bool = True,
        resume: dict | None = None, start: Start | None = None, on_saved=None,
        ahead: ReportAhead | None = None, members: Members | None = None, split: Split | None = None) -> FitResult:
    """Train on ``config``'s target (or on ``dataset``, already in memory) and, by default, save a run folder.

    ``config`` is not changed; the result holds the resolved copy. ``resume`` is a checkpoint's
    state (:func:`resume_fit`); ``start`` an earlier fit to continue from (warm start, partial_fit).
    ``on_saved(result)`` runs once the run folder is written, before its plots and report are drawn
    (the CLI prints the summary then, so the numbers are not kept waiting for the pictures).
    ``ahead`` is a report drawer the caller made ready earlier (report.ahead; the caller closes it);
    without one, a fit that draws its report forks its own before training.
    ``members``: members that differ in seed and learning rate (a sweep's batch of settings);
    ``split``: rows already split (a sweep's settings all see one split).
    """
    request = Request(callbacks, save, resume, start, on_saved, ahead, members)
    with without_huge_pages():  # large arrays (images) would stall seconds in the kernel's compaction
        return fit_data(config, dataset, split, request)


@dataclass
class Request:
    """How :func:`fit` was asked to run, passed down as one value."""

    callbacks: tuple = ()
    save: bool = True
    resume: dict | None = None
    start: Start | None = None
    on_saved: object = None
    ahead: ReportAhead | None = None
    members: Members | None = None


def fit_data(config: FitConfig, dataset: Dataset | None, split: Split | None, request: Request) -> FitResult:
    """:func:`fit`'s work: load and prepare the data, claim the run folder, train and save."""
    config = copy.deepcopy(config)
    if dataset is None:
        dataset = load_dataset(config)
    if split is None:
        split = prepare(config, dataset)
        split = split if request.members is not None else member_rows(config, split)
    else:
        resolve(config, dataset, split)
    memory.check_fit(config, dataset, split)
    held = claim_run_dir(config, dataset, request.resume) if request.save else None
    try:
        # Before training (and before torch is imported): matplotlib loads in a child meanwhile.
        ready = request.ahead
        given = contextlib.nullcontext(ready) if ready is not None else report_ahead(request.save and config.run.plots)
        with given as ahead:
            return train_and_save(config, dataset, split, held.path if held else None, replace(request, ahead=ahead))
    finally:
        if held is not None:
            held.release()  # the marker stays; the lock that kept a second fit out goes


def train_and_save(config: FitConfig, dataset: Dataset, split: Split, run_dir: str | None,
                   request: Request) -> FitResult:
    """The fit itself, once the data are prepared and the run folder (if any) is claimed."""
    t = config.train
    device = engines.resolve_device(t.engine, t.device)
    members = request.members
    seeds = member_seeds(config) if members is None else members.seeds
    # The NumPy engine spreads an ensemble's members over its threads, each product then on one BLAS thread.
    blas = 1 if t.engine == "numpy" and len(seeds) > 1 else t.threads
    with engines.training_scope(t.engine, blas, t.seed, device):  # the caller's threads and seeds come back
        fitted, engine = build(config, dataset, split, device, request.start, members)
        before = diagnose.before_training(config=config, X=dataset.X, Y=dataset.Y, rows=split.train,
                                          task=dataset.task, x_scaler=fitted.x_scaler, y_scaler=fitted.y_scaler,
                                          parameters=fitted.parameter_count // fitted.members,
                                          outputs=dataset.outputs, domain=dataset.domain)
        stopping = stopping_rules(config, dataset, split, fitted.y_scaler)
        trainer = Trainer(engine, t.epochs, [*stopping.callbacks, *request.callbacks], network=fitted)
        history = interruptible.run(trainer, config, run_dir, request.resume)  # Ctrl-C: checkpoint, then exit 130
        fitted = finish(fitted, engine)
    diagnostics = before + diagnose.after_training(history=history, config=config)
    summary = make_summary(config, dataset, split, fitted, history, trainer.seconds, diagnostics, device, run_dir,
                           members=member_info(seeds, stopping))
    summary["diagnostics"] += [d.to_dict() for d in diagnose.after_evaluation(summary, history, config)]
    result = FitResult(config, fitted, history, summary, dataset, split, run_dir, engine.optimizer_state(),
                       trainer, stopping)
    if request.save:
        save_result(result, request.on_saved, request.ahead)
    elif request.on_saved is not None:
        request.on_saved(result)
    return result


def claim_run_dir(config: FitConfig, dataset: Dataset, resume: dict | None) -> claim.Claim:
    """The run folder, created and locked (or refused); a resumed run continues in its own."""
    run_dir = config.run.out if config.run.out is not None else store.default_run_dir(dataset.name)
    held = claim.claim(run_dir, config.run.force, resuming=resume is not None)
    config.run.out = run_dir
    return held


def save_result(result: FitResult, on_saved=None, ahead: ReportAhead | None = None) -> None:
    """Write the run folder, drop the checkpoint, draw the report (by ``ahead``'s child when there is one and
    it succeeds); a Ctrl-C meanwhile waits until the folder is written, so a trained model is never lost
    half-written."""
    with stop_signals():
        runs.save(result.run_dir, result.config.to_dict(), result.fitted, result.history, result.summary,
                  split_samples(result.dataset, result.split, result.config.train.seed))
        checkpoint.discard(result.run_dir)
    if on_saved is not None:
        on_saved(result)
    if result.config.run.plots and (ahead is None or ahead.draw(result.run_dir) is None):
        from mlpfit.report.html import write_report

        write_report(result.run_dir)  # from the saved files, so `mlpfit report` later draws the same


def resume_fit(run_dir: str, target: str | None = None, *, json: bool | None = None, quiet: bool | None = None,
               callbacks=(), on_saved=None) -> FitResult:
    """Continue the interrupted fit in ``run_dir`` from its checkpoint, with the config saved there."""
    state = checkpoint.load(run_dir)
    try:
        config = FitConfig.from_dict(state["config"])
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise RunFolderError(f"{checkpoint.folder(run_dir)} holds no usable config ({quoted_error(err)}): start a new fit") from None
    if target is not None and target != config.data.target:
        raise UsageError(f"TARGET {target!r} differs from the checkpoint's {config.data.target!r}: "
                         f"omit TARGET with --resume {run_dir}")
    config.run.out = os.fspath(run_dir)  # the folder may have been moved since
    config.run.json = config.run.json if json is None else json
    config.run.quiet = config.run.quiet if quiet is None else quiet
    return fit(config, callbacks=callbacks, resume=state, on_saved=on_saved)
