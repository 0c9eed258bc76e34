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
ROWS_PER_BLOCK = 1 << 20  # values checked at a time


def check_dataset(dataset: Dataset) -> None:
    """Raise DataError naming the first column with no rows, a NaN/inf, or an unscalable value."""
    if len(dataset.X) == 0:
        raise DataError(f"{dataset.name!r} has no examples: give at least one row (or --samples 1 or more)")
    _check_columns(dataset.X, dataset.inputs, "input")
    if dataset.task != "classify":
        _check_columns(np.asarray(dataset.Y).reshape(len(dataset.Y), -1), dataset.outputs, "target")


def _check_columns(values: np.ndarray, names: list[str], role: str) -> None:
    values = np.asarray(values)
    if values.dtype.kind in "biu":
        return  # integers (pixels, counts, labels) are finite and far below MAX_ABS_VALUE
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    # In the array's own dtype and a block of rows at a time: a float64 copy of Fashion-MNIST's pixels and
    # its masks would be 1-2 GB of fresh memory, and first touching that much took 5 s on a busy machine.
    step = max(1, ROWS_PER_BLOCK // max(1, values.shape[1]))
    for start in range(0, len(values), step):
        block = values[start : start + step]
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(block) | (np.abs(block) > MAX_ABS_VALUE)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            _refuse(values, start + row, col, names, role)


def _refuse(values: np.ndarray, row: int, col: int, names: list[str], role: str) -> None:
    name = names[col] if col < len(names) else f"column {col}"
    value = values[row, col]
    if np.isfinite(value):
        raise DataError(f"{role} column {name!r} holds {value:.3g} (row {row + 1}), beyond ±{MAX_ABS_VALUE:.0e}: "
                        "rescale that column (e.g. change its units) before fitting")
    column = values[:, col]
    count = int((~np.isfinite(column) | (np.abs(column) > MAX_ABS_VALUE)).sum())
    raise DataError(f"{role} column {name!r} holds {value} in row {row + 1} ({count} such row(s)): "
                    "remove or fill those rows before fitting")
