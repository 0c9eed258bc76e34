"""Refuse a fit that cannot fit in memory before building it, with the numbers and the fix.

Training holds, per parameter, the weights, their gradients and Adam's two moments; per batch row,
each layer's pre-activations, activations and their gradients. Classification also keeps
classes × classes confusion matrices, so the number of classes is capped.
"""

from __future__ import annotations

from mlpfit.config.schema import FitConfig
from mlpfit.data.dataset import Dataset, Split
from mlpfit.data.limits import MAX_CLASSES
from mlpfit.errors import DataError
from mlpfit.memory_budget import require
from mlpfit.network.sizes import count_parameters, layer_sizes

COPIES_PER_PARAMETER = 4  # weights, gradients, Adam's first and second moments
COPIES_PER_UNIT = 3  # pre-activation, activation, gradient


def check_fit(config: FitConfig, dataset: Dataset, split: Split) -> None:
    if dataset.task == "classify" and len(dataset.classes or ()) > MAX_CLASSES:
        raise DataError(f"the target {', '.join(dataset.outputs)} has {len(dataset.classes)} distinct labels, more than the "
                        f"{MAX_CLASSES} classes mlpfit fits: pick a target column with fewer values, or fit it as a number "
                        "with --task regress")
    require(fit_bytes(config, dataset, split), f"the network {describe(config, dataset)}",
            "choose smaller --hidden layers, fewer --ensemble members or a smaller --batch-size")


def fit_bytes(config: FitConfig, dataset: Dataset, split: Split) -> float:
    outputs = len(dataset.classes) if dataset.task == "classify" else dataset.Y.shape[1]
    sizes = layer_sizes(dataset.X.shape[1], list(config.model.hidden or []), outputs)
    members = max(1, config.model.ensemble or 1)
    itemsize = 4  # float32 on both engines (the NumPy engine's flat buffers too)
    batch = min(config.train.batch_size or len(split.train), max(1, len(split.train)))
    weights = float(count_parameters(sizes)) * members * COPIES_PER_PARAMETER * itemsize
    activations = float(batch) * sum(sizes) * members * COPIES_PER_UNIT * itemsize
    return weights + activations


def describe(config: FitConfig, dataset: Dataset) -> str:
    hidden = ",".join(str(h) for h in config.model.hidden or []) or "none"
    members = config.model.ensemble or 1
    return f"--hidden {hidden}" + (f" × {members} members" if members > 1 else "") + f" on {dataset.X.shape[1]} inputs"
