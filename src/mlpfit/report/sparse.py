"""Sparse regression: which few columns of a term library explain a target, refit by least squares.

Supports (sets of columns) are proposed by a beam search (every single column, every pair, then
the best few supports grown one column at a time) and by sequentially thresholded least squares
(SINDy's STLSQ: fit all, drop the small, refit, at a range of thresholds); the best of each size is
then improved by swapping one column at a time for any other. Each support is scored by the R² of
its least-squares fit, computed from the Gram matrix, so thousands of supports cost milliseconds.

A support whose terms cancel each other (their sizes add up to far more than the target's spread,
the mark of near-duplicate columns fitting noise) is no explanation and is passed over. The
shortest support within tolerance wins; a longer one must earn its extra columns by cutting the
unexplained variance tenfold, until R² 0.9999.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLERANCE = 0.99  # R² against the network a formula must reach to count as found
MAX_TERMS = 6  # library columns in a "short" formula
EARN = 10.0  # a longer formula replaces a shorter one only if its 1 - R² is this many times smaller ...
GOOD_ENOUGH = 0.9999  # ... and the shorter one is below this (or below what the caller says the target's
# own accuracy allows): beyond, extra terms only fit the network's own error
CLOSE = 1.1  # no formula within tolerance: the shortest whose 1 - R² is within 10% of the best one's
THRESHOLDS = np.geomspace(1e-3, 0.5, 14)  # STLSQ cut-offs, as a share of the target's spread
BEAM = 20  # supports of each size kept to grow into the next size
MAX_CANCEL = 30.0  # the terms' spreads may add up to at most this many times the target's spread


@dataclass(frozen=True)
class Fit:
    support: tuple[int, ...]  # library columns used
    coef: np.ndarray  # per column, in the columns' own units
    intercept: float
    r2: float


def r2_score(y: np.ndarray, prediction: np.ndarray) -> float:
    """1 - SSE/SST; -inf for a prediction that is not finite, 1.0 for a constant target matched."""
    if not np.all(np.isfinite(prediction)):
        return float("-inf")
    sst = float(np.sum((y - y.mean()) ** 2))
    sse = float(np.sum((y - prediction) ** 2))
    return 1.0 - sse / sst if sst > 0 else float(sse == 0)


def refit(A: np.ndarray, y: np.ndarray, support: tuple[int, ...]) -> Fit:
    """Least squares of y on the support's columns of A plus a constant."""
    cols = A[:, list(support)]
    mean = cols.mean(axis=0)
    coef, *_ = np.linalg.lstsq(cols - mean, y - y.mean(), rcond=None)
    intercept = float(y.mean() - mean @ coef)
    return Fit(support, coef, intercept, r2_score(y, cols @ coef + intercept))


def standardize(A: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns and target with mean 0 and spread 1, so one threshold fits every column."""
    Z = (A - A.mean(axis=0)) / A.std(axis=0)
    return Z, (y - y.mean()) / (y.std() or 1.0)


class Scorer:
    """Least squares on any support of standardized columns, from the Gram matrix alone."""

    def __init__(self, Z: np.ndarray, z: np.ndarray):
        n = len(Z)
        self.gram, self.rhs, self.total = Z.T @ Z / n, Z.T @ z / n, float(z @ z) / n
        self.columns = Z.shape[1]

    def coef(self, support: tuple[int, ...]) -> np.ndarray:
        s = list(support)
        return np.linalg.lstsq(self.gram[np.ix_(s, s)], self.rhs[s], rcond=None)[0]

    def r2(self, support: tuple[int, ...]) -> float:
        return float(self.rhs[list(support)] @ self.coef(support)) / self.total if self.total > 0 else 0.0

    def plain(self, support: tuple[int, ...]) -> bool:
        """The terms do not cancel each other (see MAX_CANCEL)."""
        return float(np.abs(self.coef(support)).sum()) <= MAX_CANCEL * max(self.total, 1e-300) ** 0.5

    def with_each(self, rest: tuple[int, ...]) -> np.ndarray:
        """R² of ``rest`` plus column j, for every j at once (what column j adds to rest's residual)."""
        diagonal = np.diag(self.gram)
        if rest:
            r = list(rest)
            solved = np.linalg.lstsq(self.gram[np.ix_(r, r)], np.column_stack([self.rhs[r], self.gram[r, :]]),
                                     rcond=None)[0]
            base = float(self.rhs[r] @ solved[:, 0])
            num = self.rhs - self.gram[:, r] @ solved[:, 0]
            den = diagonal - np.einsum("jk,kj->j", self.gram[:, r], solved[:, 1:])
        else:
            base, num, den = 0.0, self.rhs, diagonal
        with np.errstate(all="ignore"):
            gain = np.where(den > 1e-9 * diagonal, num**2 / den, 0.0)  # a column rest already spans adds nothing
        gain[list(rest)] = 0.0
        return (base + gain) / self.total if self.total > 0 else np.zeros(self.columns)


def beam_supports(scorer: Scorer) -> list[tuple[int, ...]]:
    """Every single column, every pair, then the best BEAM supports grown one column at a time."""
    beam, found = [()], []
    for size in range(1, min(MAX_TERMS, scorer.columns) + 1):
        grown = {}
        for rest in beam:
            r2 = scorer.with_each(rest)
            for j in np.argsort(r2)[::-1][: scorer.columns if size <= 2 else BEAM]:
                if j not in rest:
                    grown[tuple(sorted(rest + (int(j),)))] = r2[j]
        beam = sorted(grown, key=grown.get, reverse=True)[: scorer.columns if size == 1 else BEAM]
        found += beam
    return found


def stlsq_supports(scorer: Scorer, ridge: float = 1e-6) -> list[tuple[int, ...]]:
    """The supports STLSQ keeps at each threshold (standardized coefficients below it are dropped)."""
    solved = {}  # active set -> coefficients: every threshold starts from the same full fit

    def fit(active: tuple[int, ...]) -> np.ndarray:
        if active not in solved:
            a = list(active)
            solved[active] = np.linalg.solve(scorer.gram[np.ix_(a, a)] + ridge * np.eye(len(a)), scorer.rhs[a])
        return solved[active]

    supports = []
    for threshold in THRESHOLDS:
        active = tuple(range(scorer.columns))
        for _ in range(10):
            keep = np.abs(fit(active)) >= threshold
            if keep.all() or not keep.any():
                break
            active = tuple(i for i, k in zip(active, keep) if k)
        if len(active) <= MAX_TERMS:
            supports.append(active)
    return supports


def improve(support: tuple[int, ...], scorer: Scorer, rounds: int = 3) -> tuple[int, ...]:
    """Swap one column of the support for another while that raises R² and keeps the terms plain."""
    for _ in range(rounds):
        best, best_r2 = support, scorer.r2(support)
        for position in range(len(support)):
            rest = support[:position] + support[position + 1:]
            r2 = scorer.with_each(rest)
            for j in np.argsort(r2)[::-1][:5]:
                trial = tuple(sorted(rest + (int(j),)))
                if r2[j] > best_r2 + 1e-12 and int(j) not in rest and scorer.plain(trial):
                    best, best_r2 = trial, r2[j]
                    break
        if best == support:
            return support
        support = best
    return support


def best_per_size(scorer: Scorer) -> dict[int, tuple[tuple[int, ...], float]]:
    """For each size 1..MAX_TERMS: the best plain support found and its R²."""
    best = {}
    for support in set(beam_supports(scorer) + stlsq_supports(scorer)):
        if len(support) and scorer.plain(support):
            r2 = scorer.r2(support)
            if r2 > best.get(len(support), ((), -np.inf))[1]:
                best[len(support)] = (support, r2)
    improved = {}
    for size, (support, _) in best.items():
        support = improve(support, scorer)
        improved[size] = (support, scorer.r2(support))
    return improved


def choose(r2_by_size: dict[int, float], good_enough: float = GOOD_ENOUGH) -> tuple[int, bool]:
    """The size to keep, and whether it is within tolerance (see TOLERANCE, EARN, GOOD_ENOUGH, CLOSE)."""
    sizes = sorted(r2_by_size)
    within = [k for k in sizes if r2_by_size[k] >= TOLERANCE]
    if not within:
        floor = (1 - max(r2_by_size.values())) * CLOSE
        return next(k for k in sizes if 1 - r2_by_size[k] <= floor), False
    chosen = within[0]
    for k in within[1:]:
        if r2_by_size[chosen] < good_enough and (1 - r2_by_size[k]) * EARN <= 1 - r2_by_size[chosen]:
            chosen = k
    return chosen, True


def sparse_fit(A: np.ndarray, y: np.ndarray, good_enough: float = GOOD_ENOUGH) -> tuple[Fit, bool]:
    """The chosen fit of y on a few columns of A, and whether it reaches the tolerance."""
    best = best_per_size(Scorer(*standardize(A, y)))
    size, found = choose({k: r2 for k, (_, r2) in best.items()}, good_enough)
    return refit(A, y, best[size][0]), found
