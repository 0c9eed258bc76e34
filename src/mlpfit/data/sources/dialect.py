"""How a CSV file writes its table: the field separator, the decimal mark and the thousands separator.

Spreadsheets write what their locale says: ``a,b`` with ``1,234.5`` in English, ``a;b`` with
``1.234,5`` in much of Europe, tabs from a copy-paste. Each is detected from the first lines of the
file (the separator that splits every line into the header's width; the marks that the number-like
cells use) unless the user names it (``--sep``, ``--decimal``, ``--thousands``). The result is one
:class:`Dialect` that pandas' reader takes as options and the fit reports in a note.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

from mlpfit.config.options import SEPARATORS
from mlpfit.errors import UsageError

SAMPLE_LINES = 200  # lines read to choose; enough for a stable count, cheap on a 100 MB file
NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar", ".": "point", " ": "space", "'": "apostrophe"}

# A number cell as a locale writes it, e.g. 1,234,567.89 (groups of three after the first) or 12,5.
GROUPED = {sep: re.compile(rf"^[-+]?\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+(?:[.,]\d+)?$") for sep in (",", ".", " ", "'")}
COMMA_DECIMAL = re.compile(r"^[-+]?\d*,\d+$")
POINT_DECIMAL = re.compile(r"^[-+]?\d*\.\d+$")


@dataclass(frozen=True)
class Dialect:
    sep: str = ","
    decimal: str = "."
    thousands: str = ""  # "" when the file groups no digits
    chosen: tuple[str, ...] = ()  # the marks the user named; the others were detected

    def describe(self) -> str:
        """One phrase for the fit's note: ``semicolon-separated, decimal comma, thousands point``."""
        parts = [f"{NAMES.get(self.sep, repr(self.sep))}-separated", f"decimal {NAMES[self.decimal]}"]
        if self.thousands:
            parts.append(f"thousands {NAMES.get(self.thousands, repr(self.thousands))}")
        given = f" ({', '.join('--' + name for name in self.chosen)} as given)" if self.chosen else ""
        return ", ".join(parts) + given


def detect(text: str, sep: str | None = None, decimal: str | None = None, thousands: str | None = None) -> Dialect:
    """The file's dialect from its first lines; marks given by the user are kept as given."""
    chosen = tuple(name for name, given in (("sep", sep), ("decimal", decimal), ("thousands", thousands))
                   if given is not None)
    lines = _first_lines(text)
    sep = sep if sep is not None else _separator(lines)
    cells = _cells(lines, sep)
    decimal = decimal if decimal is not None else _decimal(cells, sep)
    thousands = thousands if thousands is not None else _thousands(cells, decimal)
    if thousands == decimal or sep == decimal:
        raise UsageError(f"the separator {sep!r}, decimal mark {decimal!r} and thousands separator {thousands!r} "
                         "must differ: name them with --sep, --decimal and --thousands")
    return Dialect(sep, decimal, thousands, chosen)


def _first_lines(text: str) -> list[str]:
    lines = []
    for line in io.StringIO(text):
        if line.strip():
            lines.append(line.rstrip("\r\n"))
            if len(lines) >= SAMPLE_LINES:
                break
    return lines


def _separator(lines: list[str]) -> str:
    """The candidate that splits the most lines into the header's width, with more than one field."""
    best, best_score = ",", (0, 0)
    for candidate in SEPARATORS:
        rows = _split(lines, candidate)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        matching = sum(len(row) == width for row in rows[1:]) if len(rows) > 1 else 1
        score = (matching, width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _split(lines: list[str], sep: str) -> list[list[str]]:
    try:
        return list(csv.reader(lines, delimiter=sep))
    except csv.Error:  # a quote split across the sample's last line: judge by what was read
        return []


def _cells(lines: list[str], sep: str) -> list[str]:
    return [cell.strip() for row in _split(lines[1:], sep) for cell in row if cell.strip()]


def _decimal(cells: list[str], sep: str) -> str:
    """A comma is the decimal mark when cells like 12,5 outnumber cells like 12.5 (never in a comma file)."""
    if sep == ",":
        return "."  # a decimal comma in a comma file needs quotes in every cell: --decimal says so
    commas = sum(bool(COMMA_DECIMAL.match(cell)) and not GROUPED[","].match(cell) for cell in cells)
    points = sum(bool(POINT_DECIMAL.match(cell)) and not GROUPED["."].match(cell) for cell in cells)
    grouped_points = sum(bool(GROUPED["."].match(cell)) for cell in cells)
    return "," if commas > points or (grouped_points and commas >= points) else "."


def _thousands(cells: list[str], decimal: str) -> str:
    counts = Counter(sep for cell in cells for sep, pattern in GROUPED.items()
                     if sep != decimal and pattern.match(cell))
    return counts.most_common(1)[0][0] if counts else ""
