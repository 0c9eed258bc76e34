"""Table cells as numbers, whatever pandas made of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpfit.data.sources.number_text import number_from_text


def numeric(column: pd.Series) -> pd.Series:
    """Numbers where the cells are numbers, NaN elsewhere; an integer of hundreds of digits becomes inf."""
    if ptypes.is_numeric_dtype(column):
        return column
    try:
        return pd.to_numeric(column, errors="coerce")
    except OverflowError:  # pandas keeps a huge integer as a Python int, then cannot make it a float
        return pd.Series([as_float(v) for v in column], index=column.index, dtype=np.float64)


def as_float(value) -> float:
    try:
        return float(value)
    except OverflowError:
        return float("inf")
    except (TypeError, ValueError):
        return float("nan")


def written_numbers(column: pd.Series, decimal: str = ".", thousands: str = ",") -> pd.Series | None:
    """A text column whose every cell writes a number (``$1,234``, ``12 %``, ``1.234,5``) as float64, else None.

    None also for a column that is no text (numbers, dates, booleans) or that has a cell of any other kind."""
    if not (ptypes.is_object_dtype(column) or ptypes.is_string_dtype(column)):
        return None
    present = column.dropna()
    if present.empty or not present.map(lambda v: isinstance(v, str)).all():
        return None
    values = {text: number_from_text(text, decimal, thousands) for text in present.unique()}
    if any(value is None for value in values.values()):
        return None
    return column.map(lambda v: values.get(v, np.nan) if isinstance(v, str) else np.nan).astype(np.float64)
