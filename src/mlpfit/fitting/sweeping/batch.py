"""Training settings in batches: the data loaded once, same-shape settings trained as one fit.

Settings that share a network shape and a training schedule (hidden sizes, activation, epochs,
batch size, optimizer, loss) become the members of one fit (mlpfit.fitting.fit, with
:class:`~mlpfit.fitting.build.Members`): each member has its own learning rate and seed, so settings
that differ in ``lr`` or ``seed`` (init) train together, on the engine a fit of that size gets (the
NumPy engine for small settings), with the fit's memory check, stopping rules and diagnostics.
Settings of different shapes train one group after another.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from dataclasses import dataclass

from mlpfit.config import schema as cfg
from mlpfit.errors import TrainingError
from mlpfit.fitting.build import Members
from mlpfit.fitting.fit import fit
from mlpfit.fitting.prepare import load_dataset, prepare, resolve
from mlpfit.fitting.summary import member_info, member_metrics
from mlpfit.fitting.sweeping.plan import apply_setting, group_key


@dataclass
class Shared:
    """The data of a sweep, loaded once: every setting sees the same split and scaling."""

    base: cfg.FitConfig
    dataset: object
    split: object


def load_shared(base: cfg.FitConfig) -> Shared:
    """Data and split exactly as the refit of the best setting (mlpfit.fitting.fit) will see them."""
    resolved_base = copy.deepcopy(base)
    dataset = load_dataset(resolved_base)
    split = prepare(resolved_base, dataset)
    return Shared(base, dataset, split)


def resolved(shared: Shared, setting: dict) -> cfg.FitConfig:
    """The base config with the setting in place and every default chosen as a fit would."""
    config = cfg.validate(apply_setting(shared.base, setting))
    if config.train.extend is None:
        # settings are compared at equal budgets: one that trains on past them would be judged on more steps
        config.train.extend = 0
    resolve(config, shared.dataset, shared.split)
    return config


def batch_config(shared: Shared, configs: list[cfg.FitConfig]) -> cfg.FitConfig:
    """One fit's config for same-shape settings: the first's, with a member per setting, and the engine and
    threads chosen again for that many members (as for an ensemble of the same size)."""
    config = copy.deepcopy(configs[0])
    config.model.ensemble = len(configs)
    config.train.engine, config.train.threads = shared.base.train.engine, shared.base.train.threads
    config.run = dataclasses.replace(config.run, out=None, json=False, quiet=True, plots=False)
    return config


def train_group(shared: Shared, configs: list[cfg.FitConfig], callbacks=(), pruned: set | None = None):
    """Train same-shape configs as the members of one fit, each with its own lr and seed; one row per
    config. ``pruned`` is the set of members a callback stopped for Optuna (filled while training)."""

    ds = shared.dataset
    seeds = [c.train.seed for c in configs]
    members = Members(seeds=seeds, lrs=[c.train.lr for c in configs])
    result = fit(batch_config(shared, configs), dataset=ds, split=shared.split, callbacks=callbacks, save=False,
                 members=members)
    codes = ";".join(d["code"] for d in result.summary["diagnostics"])
    rows = []
    infos = member_info(seeds, result.stopping)
    for k, (info, metrics) in enumerate(zip(infos, member_metrics(result.fitted, ds, shared.split))):
        val = metrics["val"]
        score = val["accuracy"] if ds.task == "classify" else sum(val["r2"]) / len(val["r2"])
        rows.append({"val_loss": info["best_val_loss"], "val_score": score, "best_epoch": info["best_epoch"],
                     "state": _state(info, k in (pruned or set())), "seconds": round(result.trainer.seconds, 3),
                     "batched_with": len(configs), "engine": result.config.train.engine, "diagnostics": codes})
    return rows, result.trainer


def _state(info: dict, pruned: bool) -> str:
    return "pruned" if pruned else "diverged" if info["diverged"] or not math.isfinite(info["best_val_loss"]) else "complete"


# ---------------------------------------------------------------- a grid


def run_grid(shared: Shared, settings: list[dict], progress=lambda text: None, on_group=lambda rows: None) -> list[dict]:
    """Train every setting, batched by shape; one row per setting in the given order. ``on_group(rows)`` sees
    the rows trained so far after each group (what an interrupted sweep keeps)."""
    configs = [resolved(shared, s) for s in settings]
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(group_key(config), []).append(i)
    rows: list[dict | None] = [None] * len(settings)
    for n, members in enumerate(groups.values(), 1):
        progress(f"group {n}/{len(groups)}: {len(members)} setting(s) batched")
        results, _ = train_group(shared, [configs[i] for i in members])
        for i, result in zip(members, results):
            rows[i] = {**describe(settings[i], configs[i]), **result}
        on_group([row for row in rows if row is not None])
    return rows


def describe(setting: dict, config: cfg.FitConfig) -> dict:
    """The columns that say which setting a row is (resolved values, so defaults show too)."""
    hidden = config.model.hidden
    shape = f"{hidden[0]}x{len(hidden)}" if hidden and len(set(hidden)) == 1 else "-".join(map(str, hidden)) or "none"
    return {"lr": config.train.lr, "hidden": shape, "activation": config.model.activation,
            "batch_size": config.train.batch_size, "epochs": config.train.epochs, "seed": config.train.seed,
            "setting": json.dumps(setting)}


def best_setting(rows: list[dict]) -> dict:
    """The setting with the lowest validation loss among the trained ones."""
    usable = [r for r in rows if r["state"] == "complete" and math.isfinite(r["val_loss"])]
    if not usable:
        raise TrainingError("every setting of the sweep diverged or was pruned: lower the learning rates in --grid or --space")
    return json.loads(min(usable, key=lambda r: r["val_loss"])["setting"])
