"""Rational laws, P/Q with P and Q polynomials of low degree, by linear algebra.

y = P(x)/Q(x) is y·Q(x) - P(x) = 0, linear in the coefficients of both: their least-squares answer
is the null vector of [P's monomials, -y·Q's monomials] (each column scaled to unit length: the
eigenvector of their Gram matrix's smallest eigenvalue). A network's error leaves small spurious coefficients in it, so the
support is thinned as SINDy thins a sum (coefficients below a share of the largest dropped, the
null vector taken again on what is left) at a ladder of shares; each thinned fit comes back as it
is and with its coefficients taken to simple constants, for the caller to judge.
(m1*r1 + m2*r2)/(m1 + m2), a centre of mass, is one.
"""

# Deferred imports: sympy loads inside the functions that build formulas.

from __future__ import annotations

import itertools

import numpy as np

from mlpfit.report import constants, pareto
from mlpfit.report.expression import symbols

DEGREES = ((1, 1), (2, 1), (1, 2), (2, 2))  # (P's, Q's) degrees tried, fewest coefficients first
MAX_COLUMNS = 40  # monomials of P and Q together: 4 inputs at degrees (2, 2) are 30
ROWS = 500  # samples the fits see: enough for 30 coefficients
THINNED = (0.0, 0.05, 0.1, 0.2, 0.3)  # coefficients below these shares of the largest are dropped in turn


def search(X: np.ndarray, y: np.ndarray, names: list[str], tolerance: float) -> list:
    """P/Q formulas for y on X (columns named ``names``): for the lowest degrees whose fit is within
    ``tolerance`` (relative RMS error), every thinned fit within it, as fitted and with simple constants."""
    if np.std(y) == 0:
        return []
    rows = np.random.default_rng(0).permutation(len(X))[:ROWS]
    X, y = X[rows], y[rows]
    found = {}
    for degrees in DEGREES:
        powers = [monomials(X.shape[1], degree) for degree in degrees]
        if sum(len(p) for p in powers) > MAX_COLUMNS:
            continue
        fits = [fit for share in THINNED if (fit := thinned(X, y, powers, share)) is not None]
        good = [fit for fit in fits if fit[0] <= tolerance]
        for _, coef in good:
            split = len(powers[0])
            coef = coef / coef[split:][np.argmax(np.abs(coef[split:]))]  # Q's largest coefficient 1: P/Q as written
            exact = constants.snapped(coef)
            for each in [coef] + ([np.array(exact, dtype=object)] if exact is not None else []):
                expr = formula(each, powers, names)
                found[str(expr)] = expr
        if good:
            break
    return list(found.values())


def monomials(n: int, degree: int) -> list[tuple]:
    """Every product of up to ``degree`` of n columns, as tuples of column indices (() is the constant)."""
    return [()] + [p for d in range(1, degree + 1) for p in itertools.combinations_with_replacement(range(n), d)]


def columns(X: np.ndarray, powers: list[tuple]) -> np.ndarray:
    return np.column_stack([np.prod(X[:, list(p)], axis=1) if p else np.ones(len(X)) for p in powers])


def thinned(X: np.ndarray, y: np.ndarray, powers: list[list], share: float) -> tuple[float, np.ndarray] | None:
    """(relative error, coefficients of P then Q) of the null-vector fit, its coefficients below
    ``share`` of the largest dropped and the fit taken again until none is; None where it fails."""
    top, bottom = columns(X, powers[0]), columns(X, powers[1])
    A = np.hstack([top, -y[:, None] * bottom])
    norms = np.linalg.norm(A, axis=0)
    if not np.all(norms > 0):
        return None
    gram = (A / norms).T @ (A / norms)
    keep = np.ones(A.shape[1], bool)
    for _ in range(A.shape[1]):
        coef = null_vector(gram, norms, keep)
        if coef is None:
            return None
        small = keep & (np.abs(coef) < share * np.max(np.abs(coef)))
        if not small.any():
            break
        keep &= ~small
    split = len(powers[0])
    with np.errstate(all="ignore"):
        prediction = (top @ coef[:split]) / (bottom @ coef[split:])
    error = pareto.relative_error(y, prediction)
    return (error, coef) if np.isfinite(error) else None


def null_vector(gram: np.ndarray, norms: np.ndarray, keep: np.ndarray) -> np.ndarray | None:
    """The least-squares null vector of the kept columns (scaled to unit length: ``gram`` is their
    Gram matrix, ``norms`` their lengths), zero elsewhere."""
    if keep.sum() < 2:
        return None
    vector = np.linalg.eigh(gram[np.ix_(keep, keep)])[1][:, 0] / norms[keep]
    coef = np.zeros(len(keep))
    coef[keep] = vector
    return coef


def formula(coef: np.ndarray, powers: list[list], names: list[str]):
    """P/Q as sympy, from the coefficients of P's monomials then Q's."""
    import sympy

    syms = symbols(names)
    number = lambda v: v if isinstance(v, sympy.Basic) else sympy.Float(float(v))  # noqa: E731 - exact or fitted
    terms = lambda values, ps: sympy.Add(*[number(v) * sympy.Mul(*[syms[i] for i in p]) for v, p in zip(values, ps)])  # noqa: E731
    split = len(powers[0])
    return terms(coef[:split], powers[0]) / terms(coef[split:], powers[1])
