"""A table's raw rows as network inputs in plain Python and NumPy: the NumPy-only export's encoder.

``mlpfit predict`` encodes rows with pandas (:meth:`TableEncoding.transform`); an exported module must
do the same without pandas, from the encoding's JSON alone. This module is that second reader: it
imports nothing from mlpfit but number_text, equally plain (``mlpfit export`` copies both sources into the
module it writes, less that import), and
tests hold it to the first on the same rows.

Rows come as a list of dicts (one per row), a dict of columns, or a DataFrame; columns are matched
by name, in any order, and extra columns are ignored. Cells are what a CSV or a program holds:
numbers, text (``'1,234'`` read with the training file's marks), dates as text in the training
format or as ``datetime`` values, and missing values (None, NaN, empty text, NA).
"""

import datetime
import math

import numpy as np

from mlpfit.data.sources.number_text import number_from_text  # the export copies number_text's source too

MISSING_TEXTS = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "#N/A", "<NA>", "n/a", "-NaN", "-nan"}


def table_columns(rows):
    """Rows as {column: [cells]}: a list of dicts, a dict of columns, or a DataFrame."""
    if hasattr(rows, "columns") and hasattr(rows, "to_dict"):  # a pandas DataFrame
        return {str(name): list(rows[name]) for name in rows.columns}
    if isinstance(rows, dict):
        return {str(name): list(values) if isinstance(values, (list, tuple, np.ndarray)) else [values]
                for name, values in rows.items()}
    rows = list(rows)
    names = {name for row in rows for name in row}
    return {str(name): [row.get(name) for row in rows] for name in names}


def is_missing(value):
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and value.strip() in MISSING_TEXTS:
        return True
    return str(value) in ("NaT", "<NA>")


def level_text(value):
    """A cell as a category level: stripped text, and 3.0 read back as '3' (pandas' float for ints with holes)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def encode_rows(rows, encoding):
    """Rows -> the network's inputs [n, inputs] float64, by the rules of ``encoding`` (its JSON as a dict)."""
    columns = table_columns(rows)
    absent = [c["name"] for c in encoding["columns"] if c["name"] not in columns]
    if absent:
        raise ValueError(f"the rows lack the column(s) {absent}; the model needs {[c['name'] for c in encoding['columns']]}")
    marks = encoding.get("marks") or {"decimal": ".", "thousands": ","}
    parts = []
    for column in encoding["columns"]:
        values = columns[column["name"]]
        holes = [is_missing(v) for v in values]
        if any(holes) and column["fill"] is None:
            raise ValueError(f"column {column['name']!r} has a missing value, which this model refuses")
        parts.append(_encode_column(column, values, holes, marks))
        if column["indicator"]:
            parts.append(np.array(holes, dtype=np.float64)[:, None])
    return np.column_stack(parts) if parts else np.empty((len(next(iter(columns.values()), [])), 0))


SQUASH_BOUND = 3.0  # squashed numbers stay within ±3 robust spreads of the median (RealMLP's smooth clipping)


def squashed(values, center, spread):
    """A number column's input: ``z / sqrt(1 + (z / 3)²)`` of ``z = (x - center) / spread``. Linear near the median,
    bounded far from it: a house five times the usual size is a large input, not an extreme one, so an
    unbounded unit cannot extrapolate from it. None for ``center``: the raw values (encodings without it)."""
    values = np.asarray(values, dtype=np.float64)
    if center is None:
        return values
    z = (values - center) / spread
    return z / np.sqrt(1.0 + (z / SQUASH_BOUND) ** 2)


def binned(values, edges):
    """A number column's piecewise-linear inputs [n, bins] (Gorishniy et al. 2022): input t rises from 0 to 1
    as the value crosses bin t, from ``edges[t]`` to ``edges[t + 1]`` (the training quantiles), and stays
    there: a unit can then give each range of the column its own slope, as a tree cuts it, where one input
    would need many units to bend. An empty ``edges``: no such inputs."""
    values = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    edges = np.asarray(edges, dtype=np.float64)
    if len(edges) < 2:
        return np.empty((len(values), 0))
    return np.clip((values - edges[:-1]) / np.diff(edges), 0.0, 1.0)


def unsquashed(inputs, center, spread):
    """The raw numbers whose squashed inputs are ``inputs`` (inside ±3): for axes drawn in the column's own units."""
    inputs = np.asarray(inputs, dtype=np.float64)
    if center is None:
        return inputs
    s = np.clip(inputs, -SQUASH_BOUND * (1 - 1e-12), SQUASH_BOUND * (1 - 1e-12))
    return center + spread * s / np.sqrt(1.0 - (s / SQUASH_BOUND) ** 2)


def _encode_column(column, values, holes, marks):
    kind, fill = column["kind"], column["fill"]
    if kind == "number":
        raw = np.array([[fill if hole else _number(v, column["name"], marks)] for v, hole in zip(values, holes)])
        return np.column_stack([squashed(raw, column.get("center"), column.get("spread")),
                                binned(raw, column.get("edges") or [])])
    if kind == "date":
        return np.array([date_numbers(datetime.datetime.fromisoformat(fill) if hole else v, column) for v, hole in zip(values, holes)], dtype=np.float64)
    texts = [fill if hole else level_text(v) for v, hole in zip(values, holes)]
    if kind == "target":
        return np.array([column["codes"].get(text, column["default"]) for text in texts], dtype=np.float64)
    position = {level: k for k, level in enumerate(column["levels"])}
    out = np.zeros((len(texts), len(column["levels"])))
    for row, text in enumerate(texts):
        if text in position:
            out[row, position[text]] = 1.0
    return out


def _number(value, name, marks):
    if isinstance(value, str):
        number = number_from_text(value, marks["decimal"], marks["thousands"] or "")
        if number is None:
            raise ValueError(f"column {name!r}: {value!r} is not a number")
        return number
    return float(value)


def date_numbers(value, column):
    """A date (text in the column's format, or a date/datetime value) as the numbers of the column's parts."""
    stamp = _timestamp(value, column["format"])
    origin = datetime.datetime.fromisoformat(column["origin"])
    if not isinstance(origin, datetime.datetime):
        origin = datetime.datetime(origin.year, origin.month, origin.day)
    values = {"days": (stamp - origin) / datetime.timedelta(days=1), "year": stamp.year, "month": stamp.month,
              "weekday": stamp.weekday()}
    return [float(values[part]) for part in column["parts"]]


def _timestamp(value, fmt):
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()
    if isinstance(value, str):
        text = value.strip()
        value = datetime.datetime.strptime(text, fmt) if fmt else datetime.datetime.fromisoformat(text)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.replace(tzinfo=None)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day)
    raise ValueError(f"{value!r} is not a date")
