"""The part of an exported NumPy module that reads a table's raw rows: the encoding as a literal, and
the plain-Python encoder (:mod:`mlpfit.data.sources.raw_rows` and the number reader it uses), copied
in as source so the module needs nothing but NumPy."""

from __future__ import annotations

import inspect
import pprint

from mlpfit.data.sources import number_text, raw_rows

IMPORTS = ("datetime", "math", "re")  # what the copied source imports besides NumPy


def table_section(encoding: dict) -> str:
    """Section 0 of the module: ENCODING and encode_rows(rows, ENCODING)."""
    literal = pprint.pformat(encoding, width=110, sort_dicts=False)
    return "\n".join([
        "# 0. The table's columns as network inputs. predict() takes the table's raw rows (a list of dicts,",
        "#    a dict of columns, or a pandas DataFrame; columns matched by name) and encodes them as training did:",
        "#    numbers as numbers (text such as '1,234' read with the training file's marks; squashed around the",
        "#    column's median where ENCODING gives a center), few-level text",
        "#    one-hot, many-level text as each level's learnt code, dates as days since ENCODING's origin plus",
        "#    year, month and weekday, holes filled and marked. A 2-D array holds the columns' raw values",
        "#    in COLUMNS order (as `mlpfit predict RUN V ...` takes them).",
        f"ENCODING = {literal}",
        "",
        _body(number_text),
        _body(raw_rows),
        '''

def is_table(X):
    """Raw rows (dicts, a dict of columns, a DataFrame) rather than a 2-D array of the columns' values."""
    if isinstance(X, dict) or hasattr(X, "columns"):
        return True
    return isinstance(X, (list, tuple)) and len(X) > 0 and isinstance(X[0], dict)


COLUMNS = [column["name"] for column in ENCODING["columns"]]


def as_columns(X):
    """A 2-D array of raw values, one column per table column in COLUMNS order, as a dict of columns."""
    X = np.asarray(X, dtype=object)
    X = X.reshape(len(X), -1) if X.ndim != 1 else X.reshape(1, -1)
    if X.shape[1] != len(COLUMNS):
        raise ValueError(f"X has {X.shape[1]} columns; the model takes {len(COLUMNS)}: {COLUMNS}")
    return {name: list(X[:, k]) for k, name in enumerate(COLUMNS)}''',
    ])


def _body(module) -> str:
    """A module's source without its docstring, ``from __future__`` and import lines."""
    lines = inspect.getsource(module).splitlines()
    tree_start = _after_docstring(lines)
    kept = [line for line in lines[tree_start:]
            if not line.startswith(("import ", "from "))]
    return "\n".join(kept).strip("\n")


def _after_docstring(lines: list[str]) -> int:
    quotes = 0
    for number, line in enumerate(lines):
        quotes += line.count('"""')
        if quotes >= 2:
            return number + 1
    return 0
