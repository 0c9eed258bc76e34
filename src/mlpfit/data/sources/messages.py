"""One-line DataError messages shared by the readers.

The CLI prints a DataError as a single line on stderr, so every message is built here: it names
the file, quotes the offending value safely (no raw newlines or control characters from the file
can leak into the terminal) and ends with what to do about it.
"""

from __future__ import annotations

import os

from mlpfit.errors import DataError

MAX_QUOTED = 40  # long enough to recognise a value, short enough to keep the line readable


def quote(value: object) -> str:
    """``repr`` of a value from a file, shortened; repr escapes newlines and control bytes."""
    text = repr(value)
    if len(text) > MAX_QUOTED:
        text = text[: MAX_QUOTED - 3] + "..."
    return text


def data_error(path: str | os.PathLike | None, problem: str, fix: str) -> DataError:
    """A DataError whose message is ``PATH: PROBLEM; FIX`` on one line."""
    where = f"{os.fspath(path)}: " if path is not None else ""
    message = f"{where}{problem}; {fix}"
    # Any whitespace other than a plain space (newline, tab, U+2028...) could break the line.
    return DataError("".join(" " if ch.isspace() else ch for ch in message))
