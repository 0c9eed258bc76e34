"""Which columns of a table are inputs: named ones, and those left out (``--drop``, indexes, row ids).

A column that only numbers the rows teaches a network nothing about new rows, and one that is
unique per row lets it memorize the training set; both are left out with a warning, unless the
user names them in ``--features``. An identifier is known by its values (a different text in every
row, or different whole numbers that fill a range, from any start: order numbers from 50000) or by
its name (``id``, ``order_id``, ``CustomerID``) with a different value in every row.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections import Counter
from typing import Sequence

import numpy as np
from pandas.api import types as ptypes

from mlpfit.data.sources.csvfile import Sheet
from mlpfit.data.sources.dates import date_format
from mlpfit.data.sources.messages import data_error, quote
from mlpfit.errors import MlpfitWarning

INDEX_PATTERN = re.compile(r"Unnamed: \d+")  # pandas' names for unnamed columns, e.g. a saved index
MIN_ROWS_FOR_ID = 20  # in a smaller table a column 0..n-1 is as likely an input as a row number
# Names that say "identifier": id, ID, order_id, Order ID, customerId, CustomerID, uuid, row_number, index.
ID_NAME = re.compile(r"(?i:(?:^|[\W_])(?:id|uuid|guid|index|row_?(?:number|num|no))$)|[a-z0-9](?:ID|Id)$")
ID_SPAN = 2.0  # unique whole numbers spanning at most this many times the rows fill a range: a numbering


def known_names(sheet: Sheet, names: Sequence[str], role: str) -> list[str]:
    """``names`` stripped, each in the header and given once, or a DataError with a suggestion."""
    names = [name.strip() for name in names]
    for name in names:
        if name not in sheet.header:
            raise data_error(sheet.path, f"{role} column {quote(name)} is not in the header", suggest(name, sheet.header))
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise data_error(sheet.path, f"{role} column {quote(repeated[0])} is given twice", "name each column once")
    return names


def left_out(sheet: Sheet, candidates: list[str], drop: Sequence[str], targets: list[str]) -> dict[str, str]:
    """Columns not to learn from, each with the reason, in header order.

    ``drop`` (the user's ``--drop``) always goes; among ``candidates`` (the inputs the user did not
    choose by name), a saved pandas index and a row identifier go with a warning, except that the
    last remaining input is never taken away.
    """
    dropped = {}
    for name in known_names(sheet, drop, "--drop"):
        if name in targets:
            raise data_error(sheet.path, f"--drop {quote(name)} names the target", "choose another --target, or drop another column")
        dropped[name] = "--drop"
    remaining = sum(1 for c in candidates if c not in dropped)  # counted once: per column it was quadratic
    for name in candidates:
        if name in dropped or remaining <= 1:
            continue
        reason = _identifier(sheet, name)
        if reason:
            dropped[name] = reason
            remaining -= 1
            warnings.warn(f"column {quote(name)} is left out of the inputs: it looks like {reason}; "
                          "name it in --features to keep it", MlpfitWarning, stacklevel=2)
    return {name: dropped[name] for name in sheet.header if name in dropped}


def _identifier(sheet: Sheet, name: str) -> str | None:
    """What the column looks like (an index, a row number or identifier), or None."""
    column = sheet.frame[name]
    if INDEX_PATTERN.fullmatch(name):
        return "a pandas index saved by to_csv (index=False leaves it out)"
    if len(column) < MIN_ROWS_FOR_ID or column.isna().any() or column.nunique() != len(column):
        return None
    named = bool(ID_NAME.search(name.strip()))
    if ptypes.is_integer_dtype(column):
        values = column.to_numpy(dtype=np.int64)
        start, end = int(values.min()), int(values.max())
        if named or end - start + 1 <= ID_SPAN * len(values):
            return f"a row number or identifier: {len(values)} different whole numbers from {start} to {end}"
        return None
    if ptypes.is_object_dtype(column) or ptypes.is_string_dtype(column):
        if column.map(lambda v: isinstance(v, str)).all() and date_format(column) is False:
            return "a row identifier: a different text in every row"
    if named and not ptypes.is_float_dtype(column) and not ptypes.is_datetime64_any_dtype(column):
        return "an identifier: named so, with a different value in every row"
    return None


def suggest(name: str, header: list[str]) -> str:
    """'did you mean ...?' for a misspelt column, else the list of columns."""
    same_but_case = [column for column in header if column.lower() == name.lower()]
    close = same_but_case + difflib.get_close_matches(name, header, n=3, cutoff=0.6)
    close = list(dict.fromkeys(close))[:3]
    if close:
        return f"did you mean {' or '.join(quote(c) for c in close)}?"
    return f"the columns are {listed(header)}"


def listed(names: Sequence[str], shown: int = 8) -> str:
    """Quoted names, the first ``shown`` of them."""
    text = ", ".join(quote(name) for name in names[:shown])
    return text if len(names) <= shown else f"{text}, ... ({len(names)} in all)"
