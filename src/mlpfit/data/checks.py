"""Checks on a Dataset before anything is scaled or trained: refuse what cannot be learned.

Every source ends in a :class:`~mlpfit.data.dataset.Dataset`; these checks run on it whatever the
source, so a reader that lets a NaN through still cannot poison the scalers (a single NaN makes
every mean, every scaled value and every weight NaN).
"""

from __future__ import annotations

import numpy as np

from mlpfit.data.dataset import Dataset
from mlpfit.errors import DataError

# Beyond this magnitude, squaring a value (as the standard deviation does) overflows float64.
MAX_ABS_VALUE = 1e150


def check_dataset(dataset: Dataset) -> None:
    """Raise DataError naming the first column with no rows, a NaN/inf, or an unscalable value."""
    if len(dataset.X) == 0:
        raise DataError(f"{dataset.name!r} has no examples: give at least one row (or --samples 1 or more)")
    _check_columns(dataset.X, dataset.inputs, "input")
    if dataset.task != "classify":
        _check_columns(np.asarray(dataset.Y).reshape(len(dataset.Y), -1), dataset.outputs, "target")


def _check_columns(values: np.ndarray, names: list[str], role: str) -> None:
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (np.abs(values) > MAX_ABS_VALUE)
    if not bad.any():
        return
    row, col = (int(i) for i in np.argwhere(bad)[0])
    name = names[col] if col < len(names) else f"column {col}"
    value = values[row, col]
    if np.isfinite(value):
        raise DataError(f"{role} column {name!r} holds {value:.3g} (row {row + 1}), beyond ±{MAX_ABS_VALUE:.0e}: "
                        "rescale that column (e.g. change its units) before fitting")
    raise DataError(f"{role} column {name!r} holds {value} in row {row + 1} ({int(bad[:, col].sum())} such row(s)): "
                    "remove or fill those rows before fitting")
