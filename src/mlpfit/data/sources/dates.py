"""Dates and datetimes as network inputs: days since the training table's first date, plus its year,
month and weekday where they vary.

A date column is found by its type (a parsed ``datetime64`` column from Python) or by its text:
pandas guesses a format from the first cell (``%Y-%m-%d``, ``%d/%m/%Y``, ...), and the column is a
date when that format reads nearly every cell. The format is kept with the encoding, so ``predict``
and the NumPy-only export (Python's ``strptime`` takes the same format) read new cells the same way.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pandas.tseries.api import guess_datetime_format

PARTS = ("days", "year", "month", "weekday")  # what a date becomes; days always, the others if they vary
ATTRIBUTE = {"year": "year", "month": "month", "weekday": "day_of_week"}  # pandas' name of each part
READ_SHARE = 0.95  # a text column is a date column when its format reads at least this share of the cells
DAY = pd.Timedelta(days=1)


def date_format(column: pd.Series) -> str | None | bool:
    """The strftime format of a text date column, None for a parsed datetime column, False for anything else."""
    if ptypes.is_datetime64_any_dtype(column):
        return None
    if not (ptypes.is_object_dtype(column) or ptypes.is_string_dtype(column)):
        return False
    present = column.dropna()
    if present.empty or not present.map(lambda v: isinstance(v, str)).all():
        return False
    best, best_share = False, 0.0
    sample = present.iloc[: 2000]
    for dayfirst in (False, True):
        fmt = _guess(sample.iloc[0].strip(), dayfirst)
        if fmt is None or not _has_year_and_month(fmt):
            continue
        share = parse(sample, fmt).notna().mean()
        if share > best_share:
            best, best_share = fmt, share
    return best if best_share >= READ_SHARE else False


def _guess(text: str, dayfirst: bool) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return guess_datetime_format(text, dayfirst=dayfirst)


def _has_year_and_month(fmt: str) -> bool:
    return ("%Y" in fmt or "%y" in fmt) and any(code in fmt for code in ("%m", "%b", "%B"))


def parse(values: pd.Series, fmt: str | None) -> pd.Series:
    """Timestamps (tz-naive, UTC for aware ones); NaT where a cell is missing or not a date in ``fmt``."""
    if ptypes.is_datetime64_any_dtype(values):
        stamps = values
    else:
        texts = values.map(lambda v: v.strip() if isinstance(v, str) else v)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stamps = pd.to_datetime(texts, format=fmt or "mixed", errors="coerce", utc=True)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps


def varying_parts(stamps: pd.Series) -> list[str]:
    """days, then year, month and weekday where the training dates have more than one."""
    present = stamps.dropna()
    parts = ["days"]
    for part in PARTS[1:]:
        if getattr(present.dt, ATTRIBUTE[part]).nunique() > 1:
            parts.append(part)
    return parts


def date_parts(stamps: pd.Series, origin: str, parts: list[str]) -> np.ndarray:
    """[rows, parts] float64: days since ``origin`` (ISO), year, month (1-12), weekday (0 = Monday)."""
    columns = []
    for part in parts:
        if part == "days":
            columns.append(((stamps - pd.Timestamp(origin)) / DAY).to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            columns.append(getattr(stamps.dt, ATTRIBUTE[part]).to_numpy(dtype=np.float64, na_value=np.nan))
    return np.column_stack(columns)
