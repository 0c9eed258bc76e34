"""What an edited encoding.json can get wrong about one column: the types and shapes that
:meth:`TableEncoding.transform` and the exports rely on, checked when the run folder is read."""

from __future__ import annotations

import datetime

import numpy as np

KINDS = ("number", "category", "target", "date")
PARTS = ("days", "year", "month", "weekday")
MAX_EDGES = 65  # bin edges of a number column: mlpfit writes at most 33; more would only be an edited file's


def coding_problem(column) -> str | None:
    """What is wrong with one ColumnCoding read from disk, or None."""
    if not isinstance(column.name, str) or not column.name or column.kind not in KINDS:
        return f"has no name or a kind other than {', '.join(KINDS)}"
    fill_ok = _number(column.fill) if column.kind == "number" else isinstance(column.fill, str)
    if column.fill is not None and not fill_ok:
        return f"has a fill of type {type(column.fill).__name__}, not a {'number' if column.kind == 'number' else 'text'}"
    if not (isinstance(column.levels, list) and all(isinstance(level, str) for level in column.levels)):
        return "has levels that are not a list of texts"
    if not all(v is None or _number(v) for v in (column.low, column.high)):
        return "has a range that is not finite numbers"
    if column.center is not None or column.spread is not None:
        if column.kind != "number" or not (_number(column.center) and _number(column.spread) and column.spread > 0):
            return "has a squashing center and spread that are not a finite number and a positive one"
    edges = column.edges
    if not (isinstance(edges, list) and len(edges) <= MAX_EDGES and all(_number(e) for e in edges)
            and all(a < b for a, b in zip(edges, edges[1:]))):
        return f"has bin edges that are not at most {MAX_EDGES} increasing finite numbers"
    if edges and column.kind != "number":
        return "has bin edges but is not a number column"
    if not isinstance(column.indicator, bool) or not isinstance(column.missing, int) or isinstance(column.missing, bool):
        return "has an indicator or missing count of the wrong type"
    if column.kind == "target":
        return _target_problem(column)
    if column.kind == "date":
        return _date_problem(column)
    return None


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _codes(values, width: int) -> bool:
    return isinstance(values, list) and len(values) == width and all(_number(v) for v in values)


def _target_problem(column) -> str | None:
    parts = column.parts
    if not (isinstance(parts, list) and parts and all(isinstance(p, str) for p in parts)):
        return "has no list of parts"
    if not isinstance(column.codes, dict) or not all(isinstance(k, str) and _codes(v, len(parts))
                                                     for k, v in column.codes.items()):
        return "has codes that are not one list of finite numbers per level"
    if not _codes(column.default, len(parts)):
        return "has a default code that is not a list of finite numbers"
    return None


def _date_problem(column) -> str | None:
    if not (isinstance(column.parts, list) and column.parts and all(p in PARTS for p in column.parts)):
        return f"has parts other than {', '.join(PARTS)}"
    if column.format is not None and not isinstance(column.format, str):
        return "has a date format that is not text"
    for value in (column.origin, column.fill):
        if value is None and value is column.fill:
            continue
        try:
            datetime.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return f"has a date {value!r} that is not ISO 8601"
    return None
