"""Read a CSV table (header row required) into input and target arrays.

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
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpfit.errors import UsageError
from mlpfit.data.sources.cells import numeric
from mlpfit.data.sources.input_file import require_regular
from mlpfit.data.sources.messages import data_error, quote

TASKS = ("regress", "classify")
MAX_CLASSES = 20  # integer targets with more distinct values than this are treated as numbers
MIN_ROWS_PER_CLASS = 2  # ...and so are those with too few rows per value to learn a class from
GZIP_MAGIC = b"\x1f\x8b"
BLANK = " \t"  # a line of only these is skipped by pandas; any other character makes it a record
FEATURE_FIX = "inputs must be numbers: encode the column as numbers or leave it out of the features"
EXACT_FLOAT_INT = 2**53  # beyond this, float64 cannot hold every integer label exactly


@dataclass
class Table:
    """A CSV file split into inputs ``X`` and targets ``Y``, with the task they call for."""

    path: str
    features: list[str]  # input column names, in file order
    targets: list[str]  # target column names
    X: np.ndarray  # float64 [n, len(features)]
    Y: np.ndarray  # [n, len(targets)]: float64 to regress; raw labels (int64 or str objects) to classify
    task: str  # "regress" or "classify"


def read_table(
    path: str | os.PathLike,
    target: Sequence[str] | str | None = None,
    features: Sequence[str] | None = None,
    task: str | None = None,
) -> Table:
    """Read ``path``; ``target`` defaults to the last column, ``features`` to all the others.

    ``task`` overrides :func:`detect_task`. A comma-separated string is accepted for ``target``
    (as ``--target a,b`` gives it).
    """
    if task is not None and task not in TASKS:
        raise UsageError(f"task must be 'regress' or 'classify', got {quote(task)}")
    sheet = _Sheet.load(path)
    feature_names, target_names = _choose_columns(sheet, target, features)
    X = sheet.matrix(feature_names, FEATURE_FIX)
    Y, chosen_task = _targets(sheet, target_names, task)
    return Table(os.fspath(path), feature_names, target_names, X, Y, chosen_task)


def read_inputs(path: str | os.PathLike, names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` of ``path`` as float64 [n, len(names)]; other columns are ignored."""
    sheet = _Sheet.load(path)
    missing = [name for name in names if name not in sheet.header]
    if missing:
        raise data_error(
            path,
            f"the model needs input column(s) {_names(missing)} that are not in the header",
            f"add them to the file; {_suggest(missing[0], sheet.header)}",
        )
    return sheet.matrix(list(names), FEATURE_FIX)


def detect_task(y: pd.Series) -> str:
    """``"classify"`` or ``"regress"`` for a target column, by this rule:

    - text or booleans (any value that is not a number) -> classify;
    - integers written as integers (``3``, not ``3.0``) with 2 to 20 distinct values and at least
      2 rows per distinct value -> classify (class ids such as digits 0-9 or labels -1/1);
    - anything else (decimals, many distinct integers, a constant) -> regress.

    Writing ``3.0`` instead of ``3`` is the way to keep a few-valued integer target a regression,
    besides passing ``task="regress"``. Missing values are ignored here.
    """
    values = y.dropna()
    if ptypes.is_bool_dtype(values):
        return "classify"
    numbers = numeric(values)
    if numbers.isna().any():
        return "classify"
    if not ptypes.is_integer_dtype(numbers):
        return "regress"
    distinct = numbers.nunique()
    if 2 <= distinct <= MAX_CLASSES and len(numbers) >= MIN_ROWS_PER_CLASS * distinct:
        return "classify"
    return "regress"


# ----------------------------------------------------------------------------- the three passes


@dataclass
class _Sheet:
    """A parsed CSV: the pandas frame plus what is needed to point at a line of the file."""

    path: str | os.PathLike
    header: list[str]
    record_lines: list[int]  # the line each non-blank record starts on; [0] is the header's
    frame: pd.DataFrame

    @classmethod
    def load(cls, path: str | os.PathLike) -> "_Sheet":
        text = _read_text(path)
        header, record_lines = _scan_layout(text, path)
        _check_header(header, path)
        frame = _parse_frame(text, header, path)
        return cls(path, header, record_lines, frame)

    def where(self, row: int) -> str:
        """'line N' for a frame row, or 'data row N' if pandas and the scan disagree on blanks."""
        if len(self.record_lines) == len(self.frame) + 1:
            return f"line {self.record_lines[row + 1]}"
        return f"data row {row + 1}"

    def matrix(self, names: list[str], fix: str) -> np.ndarray:
        columns = [self.numbers(name, fix) for name in names]
        if not columns:
            return np.empty((len(self.frame), 0))
        return np.column_stack(columns)

    def numbers(self, name: str, fix: str) -> np.ndarray:
        """Column ``name`` as finite float64, or a DataError naming the first bad cell."""
        column = self.frame[name]
        self.require_values(name)
        if ptypes.is_bool_dtype(column):
            return column.to_numpy(dtype=np.float64)  # True/False inputs are 1/0
        values = numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
        self._refuse_first(np.isnan(values), name, "is not a number", fix)
        self._refuse_first(
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

    def _refuse_first(self, bad: np.ndarray, name: str, problem: str, fix: str) -> None:
        if bad.any():
            row = int(np.argmax(bad))
            value = self.frame[name].iloc[row]
            value = value.item() if isinstance(value, np.generic) else value  # 'inf', not 'np.float64(inf)'
            raise data_error(
                self.path, f"{self.where(row)}, column {quote(name)}: {quote(value)} {problem}", fix
            )


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
        require_regular(path, "a CSV file", "pass the path of a .csv file")
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise data_error(path, "no such file", f"check the path (relative paths start at {os.getcwd()})") from None
    except (OSError, ValueError) as error:  # ValueError: a path with a NUL character
        reason = getattr(error, "strerror", None) or str(error)
        raise data_error(path, f"cannot be read ({reason})", "check that the file exists and is readable") from None


def _scan_layout(text: str, path: str | os.PathLike) -> tuple[list[str], list[int]]:
    """The stripped header names and each record's first line; refuses ragged rows."""
    unix_text = text.replace("\r\n", "\n") if "\r" in text else text  # skip a 100 MB copy if we can
    if '"' in unix_text or "\r" in unix_text:
        header, widths = _quoted_widths(text, path)
    else:
        header, widths = _simple_widths(unix_text)
    if header is None:  # e.g. a file holding only '""'
        raise data_error(path, "holds no header row, only blank fields", "add a header row naming the columns")
    header_line = widths[0][0]
    for line, width in widths[1:]:
        if width != len(header):
            raise data_error(
                path,
                f"line {line} has {_fields(width)} but the header (line {header_line}) has {len(header)}",
                "give every row one value per column (look for a missing or extra comma)",
            )
    return [name.strip() for name in header], [line for line, _ in widths]


def _fields(count: int) -> str:
    return "1 field" if count == 1 else f"{count} fields"


def _simple_widths(text: str) -> tuple[list[str] | None, list[tuple[int, int]]]:
    """Header fields and (line, field count) of each non-blank line, for text without quotes or
    bare CRs: there a record is a line, and counting commas is far faster than splitting."""
    lines = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip(BLANK)]
    if not lines:
        return None, []
    return lines[0][1].split(","), [(number, line.count(",") + 1) for number, line in lines]


def _quoted_widths(text: str, path: str | os.PathLike) -> tuple[list[str] | None, list[tuple[int, int]]]:
    """As :func:`_simple_widths`, with the csv module; a record may span lines."""
    # strict: an unclosed quote is an error here, with its line, instead of swallowing the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
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


def _check_header(header: list[str], path: str | os.PathLike) -> None:
    for position, name in enumerate(header, start=1):
        if not name:
            raise data_error(path, f"column {position} of the header has no name", "give every column a name")
    repeated = [name for name, count in Counter(header).items() if count > 1]
    if repeated:
        raise data_error(
            path, f"column name {quote(repeated[0])} appears more than once in the header", "give each column its own name"
        )
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        raise data_error(
            path,
            f"the header has a single column {quote(header[0])}: the file seems not to be comma-separated",
            "mlpfit reads comma-separated files; convert it (e.g. with pandas: read_csv(sep=';').to_csv(...))",
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


def _parse_frame(text: str, header: list[str], path: str | os.PathLike) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # pandas warns, then drops fields, when rows and header disagree: here that is an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), skipinitialspace=True, index_col=False, low_memory=False)
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


# ----------------------------------------------------------------------------- columns


def _choose_columns(
    sheet: _Sheet, target: Sequence[str] | str | None, features: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    path, header = sheet.path, sheet.header
    if isinstance(target, str):
        target = target.split(",")
    targets = _known_names(path, header, target or [header[-1]], "target")
    if features is None:
        chosen = [name for name in header if name not in targets]
    else:
        chosen = _known_names(path, header, features, "feature")
        both = [name for name in chosen if name in targets]
        if both:
            raise data_error(
                path, f"column {quote(both[0])} is both a target and a feature", "leave it out of the features"
            )
    if not chosen:
        raise data_error(
            path, f"there is no input column besides the target(s) {_names(targets)}", "add at least one feature column"
        )
    return chosen, targets


def _known_names(path: str | os.PathLike, header: list[str], names: Sequence[str], role: str) -> list[str]:
    names = [name.strip() for name in names]
    for name in names:
        if name not in header:
            raise data_error(path, f"{role} column {quote(name)} is not in the header", _suggest(name, header))
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise data_error(path, f"{role} column {quote(repeated[0])} is given twice", "name each column once")
    return names


def _suggest(name: str, header: list[str]) -> str:
    same_but_case = [column for column in header if column.lower() == name.lower()]
    close = same_but_case + difflib.get_close_matches(name, header, n=3, cutoff=0.6)
    close = list(dict.fromkeys(close))[:3]
    if close:
        return f"did you mean {' or '.join(quote(c) for c in close)}?"
    return f"the columns are {_names(header)}"


def _names(names: Sequence[str], shown: int = 8) -> str:
    listed = ", ".join(quote(name) for name in names[:shown])
    return listed if len(names) <= shown else f"{listed}, ... ({len(names)} in all)"


# ----------------------------------------------------------------------------- targets


def _targets(sheet: _Sheet, targets: list[str], task: str | None) -> tuple[np.ndarray, str]:
    for name in targets:
        sheet.require_values(name)
    if len(targets) > 1:
        if task == "classify":
            raise data_error(
                sheet.path,
                f"classification needs a single target column, got {len(targets)}: {_names(targets)}",
                "pick one target column",
            )
        fix = "several targets are all regressed, so each must be numeric; classification takes a single target"
        return sheet.matrix(targets, fix), "regress"
    column = sheet.frame[targets[0]]
    chosen = task or detect_task(column)
    if chosen == "regress":
        fix = "a text target can only be classified: use task 'classify', or choose a numeric target column"
        return sheet.matrix(targets, fix), "regress"
    return _labels(column)[:, None], "classify"


def _labels(column: pd.Series) -> np.ndarray:
    """Class labels as written: int64 when every label is a whole number, else str objects."""
    if not ptypes.is_bool_dtype(column):
        values = numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(values).all() and (values == np.round(values)).all()
        if whole and (np.abs(values) < EXACT_FLOAT_INT).all():
            return values.astype(np.int64)
    return column.astype(str).str.strip().to_numpy(dtype=object)
