"""A table (a CSV file, or a DataFrame from Python) as input and target arrays.

The file is read by :mod:`mlpfit.data.sources.csvfile`; here the columns are chosen (target, inputs,
what is left out by :mod:`~mlpfit.data.sources.columns`), the task is detected from the target, and
the inputs are encoded as numbers by :mod:`~mlpfit.data.sources.encoding`. Errors are one-line
``DataError`` messages naming the file, the line and column, the value, and the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpfit.data.sources.cells import numeric
from mlpfit.data.sources.columns import known_names, left_out, listed
from mlpfit.data.sources.csvfile import Sheet
from mlpfit.data.sources.encoding import Target, TableEncoding
from mlpfit.data.sources.messages import data_error, quote
from mlpfit.errors import UsageError

TASKS = ("regress", "classify")
MAX_CLASSES = 20  # integer targets with more distinct values than this are treated as numbers
MIN_ROWS_PER_CLASS = 2  # ...and so are those with too few rows per value to learn a class from
EXACT_FLOAT_INT = 2**53  # beyond this, float64 cannot hold every integer label exactly


@dataclass
class Table:
    """A table split into inputs ``X`` and targets ``Y``, with the task they call for."""

    path: str | None  # None for a DataFrame
    features: list[str]  # input column names, in table order
    targets: list[str]  # target column names
    X: np.ndarray  # float64 [n, len(encoding.names)]: features encoded as numbers
    Y: np.ndarray  # [n, len(targets)]: float64 to regress; raw labels (int64 or str objects) to classify
    task: str  # "regress" or "classify"
    encoding: TableEncoding  # how features became X; applied again at predict time
    reading: str = ""  # how the file was read (separator, marks, numbers written as text), for the fit's notes


def read_table(
    path: str | os.PathLike,
    target: Sequence[str] | str | None = None,
    features: Sequence[str] | None = None,
    task: str | None = None,
    *,
    drop: Sequence[str] = (),
    impute: bool = False,
    squash: bool = True,
    sep: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
) -> Table:
    """Read ``path``; ``target`` defaults to the last column, ``features`` to all the others.

    ``task`` overrides :func:`detect_task`. A comma-separated string is accepted for ``target``
    (as ``--target a,b`` gives it). ``drop`` names columns to leave out; ``impute`` fills missing
    inputs (``mlpfit fit`` does by default) instead of refusing them. ``sep``, ``decimal`` and
    ``thousands`` name the file's marks; those left None are detected.
    """
    sheet = Sheet.load(path, sep, decimal, thousands)
    return sheet_table(sheet, target, features, task, drop=drop, impute=impute, squash=squash)


def frame_table(frame: pd.DataFrame, target=None, features=None, task=None, *, drop=(), impute=True,
                squash=True) -> Table:
    """:func:`read_table` for a DataFrame (the Python API): the same rules, rows named by number."""
    return sheet_table(Sheet.from_frame(frame), target, features, task, drop=drop, impute=impute, squash=squash)


def sheet_table(sheet: Sheet, target, features, task, *, drop=(), impute=False, squash=True) -> Table:
    if task is not None and task not in TASKS:
        raise UsageError(f"task must be 'regress' or 'classify', got {quote(task)}")
    feature_names, target_names = _choose_columns(sheet, target, features)
    dropped = left_out(sheet, [] if features is not None else feature_names, drop or (), target_names)
    feature_names = [name for name in feature_names if name not in dropped]
    other = [name for name in sheet.header if name not in feature_names]
    Y, chosen_task = _targets(sheet, target_names, task)
    target = Target(Y, chosen_task, target_names)
    encoding, X = TableEncoding.fit_transform(sheet, feature_names, impute, other, dropped, target, squash)
    path = None if sheet.path is None else os.fspath(sheet.path)
    return Table(path, feature_names, target_names, X, Y, chosen_task, encoding, sheet.reading_note())


def read_inputs(path: str | os.PathLike, names: Sequence[str]) -> np.ndarray:
    """The number columns ``names`` of ``path`` as float64 [n, len(names)]; other columns are ignored."""
    return TableEncoding.plain(list(names)).transform(Sheet.load(path)).X


def detect_task(y: pd.Series) -> str:
    """``"classify"`` or ``"regress"`` for a target column, by this rule:

    - text or booleans (any value that is not a number) -> classify;
    - integers written as integers (``3``, not ``3.0``) with 2 to 20 distinct values and at least
      2 rows per distinct value -> classify (class ids such as digits 0-9 or labels -1/1);
    - anything else (decimals, many distinct integers, a constant) -> regress.

    Writing ``3.0`` instead of ``3`` is the way to keep a few-valued integer target a regression,
    besides passing ``task="regress"``. Missing values are ignored here.
    """
    values = y.dropna()
    if ptypes.is_bool_dtype(values):
        return "classify"
    numbers = numeric(values)
    if numbers.isna().any():
        return "classify"
    if not ptypes.is_integer_dtype(numbers):
        return "regress"
    distinct = numbers.nunique()
    if 2 <= distinct <= MAX_CLASSES and len(numbers) >= MIN_ROWS_PER_CLASS * distinct:
        return "classify"
    return "regress"


# ----------------------------------------------------------------------------- columns


def _choose_columns(
    sheet: Sheet, target: Sequence[str] | str | None, features: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    path, header = sheet.path, sheet.header
    if isinstance(target, str):
        target = target.split(",")
    targets = known_names(sheet, target or [header[-1]], "target")
    if features is None:
        chosen = [name for name in header if name not in targets]
    else:
        chosen = known_names(sheet, features, "feature")
        both = [name for name in chosen if name in targets]
        if both:
            raise data_error(
                path, f"column {quote(both[0])} is both a target and a feature", "leave it out of the features"
            )
    if not chosen:
        raise data_error(
            path, f"there is no input column besides the target(s) {listed(targets)}", "add at least one feature column"
        )
    return chosen, targets


# ----------------------------------------------------------------------------- targets


def _targets(sheet: Sheet, targets: list[str], task: str | None) -> tuple[np.ndarray, str]:
    for name in targets:
        sheet.require_values(name)
    if len(targets) > 1:
        if task == "classify":
            raise data_error(
                sheet.path,
                f"classification needs a single target column, got {len(targets)}: {listed(targets)}",
                "pick one target column",
            )
        fix = "several targets are all regressed, so each must be numeric; classification takes a single target"
        return sheet.matrix(targets, fix), "regress"
    column = sheet.frame[targets[0]]
    chosen = task or detect_task(column)
    if chosen == "regress":
        fix = "a text target can only be classified: use task 'classify', or choose a numeric target column"
        return sheet.matrix(targets, fix), "regress"
    return _labels(column)[:, None], "classify"


def _labels(column: pd.Series) -> np.ndarray:
    """Class labels as written: int64 when every label is a whole number, else str objects."""
    if not ptypes.is_bool_dtype(column):
        values = numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(values).all() and (values == np.round(values)).all()
        if whole and (np.abs(values) < EXACT_FLOAT_INT).all():
            return values.astype(np.int64)
    return column.astype(str).str.strip().to_numpy(dtype=object)
