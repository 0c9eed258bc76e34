"""The summary of a fit: what happened, in the user's units (the ``--json`` object and summary.json)."""

from __future__ import annotations

import copy
import time

import numpy as np

from mlpfit import __version__
from mlpfit.config.schema import FitConfig
from mlpfit.data.dataset import Dataset, Split
from mlpfit.data.sources.formula import parse_formula
from mlpfit.fitting.metrics import classification_metrics, r2_per_output, regression_metrics
from mlpfit.network.equation import coefficient_spread, equations
from mlpfit.network.network import Network
from mlpfit.train.schedules import first_cycle_epochs


def make_summary(config: FitConfig, dataset: Dataset, split: Split, fitted: Network, history, seconds: float,
                 diagnostics: list, device, run_dir: str | None, members: list[dict] | None = None) -> dict:
    notes = list(dataset.notes)
    if not split.held_out:
        notes.append(f"only {len(dataset.X)} examples: all are used for training, so val and test scores are training scores")
    coverage = truth_off_the_points(fitted, dataset)
    if coverage:
        notes.append(coverage)
    summary = {
        "run": run_dir,
        "name": dataset.name,
        "target": config.data.target,
        "task": dataset.task,
        "inputs": dataset.inputs,
        "outputs": dataset.outputs,
        "classes": dataset.classes,
        "formula": dataset.formula,
        "domain": dataset.domain,
        "table": None if dataset.encoding is None else dataset.encoding.summary(),  # encoded, filled, left out
        "image_shape": dataset.image_shape,  # (h, w) for pixel inputs: plots draw the test images
        "seconds": round(seconds, 4),
        "epochs": history.epochs,
        "best_epoch": history.best_epoch,
        "stopped_early": history.stopped_early,
        "settled": history.settled,  # a twocycle fit that ended after its first cycle (train.callbacks.Settle)
        "extra_cycles": history.extra_cycles,  # cycles trained past the epochs while still gaining (TrainOn)
        "first_cycle_epochs": first_cycle_epochs(config.train.schedule, config.train.epochs),  # None: one cycle
        "parameters": fitted.parameter_count,
        "architecture": {"sizes": fitted.sizes, "activation": config.model.activation,
                         "output_activation": config.model.output_activation, "dropout": config.model.dropout,
                         "input_units": config.model.input_units or 0},
        "metrics": split_metrics(fitted, dataset, split),
        "equations": equations(fitted),  # a linear net read back in original units; None otherwise
        "held_out": split.held_out,
        "examples": {"train": len(split.train), "val": len(split.val), "test": len(split.test),
                     **({} if split.member_val is None else {"member_val": split.member_val.shape[1]})},
        "diagnostics": [d.to_dict() for d in diagnostics],
        "notes": notes,
        "device": str(device),
        "threads": config.train.threads,
        "engine": config.train.engine,
        "mlpfit": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if fitted.members > 1:
        summary["ensemble"] = fitted.members
        summary["members"] = [{**info, "metrics": metrics} for info, metrics in zip(members, member_metrics(fitted, dataset, split))]
        summary["coefficient_spread"] = coefficient_spread(fitted)  # linear members: how much they disagree
    return summary


def split_metrics(fitted: Network, dataset: Dataset, split: Split) -> dict:
    metrics = {}
    for name in ("train", "val", "test"):
        index = getattr(split, name)
        if len(index) == 0:  # nothing held out (test fraction 0): no score rather than a NaN one
            metrics[name] = None
            continue
        if not split.held_out and name != "train":  # every split is every row: the same scores, computed once
            metrics[name] = copy.deepcopy(metrics["train"])
            continue
        X, Y = dataset.X[index], dataset.Y[index]
        holders = split.own_rows("val", fitted.members) if name == "val" and split.member_val is not None else None
        if dataset.task == "classify":
            probabilities = fitted.predict_proba(X) if holders is None else held_out_mean(fitted.member_probabilities(X), holders)
            metrics[name] = classification_metrics(Y, probabilities, dataset.classes)
        else:
            predictions = fitted.predict(X) if holders is None else held_out_mean(fitted.member_predictions(X), holders)
            metrics[name] = regression_metrics(Y, predictions)
    return metrics


def held_out_mean(member_values: np.ndarray, holders: np.ndarray) -> np.ndarray:
    """Each row's mean over the members that held it out ([K, n, ...] values, [K, n] holders): the validation
    score of members with their own validation rows, from members that never trained on the row."""
    weights = holders / holders.sum(axis=0, keepdims=True)
    return np.einsum("kn,kn...->n...", weights, member_values)


def member_metrics(fitted, dataset: Dataset, split: Split) -> list[dict]:
    """Each ensemble member's train/val/test metrics, in original units, as a single fit reports them (on the
    member's own training and validation rows where it has them)."""
    per_split = {}
    for name in ("train", "val", "test"):
        index = getattr(split, name)
        if len(index) == 0:
            per_split[name] = [None] * fitted.members
            continue
        X, Y = dataset.X[index], dataset.Y[index]
        own = split.own_rows(name, fitted.members)
        if dataset.task == "classify":
            per_split[name] = [classification_metrics(Y[mine], p[mine], dataset.classes)
                               for p, mine in zip(fitted.member_probabilities(X), own)]
        else:
            per_split[name] = [regression_metrics(Y[mine], p[mine]) for p, mine in zip(fitted.member_predictions(X), own)]
    return [{name: per_split[name][k] for name in per_split} for k in range(fitted.members)]


def member_info(seeds: list[int], stopping) -> list[dict]:
    """Per member: its seed and how its training ended (from fitting.stopping's rules that stopped it)."""
    early, settle = stopping.early, stopping.settle
    return [{"seed": seed, "best_epoch": int(early.best_epoch[k]) or None, "best_val_loss": float(early.best_loss[k]),
             "stopped_early": bool(early.stopped[k]), "settled": bool(settle is not None and settle.settled[k]),
             "diverged": bool(stopping.guard.diverged[k])} for k, seed in enumerate(seeds)]


def truth_off_the_points(fitted: Network, dataset: Dataset, n: int = 4000) -> str | None:
    """For fixed points with a known truth (seed 003's circle): how the model does on the whole box.

    A fit can pass through every given point and still know nothing about the function between
    them; scoring it on fresh points of the points' bounding box shows that in one number.
    """
    if dataset.formula is None or dataset.domain is not None or dataset.task != "regress":
        return None

    lows, highs = dataset.X.min(axis=0), dataset.X.max(axis=0)
    X = lows + (highs - lows) * np.random.default_rng(0).random((n, len(lows)))
    r2 = min(r2_per_output(parse_formula(dataset.formula).numpy(X), fitted.predict(X)))
    box = " × ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in zip(lows, highs))
    return (f"against the true {dataset.formula} at {n} fresh points of the box {box}, R² is {r2:.3g}: "
            "the given points do not pin the function down between them")


# A run folder keeps at most this many values per split sample (~4 MB as float32), so plots and
# explain can be redrawn in a fresh process without the original data.
SAMPLE_VALUES = 1_000_000


def split_samples(dataset: Dataset, split: Split, seed: int) -> dict[str, np.ndarray]:
    """train_X/train_Y/test_X/test_Y: a seeded random subset of each split in raw units."""
    rng = np.random.default_rng(seed)
    rows = max(1, min(10_000, SAMPLE_VALUES // max(1, dataset.X.shape[1])))
    samples = {}
    for name in ("train", "test"):
        index = getattr(split, name)
        if len(index) > rows:
            index = np.sort(rng.choice(index, rows, replace=False))
        samples[f"{name}_X"] = dataset.X[index].astype(np.float32)
        samples[f"{name}_Y"] = dataset.Y[index].astype(np.int64 if dataset.task == "classify" else np.float64)
    return samples
