"""Where a run lives: the box its inputs were drawn from, and its true function when it has one.

Plots, sensitivities and the symbolic readout all need these two facts; they are here, without
matplotlib, so ``explain`` does not pay for importing it.
"""

from __future__ import annotations

import numpy as np

from mlpfit.data.sources.formula import parse_formula


def truth_function(summary: dict):
    """The formula's NumPy function when the run knows its truth, else None."""
    text = summary.get("formula")
    if not text:
        return None

    formula = parse_formula(text)
    if list(formula.inputs) != list(summary["inputs"]):
        return None  # a point set's formula over other names: nothing to compare against

    def evaluate(X):
        with np.errstate(all="ignore"):
            Y = np.asarray(formula.numpy(X), dtype=float).reshape(len(X), -1)
        return np.where(np.isfinite(Y), Y, np.nan)

    return evaluate


def training_box(summary: dict, X: np.ndarray) -> list[tuple[float, float]]:
    """The training box per input: the sampling domain, else the samples' range."""
    domain = summary.get("domain") or {}
    box = []
    for k, name in enumerate(summary["inputs"]):
        if name in domain:
            box.append((float(domain[name][0]), float(domain[name][1])))
        else:
            lo, hi = float(np.min(X[:, k])), float(np.max(X[:, k]))
            box.append((lo, hi) if hi > lo else (lo - 1, hi + 1))
    return box
