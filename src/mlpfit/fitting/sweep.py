"""Hyperparameter search: a grid, or Optuna trials, with same-shape settings trained as one batch.

Settings that share a network shape and a training schedule (hidden sizes, activation, epochs,
batch size, optimizer, loss) become members of one :class:`~mlpfit.fitting.ensemble.EnsembleMLP`; the
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
import itertools
import json
import math
import os
import socket
import time
from dataclasses import dataclass, field

from mlpfit.config import schema as cfg
from mlpfit.errors import UsageError
from mlpfit.train.callbacks import Callback

# --grid keys -> how one value is parsed. Hidden sizes use 32x2 or 64-32 (commas separate values).
GRID_KEYS = {
    "lr": float,
    "hidden": lambda text: cfg.parse_hidden(text.replace("-", ",")),
    "activation": str,
    "batch_size": int,
    "epochs": int,
    "seed": int,
    "optimizer": str,
}
# The default --trials search space (the ranges).
DEFAULT_SPACE = {
    "lr": (1e-4, 3e-2),  # log-uniform
    "width": [16, 32, 64, 128],
    "depth": (1, 4),  # integer range, inclusive
    "activation": ["tanh", "silu", "gelu", "relu"],
}
SPACE_RANGES = {"lr": float, "depth": int}  # keys that may be LO:HI ranges; the rest are choices
SPACE_CHOICES = {"lr": float, "width": int, "depth": int, "activation": str, "batch_size": int}
TRIALS_PER_BATCH = 8  # trials asked from Optuna at once, so same-shape ones can share a batch
DEFAULT_STUDY = "mlpfit-sweep"


@dataclass
class Plan:
    """What to search and where to keep the study."""

    grid: list[dict] | None = None  # explicit settings (cartesian product of --grid)
    trials: int | None = None  # number of Optuna trials
    space: dict = field(default_factory=lambda: dict(DEFAULT_SPACE))  # --trials ranges
    storage: str | None = None  # None: in memory; journal file path; or an RDB URL
    study: str = DEFAULT_STUDY  # study name, shared by workers on one storage


# ---------------------------------------------------------------- parsing the options


def parse_grid(text: str) -> list[dict]:
    """``lr=1e-3,1e-2 hidden=32x2,64x2`` -> the cartesian product as a list of settings."""
    axes = {}
    for item in text.split():
        key, sep, values = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not values:
            raise UsageError(f"--grid item {item!r} is not KEY=V1,V2: write e.g. --grid \"lr=1e-3,1e-2 hidden=32x2,64x2\"")
        if key not in GRID_KEYS:
            raise UsageError(f"--grid key {key!r} is not known: use {', '.join(GRID_KEYS)}")
        axes[key] = [_grid_value(key, value, item) for value in values.split(",")]
    if not axes:
        raise UsageError("--grid is empty: write e.g. --grid \"lr=1e-3,1e-2 hidden=32x2,64x2\"")
    settings = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    if len(settings) > 10_000:
        raise UsageError(f"--grid has {len(settings)} settings: keep it under 10,000 (or use --trials N)")
    return settings


def _grid_value(key: str, text: str, item: str):
    try:
        if not text.strip():
            raise ValueError  # "lr=1e-3,,1e-2": a missing value, not "none"
        value = GRID_KEYS[key](text)
    except (ValueError, UsageError):
        hint = " (write hidden sizes as 32x2 or 64-32: commas separate values)" if key == "hidden" else ""
        raise UsageError(f"--grid {item!r}: {text!r} is not a valid {key}{hint}") from None
    if key == "activation":
        cfg.check_choice("--grid activation", value, cfg.ACTIVATIONS)
    if key == "optimizer":
        cfg.check_choice("--grid optimizer", value, ("adam", "adamw", "sgd"))
    if key in ("lr", "batch_size", "epochs"):
        cfg.check_positive(f"--grid {key}", value, integer=key != "lr", limit=1e7)
    return value


def parse_space(text: str | None) -> dict:
    """``lr=1e-4:1e-2 width=32,64 depth=1:3 activation=tanh`` over the default space."""
    space = dict(DEFAULT_SPACE)
    for item in (text or "").split():
        key, _, values = item.partition("=")
        key = key.strip().replace("-", "_")
        if key not in SPACE_CHOICES or not values:
            raise UsageError(f"--space item {item!r}: write KEY=LO:HI or KEY=A,B with KEY one of {', '.join(SPACE_CHOICES)}")
        try:
            if ":" in values and key in SPACE_RANGES:
                lo, hi = (SPACE_RANGES[key](v) for v in values.split(":", 1))
                if not 0 < lo <= hi:
                    raise ValueError
                space[key] = (lo, hi)
            else:
                space[key] = [SPACE_CHOICES[key](v) for v in values.split(",")]
        except ValueError:
            raise UsageError(f"--space {item!r} is not KEY=LO:HI (0 < LO <= HI) or KEY=A,B,C of {key} values") from None
    for name in space.get("activation", []):
        cfg.check_choice("--space activation", name, cfg.ACTIVATIONS)
    return space


def make_plan(grid: str | None, trials: int | None, space: str | None, storage: str | None, study: str | None) -> Plan:
    """Check the sweep options together; exactly one of --grid and --trials."""
    if (grid is None) == (trials is None):
        raise UsageError("give either --grid \"lr=1e-3,1e-2 hidden=32x2,64x2\" or --trials N, not both or neither")
    if grid is not None:
        if storage or study or space:
            raise UsageError("--storage, --study and --space go with --trials N, not with --grid")
        return Plan(grid=parse_grid(grid))
    cfg.check_positive("--trials", trials, limit=100_000)
    return Plan(trials=trials, space=parse_space(space), storage=storage, study=study or DEFAULT_STUDY)


def check_base(config: cfg.FitConfig) -> None:
    """The base setting must be one the batched trainer can train."""
    if config.train.optimizer not in ("adam", "adamw", "sgd"):
        raise UsageError(f"--optimizer {config.train.optimizer} has no batched version for a sweep: use adam, adamw or sgd")
    if config.train.engine != "torch":
        raise UsageError(f"--engine {config.train.engine} is not batched: drop --engine for a sweep")


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
    from mlpfit.fitting import pipeline
    from mlpfit.data.dataset import split_indices
    from mlpfit.runtime import choose_device

    base = copy.deepcopy(base)
    dataset = pipeline.load_dataset(base)
    split = split_indices(len(dataset.X), base.data.val_fraction, base.data.test_fraction, base.train.seed)
    return Shared(base, dataset, split, choose_device(base.train.device))


def resolved(shared: Shared, setting: dict) -> cfg.FitConfig:
    from mlpfit.config import defaults
    from mlpfit.fitting.pipeline import _n_outputs

    config = cfg.validate(apply_setting(shared.base, setting))
    ds = shared.dataset
    defaults.resolve(config, len(shared.split.train), ds.X.shape[1], _n_outputs(ds), ds.task)
    return config


def train_group(shared: Shared, configs: list[cfg.FitConfig], callbacks=()) -> tuple[list[dict], object]:
    """Train same-shape configs as one batched model; one result dict per config."""
    from mlpfit.fitting import pipeline
    from mlpfit.fitting.ensemble import EnsembleMLP, EnsembleTrainer, FittedEnsemble, member_metrics
    from mlpfit.runtime import configure

    first = configs[0]
    t = first.train
    configure(t.threads, t.seed)
    template, data = pipeline._build(first, shared.dataset, shared.split, shared.device)
    model = EnsembleMLP(template.model.sizes, first.model.activation, first.model.output_activation,
                        [c.train.seed for c in configs]).to(shared.device)
    trainer = EnsembleTrainer(model, data, epochs=t.epochs, batch_size=t.batch_size, lr=[c.train.lr for c in configs],
                              optimizer=t.optimizer, loss=t.loss, schedule=t.schedule, seed=t.seed,
                              patience=t.patience, callbacks=callbacks)
    trainer.run()
    ds = shared.dataset
    fitted = FittedEnsemble(model, template.x_scaler, template.y_scaler, ds.inputs, ds.outputs, ds.task, ds.classes)
    rows = []
    for info, metrics in zip(trainer.member_summary(), member_metrics(fitted, ds, shared.split)):
        val = metrics["val"]
        score = val["accuracy"] if ds.task == "classify" else sum(val["r2"]) / len(val["r2"])
        rows.append({"val_loss": info["best_val_loss"], "val_score": score, "best_epoch": info["best_epoch"],
                     "state": _state(info, trainer.pruned[len(rows)]), "seconds": round(trainer.seconds, 3),
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

    def on_epoch_end(self, trainer, logs):
        if logs["epoch"] % self.every:
            return
        for k, (trial, loss) in enumerate(zip(self.trials, logs["member_val_loss"])):
            if trainer.running[k] and math.isfinite(loss):
                trial.report(loss, logs["epoch"])
                if trial.should_prune():
                    trainer.stop_member(k, pruned=True)


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
    from mlpfit.fitting import pipeline
    from mlpfit.runfolder import store as runs

    shared = load_shared(base)
    out = base.run.out or runs.default_run_dir(f"sweep-{shared.dataset.name}")
    runs.prepare_dir(out, base.run.force)
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
    pipeline.fit(refit)
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

    from mlpfit.runfolder import files as atomic

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
