"""Read a CSV file (header row required) into a :class:`Sheet`: a pandas frame that still knows lines.

Reading happens in three passes, each with one job:

1. bytes -> text: refuses a missing file, a folder, a binary or gzip file, bytes that are not
   UTF-8, and an empty file.
2. layout: finds the header and the line on which every record starts, and refuses ragged rows.
   This cannot be left to pandas: it pads a short row with NaN without a word, and with
   ``index_col=False`` it drops an extra field, so the field count is checked here, where the line
   number is still known.
3. pandas types the columns (its C reader is fast on MNIST-sized CSVs); every cell that cannot
   be used is then reported by its line number in the file, taken from pass 2.

Errors are ``DataError`` with one line: the file, the line and column, the value, and the fix.
A frame handed in by Python code (the API, the estimators) becomes a Sheet too, whose cells are
named by data row instead of line.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpfit.data.limits import MAX_COLUMNS
from mlpfit.data.sources.cells import numeric, written_numbers
from mlpfit.data.sources.dialect import Dialect, detect
from mlpfit.data.sources.input_file import require_regular
from mlpfit.data.sources.messages import data_error, quote
from mlpfit.errors import has_control

GZIP_MAGIC = b"\x1f\x8b"
BLANK = " \t"  # a line of only these is skipped by pandas; any other character makes it a record
INDEX_NAME = "Unnamed: 0"  # pandas' name for the unnamed first column that DataFrame.to_csv writes (the index)


@dataclass
class Sheet:
    """A parsed table: the pandas frame plus what is needed to point at a line of the file."""

    path: str | os.PathLike | None  # None for a frame from Python code
    header: list[str]
    record_lines: list[int]  # the line each non-blank record starts on; [0] is the header's ([] for frames)
    frame: pd.DataFrame
    text: str | None = None  # the file's text, for a copy of its cells as written (predict --output)
    dialect: Dialect = Dialect()  # separator, decimal mark and thousands separator the file was read with
    written: dict[str, str] = field(default_factory=dict)  # column -> an example cell, for numbers written as text ('$1,234', '12 %')

    @classmethod
    def load(cls, path: str | os.PathLike, sep: str | None = None, decimal: str | None = None,
             thousands: str | None = None) -> "Sheet":
        """Read ``path``; the marks not given are detected from the file (:mod:`~mlpfit.data.sources.dialect`)."""
        text = _read_text(path)
        dialect = detect(text, sep, decimal, thousands)
        header, record_lines = _scan_layout(text, path, dialect.sep)
        header = _name_index_column(header)
        _check_header(header, path, dialect)
        frame = _parse_frame(text, header, path, dialect)
        written = _read_written_numbers(frame, dialect)
        return cls(path, header, record_lines, frame, text, dialect, written)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "Sheet":
        """A DataFrame from Python code; column names become strings, and must be unique."""
        header = [str(name).strip() for name in frame.columns]
        _check_header(header, None)
        if frame.empty:
            raise data_error(None, "the table has no rows", "pass at least one row")
        frame = frame.copy()
        frame.columns = header
        frame = frame.reset_index(drop=True)
        dialect = Dialect(thousands=",")
        return cls(None, header, [], frame, None, dialect, _read_written_numbers(frame, dialect))

    def reading_note(self) -> str:
        """How the file was read, in one line for the fit's notes."""
        note = f"read as {self.dialect.describe()}" if self.path is not None else "read from a DataFrame"
        if self.written:
            shown = ", ".join(f"{name} ({quote(cell)})" for name, cell in list(self.written.items())[:4])
            more = f" and {len(self.written) - 4} more" if len(self.written) > 4 else ""
            note += f"; numbers written as text read as numbers: {shown}{more}"
        return note

    def where(self, row: int) -> str:
        """'line N' for a frame row, or 'data row N' if pandas and the scan disagree on blanks."""
        if len(self.record_lines) == len(self.frame) + 1:
            return f"line {self.record_lines[row + 1]}"
        return f"data row {row + 1}"

    def cells_as_written(self) -> pd.DataFrame:
        """Every cell as the text in the file (empty for a missing one), for copying through unchanged."""
        if self.text is None:
            return self.frame.astype(object).where(self.frame.notna(), "").astype(str)
        frame = pd.read_csv(io.StringIO(self.text), dtype=str, keep_default_na=False, skipinitialspace=True,
                            index_col=False, sep=self.dialect.sep)
        frame.columns = self.header
        return frame

    def matrix(self, names: list[str], fix: str) -> np.ndarray:
        columns = [self.numbers(name, fix) for name in names]
        if not columns:
            return np.empty((len(self.frame), 0))
        return np.column_stack(columns)

    def numbers(self, name: str, fix: str, allow_missing: bool = False) -> np.ndarray:
        """Column ``name`` as finite float64 (NaN where missing, if allowed), or a DataError naming the first bad cell."""
        column = self.frame[name]
        if not allow_missing:
            self.require_values(name)
        if ptypes.is_bool_dtype(column):
            return column.to_numpy(dtype=np.float64)  # True/False inputs are 1/0
        values = numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
        self.refuse_first(np.isnan(values) & column.notna().to_numpy(), name, "is not a number", fix)
        self.refuse_first(
            np.isinf(values), name, "is infinite or too large for a float", "replace it with a finite number"
        )
        return values

    def require_values(self, name: str) -> None:
        missing = self.frame[name].isna().to_numpy()
        if missing.any():
            row = int(np.argmax(missing))
            raise data_error(
                self.path,
                f"{self.where(row)}, column {quote(name)}: the value is missing (empty or NA)",
                "fill it in or delete the row",
            )

    def refuse_first(self, bad: np.ndarray, name: str, problem: str, fix: str) -> None:
        """A DataError naming the first cell of column ``name`` flagged in ``bad``, if any is."""
        if bad.any():
            row = int(np.argmax(bad))
            value = self.frame[name].iloc[row]
            value = value.item() if isinstance(value, np.generic) else value  # 'inf', not 'np.float64(inf)'
            raise data_error(
                self.path, f"{self.where(row)}, column {quote(name)}: {quote(value)} {problem}", fix
            )


def _name_index_column(header: list[str]) -> list[str]:
    """DataFrame.to_csv writes the index as a first column with no name: call it what pandas does."""
    if len(header) > 1 and not header[0].strip():
        return [INDEX_NAME, *header[1:]]
    return header


def _read_text(path: str | os.PathLike) -> str:
    data = _read_bytes(path)
    if data.startswith(GZIP_MAGIC):
        raise data_error(path, "is gzip-compressed, not a CSV text file", "decompress it first (gunzip)")
    if b"\x00" in data:  # no text file holds NUL; pandas and csv would each misread it differently
        raise data_error(path, "looks like a binary file (it contains NUL bytes)", "pass a comma-separated text file")
    try:
        text = data.decode("utf-8-sig")  # -sig: a byte-order mark would otherwise stick to the first name
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise data_error(
            path,
            f"line {line} has a byte that is not UTF-8 (0x{data[error.start]:02x} at byte {error.start})",
            "save the file with UTF-8 encoding",
        ) from None
    if not text.strip():
        raise data_error(path, "is empty", "it needs a header row naming the columns and at least one data row")
    return text


def _read_bytes(path: str | os.PathLike) -> bytes:
    try:
        if os.path.isdir(path):
            raise data_error(path, "is a folder, not a CSV file", "pass the path of a .csv file")
        require_regular(path, "a CSV file", "pass the path of a .csv file")
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise data_error(path, "no such file", f"check the path (relative paths start at {os.getcwd()})") from None
    except (OSError, ValueError) as error:  # ValueError: a path with a NUL character
        reason = getattr(error, "strerror", None) or str(error)
        raise data_error(path, f"cannot be read ({reason})", "check that the file exists and is readable") from None


def _read_written_numbers(frame: pd.DataFrame, dialect: Dialect) -> dict[str, str]:
    """Text columns whose every cell writes a number become numbers; returns column -> an example cell."""
    written = {}
    for name in frame.columns:
        values = written_numbers(frame[name], dialect.decimal, dialect.thousands)
        if values is not None:
            written[name] = str(frame[name].dropna().iloc[0])
            frame[name] = values
    return written


def _scan_layout(text: str, path: str | os.PathLike, sep: str = ",") -> tuple[list[str], list[int]]:
    """The stripped header names and each record's first line; refuses ragged rows."""
    unix_text = text.replace("\r\n", "\n") if "\r" in text else text  # skip a 100 MB copy if we can
    if '"' in unix_text or "\r" in unix_text:
        header, widths = _quoted_widths(text, path, sep)
    else:
        header, widths = _simple_widths(unix_text, sep)
    if header is None:  # e.g. a file holding only '""'
        raise data_error(path, "holds no header row, only blank fields", "add a header row naming the columns")
    header_line = widths[0][0]
    for line, width in widths[1:]:
        if width != len(header):
            raise data_error(
                path,
                f"line {line} has {_fields(width)} but the header (line {header_line}) has {len(header)}",
                f"give every row one value per column (look for a missing or extra {_mark(sep)}; "
                "--sep names the separator if it was misdetected)",
            )
    return [name.strip() for name in header], [line for line, _ in widths]


def _fields(count: int) -> str:
    return "1 field" if count == 1 else f"{count} fields"


def _mark(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}.get(sep, repr(sep))


def _simple_widths(text: str, sep: str = ",") -> tuple[list[str] | None, list[tuple[int, int]]]:
    """Header fields and (line, field count) of each non-blank line, for text without quotes or
    bare CRs: there a record is a line, and counting commas is far faster than splitting."""
    lines = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip(BLANK)]
    if not lines:
        return None, []
    return lines[0][1].split(sep), [(number, line.count(sep) + 1) for number, line in lines]


def _quoted_widths(text: str, path: str | os.PathLike, sep: str = ",") -> tuple[list[str] | None, list[tuple[int, int]]]:
    """As :func:`_simple_widths`, with the csv module; a record may span lines."""
    # strict: an unclosed quote is an error here, with its line, instead of swallowing the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=sep)
    header, widths, start = None, [], 1
    try:
        for fields in reader:
            if len(fields) > 1 or (fields and fields[0].strip(BLANK)):  # pandas skips blank lines
                header = fields if header is None else header
                widths.append((start, len(fields)))
            start = reader.line_num + 1
    except csv.Error as error:
        raise data_error(
            path,
            f"the record starting on line {start} cannot be split into fields ({error})",
            "check the quotes: a quoted field must end with a closing quote",
        ) from None
    return header, widths


def _check_header(header: list[str], path: str | os.PathLike | None, dialect: Dialect = Dialect()) -> None:
    """Names present, unique and free of control characters, at most MAX_COLUMNS of them; for a file (path not
    None) also signs of a wrong separator or no header."""
    if len(header) > MAX_COLUMNS:
        raise data_error(path, f"the header has {len(header)} columns, more than the {MAX_COLUMNS} mlpfit reads",
                         "keep the columns to learn from (e.g. with pandas) and fit that file")
    for position, name in enumerate(header, start=1):
        if not name:
            raise data_error(path, f"column {position} of the header has no name", "give every column a name")
        if has_control(str(name)):  # an escape sequence in a name would reach the terminal in every line that names it
            raise data_error(path, f"column name {quote(name)} holds a control character", "rename the column")
    repeated = [name for name, count in Counter(header).items() if count > 1]
    if repeated:
        raise data_error(
            path, f"column name {quote(repeated[0])} appears more than once in the header", "give each column its own name"
        )
    if path is None:  # a frame's columns may well be 0, 1, 2...
        return
    if len(header) == 1 and any(sep in header[0] for sep in ",;\t|" if sep != dialect.sep):
        raise data_error(
            path,
            f"the header has a single column {quote(header[0])} when split at {quote(dialect.sep)}",
            "name the separator with --sep (e.g. --sep ';'), or leave --sep out to detect it",
        )
    if all(_is_number(name) for name in header):
        raise data_error(
            path,
            f"the first line holds only numbers ({quote(','.join(header[:3]))}...), so there is no header row",
            "add a first line with the column names",
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_frame(text: str, header: list[str], path: str | os.PathLike, dialect: Dialect = Dialect()) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # pandas warns, then drops fields, when rows and header disagree: here that is an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), skipinitialspace=True, index_col=False, low_memory=False,
                                sep=dialect.sep, decimal=dialect.decimal, thousands=dialect.thousands or None)
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, csv.Error, ValueError, OverflowError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise data_error(path, f"cannot be parsed as CSV ({reason})", "check the commas and quotes") from None
    if len(frame.columns) != len(header):
        raise data_error(
            path,
            f"pandas found {len(frame.columns)} columns but the header has {len(header)}",
            "check the quotes in the header line",
        )
    if frame.empty:
        raise data_error(path, "has a header but no data rows", "add at least one row of values under the header")
    frame.columns = header
    return frame
