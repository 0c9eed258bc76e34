"""What a sweep searches: --grid and --space parsed into settings, the plan, and the base setting's checks.

A setting is a small dict (``{"lr": 1e-3, "hidden": [32, 32]}``) applied over the base config that
every `fit` option sets. Settings with equal :func:`group_key` train as one batched model.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

from mlpfit.config import schema as cfg
from mlpfit.config.defaults import BATCHED_OPTIMIZERS
from mlpfit.errors import UsageError

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
    workers: int = 1  # local worker processes (--workers N)


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
        cfg.check_choice("--grid optimizer", value, BATCHED_OPTIMIZERS)
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


def make_plan(grid: str | None, trials: int | None, space: str | None, storage: str | None, study: str | None,
              workers: int = 1) -> Plan:
    """Check the sweep options together; exactly one of --grid and --trials.

    With a storage, --trials N is the study's total: every worker stops when the study holds N
    trials, so the same command can run on any number of machines.
    """
    if (grid is None) == (trials is None):
        raise UsageError("give either --grid \"lr=1e-3,1e-2 hidden=32x2,64x2\" or --trials N, not both or neither")
    cfg.check_positive("--workers", workers, limit=1024)
    if grid is not None:
        if storage or study or space or workers > 1:
            raise UsageError("--storage, --study, --space and --workers go with --trials N, not with --grid")
        return Plan(grid=parse_grid(grid))
    cfg.check_positive("--trials", trials, limit=100_000)
    return Plan(trials=trials, space=parse_space(space), storage=storage, study=study or DEFAULT_STUDY, workers=workers)


def check_base(config: cfg.FitConfig) -> None:
    """The base setting must be one the batched trainer can train."""
    if config.train.optimizer not in BATCHED_OPTIMIZERS:
        raise UsageError(f"--optimizer {config.train.optimizer} has no batched version for a sweep: use adam, adamw or sgd")
    if config.train.engine not in ("auto", "torch"):
        raise UsageError(f"--engine {config.train.engine} is not batched: drop --engine for a sweep")


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
            t.schedule, t.settle, t.extend, t.patience, t.alpha)
