"""Predictions for the CLI and API: raw rows in, rows in original units (or labels) out, with what to doubt.

Rows come as a CSV file, values typed on the command line, or a DataFrame; every way goes through
the run's :class:`~mlpfit.data.sources.encoding.TableEncoding` (a table's own, or a plain one for a
formula's variables and an image's pixels), so columns are matched by name, text is one-hot encoded
and holes are filled exactly as in training, and a row outside the training range is flagged.
"""

from __future__ import annotations

import warnings

import pandas as pd

from mlpfit.data.sources.csvfile import Sheet
from mlpfit.data.sources.encoding import Checked, TableEncoding
from mlpfit.data.sources.messages import quote
from mlpfit.errors import MlpfitWarning, UsageError

MISSING_TYPED = ("", "NA")  # a value typed as this on the command line is a missing value
SHOWN_ROWS = 3  # warnings name this many rows, then count the rest


def input_encoding(fitted, summary: dict) -> TableEncoding:
    """The table's encoding, or a plain one: a formula's variables within its domain, or pixels."""
    if fitted.encoding is not None:
        return fitted.encoding
    return TableEncoding.plain(list(fitted.inputs), summary.get("domain"))


def rows_from_csv(path: str, encoding: TableEncoding, sep=None, decimal=None, thousands=None) -> tuple[Sheet, Checked]:
    """Every row of a CSV file (header = column names, matched by name; other columns are ignored);
    the marks not given are detected from the file."""
    sheet = Sheet.load(path, sep, decimal, thousands)
    return sheet, encoding.transform(sheet)


def rows_from_values(values, encoding: TableEncoding, example: str) -> tuple[Sheet, Checked]:
    """One row typed on the command line, in input order or by name (``x=3 y=4``, any order); ``example``
    is a correct call, for the error."""
    values = in_input_order(values, encoding.inputs)
    if len(values) != len(encoding.inputs):
        names = ", ".join(encoding.inputs[:8]) + (", …" if len(encoding.inputs) > 8 else "")
        raise UsageError(f"the model takes {len(encoding.inputs)} input(s) ({names}), got {len(values)} value(s): "
                         f"e.g. {example}")
    row = [None if value.strip() in MISSING_TYPED else value for value in values]
    sheet = Sheet.from_frame(pd.DataFrame([row], columns=encoding.inputs, dtype=object))
    return sheet, encoding.transform(sheet)


def named_value(value: str, inputs) -> tuple[str, str] | None:
    """``NAME=VALUE`` with NAME one of the inputs -> (NAME, VALUE); anything else None (a plain value)."""
    name, sep, rest = value.partition("=")
    return (name.strip(), rest) if sep and name.strip() in inputs else None


def in_input_order(values: list[str], inputs: list[str]) -> list[str]:
    """Values typed by name (``y=4 x=3``) put in input order; values typed in order are returned as they are."""
    named = [named_value(v, inputs) for v in values]
    if not any(named):
        return list(values)
    plain = [v for v, n in zip(values, named) if n is None]
    if plain:
        raise UsageError(f"give every value by name or none: {quote(plain[0])} has no input name (NAME=VALUE with "
                         f"NAME one of {', '.join(inputs[:8])}{', …' if len(inputs) > 8 else ''})")
    by_name: dict[str, str] = {}
    for name, value in named:
        if name in by_name:
            raise UsageError(f"input {quote(name)} is given twice: give each input once")
        by_name[name] = value
    missing = [name for name in inputs if name not in by_name]
    if missing:
        raise UsageError(f"no value for input(s) {', '.join(map(quote, missing[:8]))}: add e.g. {missing[0]}=1")
    return [by_name[name] for name in inputs]


def rows_from_frame(frame, encoding: TableEncoding) -> Checked:
    """A DataFrame (or a mapping of columns): matched by name, in any order; an unknown column is refused."""
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    sheet = Sheet.from_frame(frame)
    encoding.require_columns(sheet)
    encoding.refuse_unknown(sheet)
    return encoding.transform(sheet)


def predict_rows(fitted, checked: Checked, encoding: TableEncoding) -> dict:
    """``{"predictions": [[...], ...]}``; classification adds classes, labels and probabilities, an
    ensemble its spread (``std``), and rows are flagged: ``extrapolation`` (per row, each input outside
    its training range), ``unseen`` (text levels not seen in training), ``imputed`` (filled columns)."""
    X = checked.X
    if fitted.task == "classify":
        proba = fitted.predict_proba(X)
        labels = [fitted.classes[i] for i in proba.argmax(axis=1)]
        out = {"predictions": [[label] for label in labels], "labels": labels,
               "classes": fitted.classes, "probabilities": proba.round(6).tolist()}
    else:
        out = {"predictions": fitted.predict(X).tolist()}
    if fitted.members > 1:  # an ensemble: the members' spread per output (per class)
        std = fitted.predict_std(X)
        out["std"] = (std.round(6) if fitted.task == "classify" else std).tolist()
    if encoding.has_ranges:
        out["extrapolation"] = checked.extrapolation
    if encoding.has_text:
        out["unseen"] = checked.unseen
    if encoding.impute:
        out["imputed"] = checked.imputed
    return out


def warn_about(checked: Checked, where=None) -> None:
    """One warning per kind of doubt: rows outside the training range, unseen levels, filled holes.

    ``where(row)`` names a row ('line 5', 'data row 2'); None: there is a single point.
    """
    for message in warning_lines(checked, where):
        warnings.warn(message, MlpfitWarning, stacklevel=2)


def warning_lines(checked: Checked, where=None) -> list[str]:
    doubts = [
        (checked.extrapolation, "{is} outside the training range, where the model extrapolates and may be far off",
         lambda flags: ", ".join(_how_far(f) for f in flags)),
        (checked.unseen, "{has} text not seen in training, encoded as none of the known levels (a many-level "
                         "column: as the mean of all)",
         lambda flags: ", ".join(f"{f['column']} = {quote(f['value'])}" for f in flags)),
        (checked.imputed, "{has} missing values, filled as in training", ", ".join),
    ]
    lines = []
    for per_row, problem, details in doubts:
        rows = [(row, flags) for row, flags in enumerate(per_row) if flags]
        if not rows:
            continue
        if where is None:
            lines.append("the point " + problem.format(**{"is": "is", "has": "has"}) + ": " + details(rows[0][1]))
            continue
        subject = "1 row " if len(rows) == 1 else f"{len(rows)} rows "
        verbs = {"is": "is", "has": "has"} if len(rows) == 1 else {"is": "are", "has": "have"}
        shown = "; ".join(f"{where(row)}: {details(flags)}" for row, flags in rows[:SHOWN_ROWS])
        more = f"; {len(rows) - SHOWN_ROWS} more" if len(rows) > SHOWN_ROWS else ""
        lines.append(subject + problem.format(**verbs) + f": {shown}{more}")
    return lines


def _how_far(flag: dict) -> str:
    low, high, value, by = flag["low"], flag["high"], flag["value"], flag["by"]
    side = "below" if value < low else "above"
    width = high - low
    share = f", {by / width:.0%} of its width" if width > 0 else ""
    return f"{flag['input']} = {value:.6g} is {by:.4g} {side} [{low:.6g}, {high:.6g}]{share}"
