"""Candidate formulas measured and compared: complexity against error, the front, the simplest good one.

A candidate's error is its root-mean-square difference from a target, as a share of the target's
spread (0 = exact, 1 = no better than the mean). A candidate is on the Pareto front when no other
one is both simpler and closer; the readout's answer is the simplest candidate the caller accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlpfit.report.expression import complexity, evaluator


@dataclass(frozen=True)
class Scored:
    expr: object  # sympy expression
    complexity: int  # report.expression.complexity
    error: float  # relative RMS error (see the module's docstring)


def relative_error(y: np.ndarray, prediction: np.ndarray) -> float:
    if prediction.shape != y.shape or not np.all(np.isfinite(prediction)):
        return float("inf")
    spread = float(np.std(y)) or 1.0
    return float(np.sqrt(np.mean((prediction - y) ** 2)) / spread)


def scored(exprs, names: list[str], X: np.ndarray, y: np.ndarray) -> list[Scored]:
    """Each distinct expression with its complexity and error on (X, y); ones that fail to evaluate are left out."""
    seen, result = set(), []
    for expr in exprs:
        key = str(expr)
        if key in seen:
            continue
        seen.add(key)
        try:
            error = relative_error(y, evaluator(expr, names)(X))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError, KeyError):
            continue
        if np.isfinite(error):
            result.append(Scored(expr, complexity(expr), error))
    return result


def front(items: list[Scored]) -> list[Scored]:
    """The candidates no other one beats on both complexity and error, simplest first."""
    best, result = float("inf"), []
    for item in sorted(items, key=lambda s: (s.complexity, s.error)):
        if item.error < best * (1 - 1e-9):
            result.append(item)
            best = item.error
    return result


def promising(items: list[Scored], keep: int, tolerance: float) -> list[Scored]:
    """A few front members worth building on: the simplest ones within reach of the best error (or
    of ``tolerance``), and the closest one."""
    members = front(items)
    if not members:
        return []
    good = max(3 * min(s.error for s in members), tolerance)
    near = [s for s in members if s.error <= good]
    chosen = near[:keep - 1] + [min(members, key=lambda s: s.error)]
    return list({str(s.expr): s for s in chosen}.values())
