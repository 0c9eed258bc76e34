"""Table cells as numbers, whatever pandas made of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes


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
