"""Training settings in batches: the data loaded once, same-shape settings trained as one stacked model.

Settings that share a network shape and a training schedule (hidden sizes, activation, epochs,
batch size, optimizer, loss) become members of one :class:`~mlpfit.engines.torch.stacked_model.EnsembleMLP`; the
stacked optimizer takes a learning rate per member, so settings that differ in ``lr`` or ``seed``
(init) train together. Settings of different shapes train one group after another.

This module imports torch only inside the functions that train, so option errors answer fast.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass

from mlpfit.config import schema as cfg
from mlpfit.fitting.sweeping.settings import apply_setting, group_key



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


def train_group(shared: Shared, configs: list[cfg.FitConfig], callbacks=(), pruned: set | None = None):
    """Train same-shape configs as one batched model, each a member with its own lr and seed; one row per
    config. ``pruned`` is the set of members a callback stopped for Optuna (filled while training)."""
    from mlpfit.engines.torch.stacked import StackedEngine
    from mlpfit.fitting.build import engine_options, fitted_model, model_sizes, scalers, train_data
    from mlpfit.fitting.stopping import stopping_rules
    from mlpfit.fitting.summary import member_info, member_metrics
    from mlpfit.engines.torch.stacked_model import EnsembleMLP
    from mlpfit.runtime import configure
    from mlpfit.train.trainer import Trainer

    first, ds = configs[0], shared.dataset
    m, t = first.model, first.train
    configure(t.threads, t.seed)
    x_scaler, y_scaler = scalers(first, ds, shared.split)
    seeds = [c.train.seed for c in configs]
    model = EnsembleMLP(model_sizes(first, ds), m.activation, m.output_activation, seeds,
                        dropout=m.dropout).to(shared.device)
    # The fit's own engine options (weight decay, alpha, ...); only the learning rate differs per member.
    options = {**engine_options(first), "lr": [c.train.lr for c in configs]}
    engine = StackedEngine(model, train_data(ds, shared.split, x_scaler, y_scaler, shared.device), loss=t.loss,
                           seed=t.seed, **options)
    stopping = stopping_rules(first, ds, shared.split, y_scaler)
    trainer = Trainer(engine, t.epochs, [*stopping.callbacks, *callbacks])
    trainer.run()
    fitted = fitted_model(model, x_scaler, y_scaler, ds, t.loss)
    rows = []
    for k, (info, metrics) in enumerate(zip(member_info(seeds, stopping), member_metrics(fitted, ds, shared.split))):
        val = metrics["val"]
        score = val["accuracy"] if ds.task == "classify" else sum(val["r2"]) / len(val["r2"])
        rows.append({"val_loss": info["best_val_loss"], "val_score": score, "best_epoch": info["best_epoch"],
                     "state": _state(info, k in (pruned or set())), "seconds": round(trainer.seconds, 3),
                     "batched_with": len(configs)})
    return rows, trainer


def _state(info: dict, pruned: bool) -> str:
    return "pruned" if pruned else "diverged" if info["diverged"] or not math.isfinite(info["best_val_loss"]) else "complete"


# ---------------------------------------------------------------- a grid


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
            rows[i] = {**describe(settings[i], configs[i]), **result}
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
        from mlpfit.errors import TrainingError

        raise TrainingError("every setting of the sweep diverged or was pruned: lower the learning rates in --grid or --space")
    return json.loads(min(usable, key=lambda r: r["val_loss"])["setting"])
