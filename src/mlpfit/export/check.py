"""Does an export compute what ``mlpfit predict`` computes? One comparison for both formats.

Each exporter runs its file on fresh points and hands the results here under the ONNX output
names (``Y``, ``Y_std``, ``probabilities``, ``probabilities_std``, ``label_index``); they are
compared with the fitted model's own predictions, the ones ``mlpfit predict`` prints.
"""

from __future__ import annotations

import datetime

import numpy as np

from mlpfit.errors import MlpfitError
from mlpfit.export.network import Exported

# Agreement asked of every export, relative to each column's scale (max(1, largest |value|)):
# the exports repeat mlpfit's arithmetic step by step, so only float rounding differs (~1e-7).
TOLERANCE = 1e-5


class ExportMismatch(MlpfitError):
    """An export computed something else than mlpfit: a bug in mlpfit, not the user's to fix."""

    exit_code = 1


def reference(fitted, net: Exported, X: np.ndarray) -> dict[str, np.ndarray]:
    """mlpfit's own predictions at ``X``, under the names the exports use."""
    if net.task == "classify":
        proba = fitted.predict_proba(X)
        out = {"probabilities": proba, "label_index": proba.argmax(axis=1)}
        if net.members:
            out["probabilities_std"] = fitted.predict_std(X)
        return out
    out = {"Y": fitted.predict(X)}
    if net.members:
        out["Y_std"] = fitted.predict_std(X)
    return out


def largest_error(expected: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> float:
    """The largest scaled difference over every value (labels count 0 or infinity)."""
    worst = 0.0
    for name, want in expected.items():
        have = np.asarray(got[name])
        if have.shape != want.shape:
            return float("inf")
        if name == "label_index":
            if np.any(have[clear_winner(expected["probabilities"])] != want[clear_winner(expected["probabilities"])]):
                return float("inf")
            continue
        scale = np.maximum(1.0, np.abs(want).max(axis=0, initial=0.0))
        worst = max(worst, float(np.nan_to_num(np.abs(have - want) / scale, nan=np.inf).max(initial=0.0)))
    return worst


def clear_winner(proba: np.ndarray, margin: float = 1e-6) -> np.ndarray:
    """Rows whose top class leads the next by more than rounding could change (argmax is then certain)."""
    top2 = np.sort(proba, axis=1)[:, -2:] if proba.shape[1] > 1 else np.zeros((len(proba), 2))
    return (top2[:, 1] - top2[:, 0]) > margin


def require_agreement(what: str, expected: dict, got: dict) -> float:
    """The largest error, or ExportMismatch naming the file when it is over :data:`TOLERANCE`."""
    error = largest_error(expected, got)
    if not error <= TOLERANCE:
        raise ExportMismatch(f"{what} differs from mlpfit's own prediction by {error:.3g} (allowed {TOLERANCE:g}) "
                             "on fresh points, so it was not kept: this is a bug in mlpfit export, please report it")
    return error


def check_rows(encoding: dict, n: int = 256, seed: int = 0) -> list[dict]:
    """Raw rows for checking an export: values across each column's training range, levels, a text never
    seen in training, and holes where the model fills them."""
    rng = np.random.default_rng(seed)
    rows = [{} for _ in range(n)]
    for column in encoding["columns"]:
        kind, name = column["kind"], column["name"]
        for row in rows:
            if column["fill"] is not None and rng.random() < 0.1:
                row[name] = None
            elif kind == "number":
                low, high = column["low"] if column["low"] is not None else 0.0, column["high"] or 1.0
                row[name] = float(rng.uniform(low, high))
            elif kind == "date":
                day = datetime.datetime.fromisoformat(column["origin"]) + datetime.timedelta(
                    days=int(rng.integers(0, int(column["high"]) + 2)))
                row[name] = day.strftime(column["format"]) if column["format"] else day.isoformat()
            else:
                levels = column["levels"] if kind == "category" else list(column["codes"])
                row[name] = "never seen in training" if rng.random() < 0.05 else levels[rng.integers(len(levels))]
    return rows
