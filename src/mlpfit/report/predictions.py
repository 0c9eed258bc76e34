"""Predictions as a user reads them: a text table with the outputs' names, or a CSV file beside the inputs.

Text: a single value (or label) for one point with one output, as ``mlpfit predict RUN 2 3`` has
always printed; otherwise a header of output names over one line per row. An ensemble's spread
stands beside its mean (``5.01 ± 0.02``). CSV: the input columns as written, then ``predicted_NAME``
per output, ``std_NAME`` for an ensemble, ``proba_CLASS`` per class, and ``extrapolation``
(which inputs were outside the training range) when the run knows its range.
"""

from __future__ import annotations

import os

import pandas as pd

from mlpfit.errors import UsageError
from mlpfit import atomic


def as_text(out: dict, outputs: list[str], header: bool) -> str:
    """The predictions in ``out`` (from predicting.predict_rows) as lines of text.

    ``header``: print the output names over the rows; without it, one row prints as its bare first
    cell (callers ask for a header when there are several rows or several outputs).
    """
    rows = _cells(out, outputs)
    names = _names(out, outputs)
    if not header and len(rows) == 1:  # one point, one output: the bare value (or label), as always
        return rows[0][0]
    widths = [max(len(name), *(len(row[k]) for row in rows)) for k, name in enumerate(names)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(names, widths)).rstrip()]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _names(out: dict, outputs: list[str]) -> list[str]:
    return [outputs[0], "probability"] if "classes" in out else list(outputs)


def _cells(out: dict, outputs: list[str]) -> list[list[str]]:
    std = out.get("std")
    if "classes" in out:
        rows = []
        for i, (label, proba) in enumerate(zip(out["labels"], out["probabilities"])):
            k = out["classes"].index(label)
            spread = f" ± {std[i][k]:.2g}" if std else ""
            rows.append([str(label), f"{proba[k]:.3f}{spread}"])
        return rows
    return [[f"{v:.6g}" + (f" ± {std[i][k]:.2g}" if std else "") for k, v in enumerate(row)]
            for i, row in enumerate(out["predictions"])]


def as_frame(inputs: pd.DataFrame, out: dict, outputs: list[str]) -> pd.DataFrame:
    """The input cells, then the prediction columns; a name clash with an input column is refused."""
    columns = {}
    if "classes" in out:
        columns[f"predicted_{outputs[0]}"] = out["labels"]
        for k, label in enumerate(out["classes"]):
            columns[f"proba_{label}"] = [p[k] for p in out["probabilities"]]
            if "std" in out:
                columns[f"std_proba_{label}"] = [s[k] for s in out["std"]]
    else:
        for k, name in enumerate(outputs):
            columns[f"predicted_{name}"] = [row[k] for row in out["predictions"]]
            if "std" in out:
                columns[f"std_{name}"] = [s[k] for s in out["std"]]
    if "extrapolation" in out:
        columns["extrapolation"] = [" ".join(f"{f['input']}={f['value']:.6g}" for f in flags)
                                    for flags in out["extrapolation"]]
    clash = [name for name in columns if name in inputs.columns]
    if clash:
        raise UsageError(f"the input already has a column {clash[0]!r}, which --output writes: rename it in the input")
    return pd.concat([inputs.reset_index(drop=True), pd.DataFrame(columns)], axis=1)


def check_output_path(path: str, force: bool) -> None:
    """Before any work: refuse a folder, a missing folder, or an existing file without --force."""
    if os.path.isdir(path):
        raise UsageError(f"--output {path!r} is a folder: name a .csv file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--output {path!r}: the folder {folder!r} does not exist; create it first")
    if os.path.exists(path) and not force:
        raise UsageError(f"--output {path!r} already exists: choose another file, or add --force to replace it")


def write_csv(path: str, frame: pd.DataFrame) -> None:
    """Atomically: a crash leaves the old file (or none), never half a table."""
    atomic.write_text(path, frame.to_csv(index=False))
