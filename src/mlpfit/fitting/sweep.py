"""Hyperparameter search: a grid, or Optuna trials, with same-shape settings trained as one batch.

Settings that share a network shape and a training schedule (hidden sizes, activation, epochs,
batch size, optimizer, loss) become members of one :class:`~mlpfit.nn.stacked.EnsembleMLP`; the
stacked optimizer takes a learning rate per member, so settings that differ in ``lr`` or ``seed``
(init) train together. Settings of different shapes train one group after another.

Results go to a table on screen, ``sweep.csv`` in the sweep folder, and the best setting (lowest
validation loss) is refit as a normal run folder ``<out>/best`` that ``mlpfit predict`` reads.

With ``--trials N``, Optuna's TPE sampler proposes settings and its median pruner stops members
whose validation loss lags; ``--storage`` shares one study between worker processes (a journal
file for local processes, or any database URL Optuna accepts).

This module imports torch only inside the functions that train, so option errors answer fast.
"""

from __future__ import annotations

import copy
import json
import math
import os
import socket
import time

from dataclasses import dataclass, field

import numpy as np

from mlpfit.config import schema as cfg
from mlpfit.errors import UsageError
from mlpfit.fitting.sweep_plan import TRIALS_PER_BATCH, Plan
from mlpfit.train.callbacks import Callback

def make_storage(url: str | None):
    """None: in memory; a URL with ``://``: passed to Optuna (RDB); otherwise a journal file path."""
    if url is None:
        return None
    if "://" in url:
        return url
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = url.removeprefix("journal:")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--storage {url!r}: folder {folder!r} does not exist: create it or name another journal file")
    return JournalStorage(JournalFileBackend(path))


# ---------------------------------------------------------------- settings -> configs -> groups


def apply_setting(base: cfg.FitConfig, setting: dict) -> cfg.FitConfig:
    """A copy of the base config with a setting's values in place."""
    config = copy.deepcopy(base)
    for key, value in setting.items():
        if key in ("hidden", "activation"):
            setattr(config.model, key, value)
        else:
            setattr(config.train, key, value)
    return config


def group_key(config: cfg.FitConfig) -> tuple:
    """Settings with equal keys train as members of one batched model."""
    m, t = config.model, config.train
    return (tuple(m.hidden), m.activation, m.output_activation, t.epochs, t.batch_size, t.optimizer, t.loss,
            t.schedule, t.patience)


@dataclass
class Shared:
    """The data of a sweep, loaded once: every setting sees the same split and scaling."""

    base: cfg.FitConfig
    dataset: object
    split: object
    device: object


def load_shared(base: cfg.FitConfig) -> Shared:
    """Data and split exactly as the refit of the best setting (mlpfit.fitting.fit) will see them."""
    from mlpfit.fitting.prepare import load_dataset, prepare
    from mlpfit.runtime import choose_device

    resolved_base = copy.deepcopy(base)
    dataset = load_dataset(resolved_base)
    split = prepare(resolved_base, dataset)
    return Shared(base, dataset, split, choose_device(base.train.device))


def resolved(shared: Shared, setting: dict) -> cfg.FitConfig:
    """The base config with the setting in place and every default chosen as a fit would."""
    from mlpfit.fitting.prepare import resolve

    config = cfg.validate(apply_setting(shared.base, setting))
    resolve(config, shared.dataset, shared.split)
    return config


def train_group(shared: Shared, configs: list[cfg.FitConfig], callbacks=()) -> tuple[list[dict], object]:
    """Train same-shape configs as one batched model, each a member with its own lr and seed; one row per config."""
    from mlpfit.engines.torch_stacked import StackedEngine
    from mlpfit.fitting.build import scalers, train_data
    from mlpfit.fitting.fit import monitor
    from mlpfit.fitting.prepare import n_outputs
    from mlpfit.fitting.summary import member_info, member_metrics
    from mlpfit.nn.fitted import FittedEnsemble
    from mlpfit.nn.sizes import layer_sizes
    from mlpfit.nn.stacked import EnsembleMLP
    from mlpfit.runtime import configure
    from mlpfit.train.callbacks import DivergenceGuard, EarlyStopping
    from mlpfit.train.trainer import Trainer

    first, ds = configs[0], shared.dataset
    m, t = first.model, first.train
    configure(t.threads, t.seed)
    x_scaler, y_scaler = scalers(first, ds, shared.split)
    seeds = [c.train.seed for c in configs]
    model = EnsembleMLP(layer_sizes(ds.X.shape[1], m.hidden, n_outputs(ds)), m.activation, m.output_activation, seeds,
                        dropout=m.dropout).to(shared.device)
    engine = StackedEngine(model, train_data(ds, shared.split, x_scaler, y_scaler, shared.device), epochs=t.epochs,
                           batch_size=t.batch_size, lr=[c.train.lr for c in configs], optimizer=t.optimizer,
                           loss=t.loss, schedule=t.schedule, seed=t.seed)
    guard, stopping = DivergenceGuard(), EarlyStopping(t.patience, monitor=monitor(first))
    trainer = Trainer(engine, t.epochs, [guard, stopping, *callbacks])
    trainer.run()
    fitted = FittedEnsemble(model, x_scaler, y_scaler, ds.inputs, ds.outputs, ds.task, ds.classes)
    pruned = next((cb.pruned for cb in callbacks if isinstance(cb, Pruner)), set())
    rows = []
    for k, (info, metrics) in enumerate(zip(member_info(seeds, stopping, guard), member_metrics(fitted, ds, shared.split))):
        val = metrics["val"]
        score = val["accuracy"] if ds.task == "classify" else sum(val["r2"]) / len(val["r2"])
        rows.append({"val_loss": info["best_val_loss"], "val_score": score, "best_epoch": info["best_epoch"],
                     "state": _state(info, k in pruned), "seconds": round(trainer.seconds, 3),
                     "batched_with": len(configs)})
    return rows, trainer


def _state(info: dict, pruned: bool) -> str:
    return "pruned" if pruned else "diverged" if info["diverged"] or not math.isfinite(info["best_val_loss"]) else "complete"


# ---------------------------------------------------------------- grid and trials


def run_grid(shared: Shared, settings: list[dict], progress=lambda text: None) -> list[dict]:
    """Train every setting, batched by shape; one row per setting in the given order."""
    configs = [resolved(shared, s) for s in settings]
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(group_key(config), []).append(i)
    rows: list[dict | None] = [None] * len(settings)
    for n, members in enumerate(groups.values(), 1):
        progress(f"group {n}/{len(groups)}: {len(members)} setting(s) batched")
        results, _ = train_group(shared, [configs[i] for i in members])
        for i, result in zip(members, results):
            rows[i] = {**_describe(settings[i], configs[i]), **result}
    return rows


def _describe(setting: dict, config: cfg.FitConfig) -> dict:
    """The columns that say which setting a row is (resolved values, so defaults show too)."""
    hidden = config.model.hidden
    shape = f"{hidden[0]}x{len(hidden)}" if hidden and len(set(hidden)) == 1 else "-".join(map(str, hidden)) or "none"
    return {"lr": config.train.lr, "hidden": shape, "activation": config.model.activation,
            "batch_size": config.train.batch_size, "epochs": config.train.epochs, "seed": config.train.seed,
            "setting": json.dumps(setting)}


class Pruner(Callback):
    """Reports each member's validation loss to its trial and stops members Optuna prunes."""

    def __init__(self, trials, every: int):
        self.trials, self.every = trials, every
        self.pruned: set[int] = set()  # members stopped by Optuna

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


def run_trials(shared: Shared, plan: Plan, progress=lambda text: None):
    """Ask Optuna for settings a batch at a time, train same-shape ones together, tell the results."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # In memory the sweep repeats exactly; workers sharing a storage each get their own sampler
    # stream (seeded by pid), or they would all propose the same settings.
    seed = shared.base.train.seed if plan.storage is None else shared.base.train.seed + os.getpid()
    study = optuna.create_study(study_name=plan.study, storage=make_storage(plan.storage), load_if_exists=True,
                                direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=4))
    worker = f"{socket.gethostname()}:{os.getpid()}"
    rows, done = [], 0
    while done < plan.trials:
        trials = [study.ask() for _ in range(min(TRIALS_PER_BATCH, plan.trials - done))]
        settings = [suggest(trial, plan.space) for trial in trials]
        for trial, setting in zip(trials, settings):
            trial.set_user_attr("worker", worker)
            trial.set_user_attr("setting", setting)
        rows += _train_trials(shared, study, trials, settings)
        done += len(trials)
        progress(f"{done}/{plan.trials} trials")
    return rows, study


def _train_trials(shared: Shared, study, trials, settings) -> list[dict]:
    import optuna

    configs = [resolved(shared, s) for s in settings]
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(group_key(config), []).append(i)
    rows = []
    for members in groups.values():
        group = [configs[i] for i in members]
        every = max(1, group[0].train.epochs // 20)  # ~20 reports per trial: a journal write each
        results, _ = train_group(shared, group, [Pruner([trials[i] for i in members], every)])
        for i, result in zip(members, results):
            state = {"complete": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED}
            if result["state"] == "complete":
                study.tell(trials[i], result["val_loss"])
            else:
                study.tell(trials[i], state=state.get(result["state"], optuna.trial.TrialState.FAIL))
            rows.append({"trial": trials[i].number, **_describe(settings[i], configs[i]), **result})
    return rows


# ---------------------------------------------------------------- the whole sweep


@dataclass
class SweepResult:
    out: str  # the sweep folder
    rows: list[dict]  # one per setting or trial
    best: dict  # the setting that was refit
    best_run: str  # <out>/best
    csv: str  # <out>/sweep.csv
    task: str = "regress"  # what val_score is: mean R² over outputs, or accuracy
    inputs: list = field(default_factory=list)  # input names, for the predict hint


def run(base: cfg.FitConfig, plan: Plan, progress=lambda text: None) -> SweepResult:
    from mlpfit.fitting.fit import fit
    from mlpfit.runfolder import store as runs
    from mlpfit.runfolder.claim import prepare_dir

    shared = load_shared(base)
    out = base.run.out or runs.default_run_dir(f"sweep-{shared.dataset.name}")
    prepare_dir(out, base.run.force)
    start = time.perf_counter()
    if plan.grid is not None:
        rows = run_grid(shared, plan.grid, progress)
        best = best_setting(rows)
    else:
        rows, study = run_trials(shared, plan, progress)
        best = _study_best(study, rows)
    progress(f"trained in {time.perf_counter() - start:.1f} s; refitting the best setting")
    csv_path = os.path.join(out, "sweep.csv")
    write_csv(csv_path, rows)
    refit = apply_setting(base, best)
    refit.run = cfg.RunConfig(out=os.path.join(out, "best"), json=True, quiet=True, force=True)
    fit(refit)
    return SweepResult(out, rows, best, refit.run.out, csv_path, shared.dataset.task, list(shared.dataset.inputs))


def best_setting(rows: list[dict]) -> dict:
    """The setting with the lowest validation loss among the trained ones."""
    usable = [r for r in rows if r["state"] == "complete" and math.isfinite(r["val_loss"])]
    if not usable:
        from mlpfit.errors import TrainingError

        raise TrainingError("every setting of the sweep diverged or was pruned: lower the learning rates in --grid or --space")
    return json.loads(min(usable, key=lambda r: r["val_loss"])["setting"])


def _study_best(study, rows: list[dict]) -> dict:
    """Across every worker of a shared study, the best completed trial's setting."""
    try:
        return dict(study.best_trial.user_attrs["setting"])
    except (ValueError, KeyError):
        return best_setting(rows)


def write_csv(path: str, rows: list[dict]) -> None:
    import pandas as pd

    from mlpfit import atomic

    atomic.write_text(path, pd.DataFrame(rows).to_csv(index=False))


def table(result: SweepResult):
    """A rich table of the rows, best first."""
    from rich.table import Table

    score = "val acc" if result.task == "classify" else "val R²"
    grid = Table(title=f"sweep: {len(result.rows)} settings (best refit in {result.best_run})")
    for name in ("#", "lr", "hidden", "activation", "batch", "epochs", "seed", "val loss", score, "best ep", "state", "batched"):
        grid.add_column(name, justify="left" if name in ("hidden", "activation", "state") else "right", no_wrap=True)
    ordered = sorted(result.rows, key=lambda r: (r["state"] != "complete", _finite(r["val_loss"])))
    for i, r in enumerate(ordered, 1):
        grid.add_row(str(r.get("trial", i)), f"{r['lr']:.3g}", r["hidden"], r["activation"], str(r["batch_size"]),
                     str(r["epochs"]), str(r["seed"]), f"{r['val_loss']:.4g}", f"{r['val_score']:.5f}",
                     str(r["best_epoch"]), r["state"], str(r["batched_with"]))
    return grid


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.inf
