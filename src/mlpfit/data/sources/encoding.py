"""Table columns as network inputs: numbers as they are, text one-hot or target-encoded, dates as numbers,
holes filled and marked.

:meth:`TableEncoding.fit` learns from the training table what each input column is; the run folder
keeps it as plain data (``encoding.json``, no pickle), and :meth:`TableEncoding.transform` applies
exactly that to new rows, at ``predict`` time, in the estimators and (re-written without pandas) in
the NumPy-only export. Per column:

- numbers stay numbers; in a :attr:`~TableEncoding.tabular` table those of more than two values are centred
  on their median, divided by their interquartile range and squashed smoothly into ±3
  (:func:`~mlpfit.data.sources.raw_rows.squashed`), so that outliers and skewed columns (a house's area, an
  age in days) reach the network as bounded inputs; their observed range is kept, so a prediction outside
  it can be flagged;
- text of up to ``ONE_HOT_LEVELS`` levels is one-hot encoded, one input per level (``color[red]``);
  a level never seen in training becomes all zeros, and is reported;
- text of more levels becomes each level's mean target (:mod:`~mlpfit.data.sources.target_codes`:
  ``zip[target]``, or ``state[p(yes)]`` per class), rare levels pooled; an unseen level gets the
  overall mean, and is reported;
- dates (text in one format, or parsed datetimes) become days since the first training date plus
  year, month and weekday where they vary (:mod:`~mlpfit.data.sources.dates`: ``sold[days]``...);
- a missing value becomes the training median (numbers) or most frequent level (text), and a
  column that had holes in training gets one more input, ``NAME[missing]``, that is 1 where the
  value was missing, so the network can tell a filled value from a real one.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from mlpfit.data.sources.cells import numeric
from mlpfit.data.sources.columns import listed, suggest
from mlpfit.data.sources.csvfile import Sheet
from mlpfit.data.sources.coding_checks import coding_problem
from mlpfit.data.sources.dates import date_format, date_parts, parse, varying_parts
from mlpfit.data.sources.messages import data_error, quote
from mlpfit.data.sources.raw_rows import binned, level_text, squashed
from mlpfit.data.sources.target_codes import fit_codes
from mlpfit.errors import RunFolderError

# One-hot up to this many levels: scikit-learn's TableVectorizer draws the same line (40); beyond it a
# column costs one input per level, each learnt from few rows, and target encoding does better.
ONE_HOT_LEVELS = 40
# A regression table's number columns of more than BIN_FROM_VALUES values get up to BINS piecewise-linear
# inputs beside their squashed value (raw_rows.binned), cut at the training quantiles: a unit can give each
# range of a column its own slope (a concrete's early days). benchmarks/README.md has the measurements: mean
# R² of the three regressions 0.820 without, 0.828 / 0.834 / 0.840 / 0.844 / 0.844 with 4 / 8 / 16 / 32 / 64
# bins (64: ames' fit twice as slow). Classes lost by them (mlc_churn -0.006, credit_data -0.005 with 8).
BINS = 32
BIN_FROM_VALUES = 10  # fewer values (counts, ratings) are steps already
# ... and at most this many bin inputs in all, shared among the columns: ames' 23 binned columns get 22 each
# (32 each took its fit from 6.0 s to 7.4 s for R² 0.907 against 0.904)
BIN_INPUTS = 512
# ... and at least this many of the table's rows in each bin: a small noisy table's bins learn noise. Against 50 a
# bin, 25 gave concrete (824 rows: 32 bins a column instead of 16) R² +0.006 over three seed sets (five splits
# each) and diabetes (442 rows: 17 bins instead of 8) -0.010 ± 0.009 over thirty seeds
BIN_ROWS = 25
# A scientist's measurements (E from m and v; n·k·T/V) have a few numeric columns and a smooth law behind them,
# which the formula net (smooth tanh units on raw inputs) fits and the symbolic readout reads back best.
MEASURED_COLUMNS = 4
FORMAT, VERSION = "mlpfit-encoding", 4  # 2: target-encoded and date columns; 3: squashed numbers; 4: bins
FEATURE_FIX = "inputs must be numbers, dates or text categories: correct the cell, or leave the column out with --drop"
PREDICT_FIX = "this input was a column of numbers in training: correct the cell"
MISSING = "missing"  # the indicator input of column c is c[missing]


@dataclass
class ColumnCoding:
    """What one input column of the table is, and how it becomes network inputs."""

    name: str
    kind: str  # "number", "category" (one-hot), "target" (target-encoded text) or "date"
    fill: float | str | None = None  # a missing value becomes this (None: missing values are refused); dates: ISO
    indicator: bool = False  # the column had holes in training: one more input marks them
    missing: int = 0  # holes filled in the training table
    levels: list[str] = field(default_factory=list)  # categories, one input each, in this order
    low: float | None = None  # numbers: the training range (the domain, for a formula); dates: of days
    high: float | None = None
    codes: dict[str, list[float]] = field(default_factory=dict)  # target: each level's code, one per part
    default: list[float] = field(default_factory=list)  # target: the code of a level unseen in training
    parts: list[str] = field(default_factory=list)  # target and date: what each input of the column holds
    origin: str | None = None  # date: day 0 (ISO), the first training date
    format: str | None = None  # date: the strftime format of its text (None: parsed datetimes or ISO text)
    center: float | None = None  # numbers: the median the input is squashed around (None: the raw value is the input)
    spread: float | None = None  # numbers: the interquartile range (the half range if that is 0) it is divided by
    edges: list[float] = field(default_factory=list)  # numbers: bin edges of its piecewise-linear inputs (raw_rows.binned)

    def names(self) -> list[str]:
        if self.kind == "number":
            own = [self.name, *(f"{self.name}[bin {t + 1}]" for t in range(max(0, len(self.edges) - 1)))]
        elif self.kind == "category":
            own = [f"{self.name}[{level}]" for level in self.levels]
        else:
            own = [f"{self.name}[{part}]" for part in self.parts]
        if self.indicator:
            marker = MISSING if MISSING not in self.levels else f"{MISSING} value"
            own.append(f"{self.name}[{marker}]")
        return own


@dataclass
class Checked:
    """New rows as network inputs, with what was unusual about each row."""

    X: np.ndarray  # [n, encoded inputs] float64
    extrapolation: list[list[dict]]  # per row: {input, value, low, high, by} for each number outside its range
    unseen: list[list[dict]]  # per row: {column, value} for each text level not seen in training
    imputed: list[list[str]]  # per row: the columns whose missing value was filled


@dataclass
class TableEncoding:
    columns: list[ColumnCoding]
    impute: bool = True  # False: a missing value is refused (``--no-impute``, and formulas)
    other: list[str] = field(default_factory=list)  # the table's other columns (targets, left out): ignored
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why it was left out
    marks: dict = field(default_factory=dict)  # the training file's decimal mark and thousands separator

    @property
    def inputs(self) -> list[str]:
        """The table columns a prediction needs, in order."""
        return [column.name for column in self.columns]

    @property
    def names(self) -> list[str]:
        """The network's inputs, in order."""
        return [name for column in self.columns for name in column.names()]

    @property
    def has_text(self) -> bool:
        return any(column.kind in ("category", "target") for column in self.columns)

    @property
    def tabular(self) -> bool:
        """A table as people keep them (text or date columns, or more than MEASURED_COLUMNS numbers), not a few
        measured quantities of a smooth law: it gets squashed numbers and the table recipe (config.defaults)."""
        return len(self.columns) > MEASURED_COLUMNS or any(c.kind != "number" for c in self.columns)

    @property
    def has_ranges(self) -> bool:
        return any(column.low is not None for column in self.columns)

    # ----------------------------------------------------------------------------- learning

    @classmethod
    def fit(cls, sheet: Sheet, names: list[str], impute: bool = True, other=(), dropped=None,
            target: "Target | None" = None, squash: bool = True) -> "TableEncoding":
        return cls.fit_transform(sheet, names, impute, other, dropped, target, squash)[0]

    @classmethod
    def fit_transform(cls, sheet: Sheet, names: list[str], impute: bool = True, other=(), dropped=None,
                      target: "Target | None" = None, squash: bool = True) -> tuple["TableEncoding", np.ndarray]:
        """The encoding learnt from ``sheet`` and its training inputs [n, names]; ``target`` (the rows'
        targets) lets text of many levels be target-encoded, cross-fitted on these rows. Numbers are squashed
        in a :attr:`tabular` table unless ``squash`` is False (``--no-scale``)."""
        crossfit = {}
        columns = [_fit_column(sheet, name, impute, target, crossfit) for name in names]
        marks = {"decimal": sheet.dialect.decimal, "thousands": sheet.dialect.thousands}
        encoding = cls(columns, impute, list(other), dict(dropped or {}), marks)
        if not (squash and encoding.tabular):
            for column in columns:
                column.center = column.spread = None
        elif target is not None and target.task == "regress":
            _bin_numbers(sheet, columns)
        _check_unique(encoding.names, sheet.path)
        X = encoding.transform(sheet).X
        start = 0
        for column in encoding.columns:  # training rows take the cross-fitted codes, not the full-data ones
            if column.name in crossfit:
                codes = crossfit[column.name]
                X[:, start:start + codes.shape[1]] = codes
            start += len(column.names())
        return encoding, X

    @classmethod
    def plain(cls, names: list[str], box: dict | None = None) -> "TableEncoding":
        """Numbers only, no filling: a formula's variables (``box``: its domain) or an image's pixels."""
        box = box or {}
        return cls([ColumnCoding(name, "number", low=_bound(box, name, 0), high=_bound(box, name, 1))
                    for name in names], impute=False)

    # ----------------------------------------------------------------------------- applying

    def transform(self, sheet: Sheet) -> Checked:
        """The columns ``inputs`` of ``sheet`` (matched by name; others ignored) as network inputs."""
        self.require_columns(sheet)
        n = len(sheet.frame)
        flags = Checked(np.empty((n, 0)), [[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)])
        parts = [self._column(sheet, column, flags) for column in self.columns]
        flags.X = np.column_stack(parts) if parts else np.empty((n, 0))
        return flags

    def require_columns(self, sheet: Sheet) -> None:
        absent = [name for name in self.inputs if name not in sheet.header]
        if absent:
            where = "the header" if sheet.path is not None else "the table's columns"
            raise data_error(sheet.path, f"the model needs input column(s) {listed(absent)} that are not in {where}",
                             f"add them; {suggest(absent[0], sheet.header)}")

    def refuse_unknown(self, sheet: Sheet) -> None:
        """For Python callers: a column the model never saw is more likely a mistake than an extra."""
        known = set(self.inputs) | set(self.other) | set(self.dropped)
        unknown = [name for name in sheet.header if name not in known]
        if unknown:
            raise data_error(None, f"column(s) {listed(unknown)} are not inputs of this model "
                                   f"(its inputs are {listed(self.inputs)})",
                             "rename or leave out those columns; they are matched by name, in any order")

    def outside(self, X: np.ndarray) -> list[list[dict]]:
        """Per row of raw numbers ``X`` [n, inputs]: each value outside its column's training range."""
        flags = [[] for _ in range(len(X))]
        for k, column in enumerate(self.columns):
            _flag_outside(column, X[:, k], np.isnan(X[:, k]), flags)
        return flags

    def _column(self, sheet: Sheet, column: ColumnCoding, flags: Checked) -> np.ndarray:
        frame_column = sheet.frame[column.name]
        holes = frame_column.isna().to_numpy()
        if holes.any() and (not self.impute or column.fill is None):
            sheet.require_values(column.name)  # raises, naming the first hole
        for row in np.flatnonzero(holes):
            flags.imputed[row].append(column.name)
        if column.kind == "number":
            values = sheet.numbers(column.name, PREDICT_FIX, allow_missing=True)
            values = np.where(holes, column.fill if column.fill is not None else 0.0, values)
            _flag_outside(column, values, holes, flags.extrapolation)
            own = np.column_stack([squashed(values, column.center, column.spread), binned(values, column.edges)])
        elif column.kind == "date":
            own = _dates(sheet, column, holes, flags)
        elif column.kind == "target":
            own = _target_codes(column, frame_column, holes, flags)
        else:
            own = _one_hot(column, frame_column, holes, flags)
        if column.indicator:
            own = np.column_stack([own, holes.astype(np.float64)])
        return own

    # ----------------------------------------------------------------------------- as data

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "impute": self.impute, "other": self.other,
                "dropped": self.dropped, "marks": self.marks, "columns": [asdict(column) for column in self.columns]}

    @classmethod
    def from_dict(cls, data: dict, path: str | os.PathLike = "encoding.json") -> "TableEncoding":
        version = data.get("version", 0) if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(version, int) or version > VERSION:
            raise RunFolderError(f"{os.fspath(path)} is not an mlpfit encoding this version reads: re-run the fit")
        try:
            columns = [ColumnCoding(**column) for column in data["columns"]]
            encoding = cls(columns, bool(data["impute"]), list(data.get("other", [])), dict(data.get("dropped", {})),
                           dict(data.get("marks", {})))
        except (KeyError, TypeError, ValueError) as err:
            raise RunFolderError(f"{os.fspath(path)} has unexpected content ({quote(str(err))}): re-run the fit") from None
        for column in columns:
            problem = coding_problem(column)
            if problem:
                raise RunFolderError(f"{os.fspath(path)}: column {quote(column.name)} {problem}: re-run the fit")
        return encoding

    def summary(self) -> dict:
        """For the fit's --json: what was encoded, filled and left out."""
        return {"columns": self.inputs,
                "one_hot": {c.name: len(c.levels) for c in self.columns if c.kind == "category"},
                "target_encoded": {c.name: len(c.codes) for c in self.columns if c.kind == "target"},
                "dates": {c.name: c.parts for c in self.columns if c.kind == "date"},
                "binned": {c.name: len(c.edges) - 1 for c in self.columns if len(c.edges) > 1},
                "imputed": {c.name: c.missing for c in self.columns if c.missing},
                "dropped": self.dropped}

    def notes(self) -> list[str]:
        """The same in words, for the report."""
        notes = []
        text = [c for c in self.columns if c.kind == "category"]
        if text:
            listed = ", ".join(f"{c.name} ({len(c.levels)} levels)" for c in text)
            notes.append(f"text column(s) one-hot encoded, one input per level: {listed}")
        coded = [c for c in self.columns if c.kind == "target"]
        if coded:
            listed = ", ".join(f"{c.name} ({len(c.codes)} levels)" for c in coded)
            notes.append(f"text column(s) of more than {ONE_HOT_LEVELS} levels target-encoded (each level's mean "
                         f"target, rare levels pooled, cross-fitted): {listed}")
        squashed_columns = [c for c in self.columns if c.center is not None]
        if squashed_columns:
            notes.append(f"{len(squashed_columns)} number column(s) squashed around their medians into ±3 (robust "
                         "scaling, smooth clipping), so outliers and skewed columns reach the network bounded")
        binned_columns = [c for c in self.columns if len(c.edges) > 1]
        if binned_columns:
            listed = ", ".join(c.name for c in binned_columns)
            notes.append(f"number column(s) also cut into bins at their training quantiles, one piecewise-linear "
                         f"input each, so each range of a column gets its own slope: {listed}")
        dated = [c for c in self.columns if c.kind == "date"]
        if dated:
            listed = ", ".join(f"{c.name} ({', '.join(c.parts)}; day 0 = {c.origin})" for c in dated)
            notes.append(f"date column(s) read as numbers: {listed}")
        filled = [c for c in self.columns if c.missing]
        if filled:
            listed = ", ".join(f"{c.name}: {c.missing} → {_shown(c.fill)}" for c in filled)
            total = sum(c.missing for c in filled)
            notes.append(f"{total} missing value(s) filled ({listed}); an input NAME[missing] marks them")
        if self.dropped:
            notes.append("left out of the inputs: " + "; ".join(f"{name} ({why})" for name, why in self.dropped.items()))
        return notes


# ----------------------------------------------------------------------------- fitting one column


@dataclass
class Target:
    """The training rows' targets, for target encoding: float [n, targets] to regress, labels to classify."""

    Y: np.ndarray
    task: str
    names: list[str]
    classes: list | None = None


def _fit_column(sheet: Sheet, name: str, impute: bool, target: Target | None, crossfit: dict) -> ColumnCoding:
    column = sheet.frame[name]
    holes = int(column.isna().sum())
    if holes == len(column):
        raise data_error(sheet.path, f"column {quote(name)} has no values at all", f"leave it out with --drop {name}")
    if holes and not impute:
        sheet.require_values(name)  # --no-impute: today's refusal, naming the first hole
    fmt = date_format(column)
    if fmt is not False:
        return _fit_date(name, column, fmt, holes)
    if is_text(column):
        return _fit_category(sheet, name, column, holes, target, crossfit)
    values = sheet.numbers(name, FEATURE_FIX, allow_missing=True)
    present = values[~np.isnan(values)]
    center, spread = robust_scale(present)
    return ColumnCoding(name, "number", fill=float(np.median(present)), indicator=holes > 0, missing=holes,
                        low=float(present.min()), high=float(present.max()), center=center, spread=spread)


def _bin_numbers(sheet: Sheet, columns: list[ColumnCoding]) -> None:
    """Piecewise-linear inputs (raw_rows.binned) for a regression table's squashed numbers of many values."""
    binnable = {}  # column -> its values in the training rows
    for column in columns:
        if column.kind == "number" and column.center is not None:
            values = sheet.numbers(column.name, FEATURE_FIX, allow_missing=True)
            values = values[~np.isnan(values)]
            if len(np.unique(values)) > BIN_FROM_VALUES:
                binnable[column.name] = values
    shared = min(BINS, BIN_INPUTS // max(1, len(binnable)))
    for column in columns:
        values = binnable.get(column.name)
        bins = 0 if values is None else min(shared, len(values) // BIN_ROWS)
        if bins > 1:
            column.edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1))).tolist()


def robust_scale(present: np.ndarray) -> tuple[float | None, float | None]:
    """(median, interquartile range) to squash a number column by; (None, None) for a column of at most two
    values (a 0/1 flag is an input as it is). A column whose middle half is one value (mostly zeros) is
    divided by half its range instead."""
    if len(np.unique(present)) <= 2:
        return None, None
    q1, center, q3 = np.quantile(present, [0.25, 0.5, 0.75])
    spread = q3 - q1 if q3 > q1 else (present.max() - present.min()) / 2
    return float(center), float(spread)


def needs_encoding(X) -> bool:
    """A DataFrame with a text or date column or a missing value: the estimators encode it as a CSV table."""
    if not isinstance(X, pd.DataFrame):
        return False
    return bool(X.isna().to_numpy().any()) or any(is_text(X[name]) or ptypes.is_datetime64_any_dtype(X[name])
                                                  for name in X.columns)


def is_text(column: pd.Series) -> bool:
    """A column is text when fewer than half its values read as numbers.

    A column of numbers with a stray word ('five') is a typo to fix, not a category: it is refused
    by the number reader with the cell's line. Booleans are numbers (1/0).
    """
    if ptypes.is_bool_dtype(column) or ptypes.is_numeric_dtype(column):
        return False
    present = column.dropna()
    if present.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return False
    numbers = numeric(present)  # (a 400-digit integer is a number, too large: inf, refused later)
    return numbers.notna().mean() < 0.5


def _fit_category(sheet: Sheet, name: str, column: pd.Series, holes: int, target: Target | None,
                  crossfit: dict) -> ColumnCoding:
    cells, hole_at = level_texts(column), column.isna().to_numpy()
    counts = Counter(text for text, hole in zip(cells, hole_at) if not hole)
    levels = sorted(counts)
    most = max(levels, key=lambda level: counts[level])  # ties: the first in sorted order
    if len(counts) <= ONE_HOT_LEVELS:
        return ColumnCoding(name, "category", fill=most, indicator=holes > 0, missing=holes, levels=levels)
    if target is None:
        raise data_error(sheet.path, f"column {quote(name)} holds {len(counts)} different texts, more than "
                                     f"{ONE_HOT_LEVELS} to one-hot, and there is no target to encode them by",
                         f"leave it out with --drop {name}, or turn it into numbers")
    every = [most if hole else text for text, hole in zip(cells, hole_at)]
    codes, default, parts, train = fit_codes(every, target.Y, target.task, target.names, target.classes)
    crossfit[name] = train
    return ColumnCoding(name, "target", fill=most, indicator=holes > 0, missing=holes, codes=codes,
                        default=default, parts=parts)


def _fit_date(name: str, column: pd.Series, fmt: str | None, holes: int) -> ColumnCoding:
    stamps = parse(column, fmt)
    present = stamps.dropna()
    origin = present.min().normalize().date()  # a date: day 0 at its midnight
    parts = varying_parts(stamps)
    days = date_parts(present, origin.isoformat(), ["days"])[:, 0]
    fill = present.sort_values().iloc[len(present) // 2].isoformat()  # the median date, as a date
    return ColumnCoding(name, "date", fill=fill, indicator=holes > 0, missing=holes, parts=parts,
                        origin=origin.isoformat(), format=fmt, low=float(days.min()), high=float(days.max()))


def _check_unique(names: list[str], path) -> None:
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise data_error(path, f"two inputs would both be called {quote(repeated[0])} after encoding",
                         "rename one of the columns")


def _bound(box: dict, name: str, side: int) -> float | None:
    return float(box[name][side]) if name in box else None


def _shown(fill) -> str:
    return f"{fill:.4g}" if isinstance(fill, float) else quote(fill)


# ----------------------------------------------------------------------------- applying one column


def level_texts(values: pd.Series) -> list:
    """raw_rows.level_text of every cell, read once per distinct value where every cell is text (ames' forty
    text columns made 180,000 calls for a few hundred levels); a hole's entry is not a level (callers fill it).
    Other columns go cell by cell: 1, 1.0 and True are one value to a hash table but '1' and 'True' as levels."""
    if ptypes.infer_dtype(values, skipna=True) != "string":
        return [level_text(value) for value in values.tolist()]
    codes, distinct = pd.factorize(values)
    texts = np.array([level_text(value) for value in distinct] + [None], dtype=object)
    return texts[codes].tolist()  # code -1, a hole: the last entry


def _one_hot(column: ColumnCoding, values: pd.Series, holes: np.ndarray, flags: Checked) -> np.ndarray:
    texts = [column.fill if hole else text for text, hole in zip(level_texts(values), holes)]
    position = {level: k for k, level in enumerate(column.levels)}
    out = np.zeros((len(texts), len(column.levels)))
    for row, text in enumerate(texts):
        k = position.get(text)
        if k is None:
            flags.unseen[row].append({"column": column.name, "value": text})
        else:
            out[row, k] = 1.0
    return out


def _target_codes(column: ColumnCoding, values: pd.Series, holes: np.ndarray, flags: Checked) -> np.ndarray:
    out = np.empty((len(values), len(column.default)))
    for row, (text, hole) in enumerate(zip(level_texts(values), holes)):
        text = column.fill if hole else text
        code = column.codes.get(text)
        if code is None:
            flags.unseen[row].append({"column": column.name, "value": text})
            code = column.default
        out[row] = code
    return out


def _dates(sheet: Sheet, column: ColumnCoding, holes: np.ndarray, flags: Checked) -> np.ndarray:
    values = sheet.frame[column.name]
    stamps = parse(values, column.format)
    bad = stamps.isna().to_numpy() & ~holes
    example = pd.Timestamp(column.origin).strftime(column.format) if column.format else column.origin
    sheet.refuse_first(bad, column.name, "is not a date", f"write dates as in training, e.g. {example}")
    stamps = stamps.where(~holes, pd.Timestamp(column.fill))
    out = date_parts(stamps, column.origin, column.parts)
    _flag_outside(column, out[:, 0], holes, flags.extrapolation)
    return out


def _flag_outside(column: ColumnCoding, values: np.ndarray, holes: np.ndarray, flags: list[list[dict]]) -> None:
    if column.low is None or column.high is None:
        return
    outside = ((values < column.low) | (values > column.high)) & ~holes
    for row in np.flatnonzero(outside):
        value = float(values[row])
        by = column.low - value if value < column.low else value - column.high
        flags[row].append({"input": column.name, "value": value, "low": column.low,
                                         "high": column.high, "by": by})
