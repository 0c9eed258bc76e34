"""The fitted network as an oracle: questions about the law that a table of samples cannot answer.

The network can be asked for its value anywhere in its training box, so a law of several inputs is
taken apart before any formula is searched (AI Feynman's idea, Udrescu & Tegmark 2020):

- an input that does not matter is dropped;
- f(a, b) = g(a) + h(b) or g(a)·h(b) (one input against the rest) is seen on a grid of values:
  the grid is a sum when its double-centred residual vanishes, a product when it has rank one; the
  parts are the network averaged over several grid values of the other side (weighted by the
  singular vectors for a product), which denoises them;
- f that depends on two inputs only through a/b, a-b, a·b or a+b is seen in its gradient (for a/b,
  a·∂f/∂a + b·∂f/∂b = 0), and the pair becomes one new input.

A ``Problem`` is such a piece: a function of a few columns, each column a sympy expression of the
columns of the problem it was cut from, over a box the network was trained on. ``split`` answers with the smaller problems
and how their formulas combine, or None when the problem is one piece.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from mlpfit.report.expression import symbols

GRID = 24  # values of one input, times as many of the rest: 576 network evaluations per test
POINTS = 400  # random points for the gradient tests
STEP = 1e-4  # central-difference step, as a share of each input's range
UNUSED = 1e-3  # an input whose effect is below this share of the output's spread is dropped
ALIKE = 2.0  # two ratios whose largest values are within this factor are both tried
DEGREE = 3  # powers k of f = b**k * g(a/b) tried (a ratio alone is k = 0)
MERGE = 0.15  # a network's gradients are good to several percent: a symmetry's combination must vanish to this share
AVERAGED = 8  # grid values a part is averaged over: each costs a network evaluation per point, nested parts multiply
NODES = 65  # Chebyshev points a part of one column is interpolated on ...
CHECKED = 16  # ... checked at this many random points ...
INTERPOLATED = 1e-3  # ... to agree within this share of its spread (far below any network's error)
SEPARABLE = 2.0  # a split may leave this many times the network's own RMS error unexplained on the grid
ALONG = (0.1, 0.3, 0.5, 0.7, 0.9)  # where along the segment of a merged column's value the network is averaged
TRIMMED = 0.01  # share of the box cut off each end of a merged column's range: its extremes are single corners


def placeholders(n: int) -> list:
    """The symbols a problem's formulas are written in: z0 for its first column, z1, ..."""
    return symbols([f"z{k}" for k in range(n)])


@dataclass(frozen=True)
class Problem:
    function: Callable[[np.ndarray], np.ndarray]  # X [n, columns] -> y [n]
    columns: tuple  # per column, what it is in the placeholders of the problem it was cut from
    box: tuple  # (lo, hi) per column
    gain: float = 1.0  # how much of the network's error reaches this function (a weighted sum's weights add up)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        lows, highs = np.array(self.box, dtype=np.float64).T
        return lows + (highs - lows) * rng.random((n, len(self.box)))


@dataclass(frozen=True)
class Split:
    how: str  # "sum", "product", "drop" (one part) or "merge" (fewer columns; each part is the law another way)
    parts: tuple  # the smaller problems
    reference: float  # what the parts' combination is corrected by (sum: subtracted once; product: divided)
    factors: tuple = ()  # per part of a merge, what its formulas are multiplied by (b**k in the problem's placeholders, or None)


def split(problem: Problem, noise: float, rng: np.random.Generator) -> Split | None:
    """The surest way found to make the problem smaller, or None (see the module's docstring).

    ``noise`` is the network's own RMS error in the output's units: a sum or a product is accepted
    when what it leaves unexplained on the grid is within SEPARABLE times that (the network cannot
    tell it from its own error); the gradient tests compare relative sizes (see MERGE)."""
    if len(problem.columns) < 2:
        return None
    tests = [separate(problem, i, noise, rng) for i in range(len(problem.columns))]
    found = [t for t in tests if t is not None]
    chosen = min(found, key=lambda pair: pair[0])[1] if found else merge(problem, rng)
    if chosen is None:
        return None
    return replace(chosen, parts=tuple(interpolated(part, rng) if len(part.columns) == 1 else part for part in chosen.parts))


def interpolated(problem: Problem, rng: np.random.Generator) -> Problem:
    """A part of one column as its Chebyshev interpolant on NODES points, where that agrees with it
    to INTERPOLATED of its spread at random points (else the part as it is). A part nested in others
    costs hundreds of network evaluations per point, and the network is smooth (tanh layers are
    analytic), so the interpolant is as good for a fraction of the cost."""
    from numpy.polynomial import chebyshev

    (lo, hi), = problem.box
    nodes = np.cos(np.pi * np.arange(NODES) / (NODES - 1))
    coef = chebyshev.chebfit(nodes, problem.function((lo + (hi - lo) * (nodes + 1) / 2)[:, None]), NODES - 1)

    def function(Z: np.ndarray) -> np.ndarray:
        return chebyshev.chebval(2 * (Z[:, 0] - lo) / (hi - lo) - 1, coef)

    Z = problem.sample(CHECKED, rng)
    exact = problem.function(Z)
    if not np.max(np.abs(function(Z) - exact)) <= INTERPOLATED * (float(np.std(exact)) or 1.0):
        return problem
    return replace(problem, function=function)


def grid(problem: Problem, i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of column i, rows of the other columns, and f on every pair of them [GRID, GRID]."""
    values = problem.sample(GRID, rng)[:, i]
    rest = problem.sample(GRID, rng)
    X = np.repeat(rest[None], GRID, axis=0)
    X[:, :, i] = values[:, None]
    return values, rest, problem.function(X.reshape(-1, X.shape[-1])).reshape(GRID, GRID)


def separate(problem: Problem, i: int, noise: float, rng: np.random.Generator) -> tuple[float, Split] | None:
    """Column i against the rest: unused, a sum or a product (with how much of the allowed error it
    leaves: smaller is surer), else None."""
    values, rest, F = grid(problem, i, rng)
    allowed = SEPARABLE * noise * problem.gain + 1e-9 * (1 + float(np.abs(F).max()))
    along_i = F - F.mean(axis=0, keepdims=True)
    if np.std(along_i) < max(allowed, UNUSED * float(np.std(F))):
        return 0.0, Split("drop", (restricted(problem, i, float(np.median(values)), keep=False),), 0.0)
    left = {"sum": float(np.std(along_i - F.mean(axis=1, keepdims=True) + F.mean()))}
    U, singular, Vt = np.linalg.svd(F)
    if Vt[0].sum() < 0:  # the singular vectors' sign is arbitrary: a positive law's parts stay positive (log, 1/y² apply)
        U[:, 0], Vt[0] = -U[:, 0], -Vt[0]
    left["product"] = float(np.sqrt(np.sum(singular[1:] ** 2))) / GRID  # RMS per cell beyond rank one
    how = min(left, key=left.get)
    if left[how] >= allowed:
        return None
    # Each part is f averaged over grid values of the other side (a product: weighted by its singular
    # vectors; a sum: evenly); f = g + h - mean, or g*h/sigma, on those cells.
    # The one input's part takes every row of the rest (it is searched as it is); the rest's part, which
    # may be split again (its cost multiplies), the AVERAGED values of the input that weigh most.
    count = GRID if len(problem.columns) == 2 else AVERAGED
    if how == "product":
        rows, values_k = np.arange(GRID), np.argsort(-np.abs(U[:, 0]))[:count]
        weights_rest, weights_i = Vt[0], U[values_k, 0]
    else:
        rows, values_k = np.arange(GRID), np.arange(count)
        weights_rest, weights_i = np.full(GRID, 1 / GRID), np.full(count, 1 / count)
    cells = F[np.ix_(values_k, rows)]
    reference = float(weights_i @ cells @ weights_rest) if how == "product" else float(cells.mean())
    if reference == 0:
        return None
    parts = (averaged(problem, i, rest[rows], weights_rest, keep=True),
             averaged(problem, i, values[values_k], weights_i, keep=False))
    return left[how] / allowed, Split(how, parts, reference)


def averaged(problem: Problem, i: int, others: np.ndarray, weights: np.ndarray, keep: bool) -> Problem:
    """f as a function of column i alone (keep: averaged over rows of the rest) or of the rest (not
    keep: averaged over values of column i), as a weighted sum: averaging denoises the network, and a
    slice through one point would see little of a factor that is small there."""
    n = len(problem.columns)
    free = [i] if keep else [j for j in range(n) if j != i]

    def function(Z: np.ndarray) -> np.ndarray:
        X = np.empty((len(weights), len(Z), n))
        if keep:
            X[:] = others[:, None, :]
        else:
            X[:, :, i] = np.asarray(others)[:, None]
        X[:, :, free] = Z[None]
        return np.tensordot(weights, problem.function(X.reshape(-1, n)).reshape(len(weights), len(Z)), axes=1)

    parent = placeholders(n)
    return Problem(function, tuple(parent[j] for j in free), tuple(problem.box[j] for j in free),
                   problem.gain * float(np.sum(np.abs(weights))))


def restricted(problem: Problem, i: int, point, keep: bool) -> Problem:
    """f with column i alone free (keep) or with column i held at its value in ``point`` (not keep)."""
    point = np.broadcast_to(np.asarray(point, dtype=np.float64), (len(problem.columns),)).copy()
    free = [i] if keep else [j for j in range(len(problem.columns)) if j != i]

    def function(Z: np.ndarray) -> np.ndarray:
        X = np.repeat(point[None], len(Z), axis=0)
        X[:, free] = Z
        return problem.function(X)

    parent = placeholders(len(problem.columns))
    return Problem(function, tuple(parent[j] for j in free), tuple(problem.box[j] for j in free), problem.gain)


# ---------------------------------------------------------------- symmetries in the gradient


def gradient(problem: Problem, X: np.ndarray) -> np.ndarray:
    """∂f/∂column at rows X by central differences [n, columns] (the network is smooth: its own
    chain-rule gradient and this agree to the step's precision)."""
    widths = np.array([hi - lo for lo, hi in problem.box]) * STEP
    grads = []
    for j, h in enumerate(widths):
        up, down = X.copy(), X.copy()
        up[:, j] += h
        down[:, j] -= h
        grads.append((problem.function(up) - problem.function(down)) / (2 * h))
    return np.stack(grads, axis=1)


# name -> (the combination that vanishes when f depends on the pair only through it, the new column,
# whether both inputs must be positive)
SYMMETRIES = {
    "ratio": (lambda a, b, ga, gb: a * ga + b * gb, lambda a, b: a / b, True),
    "product": (lambda a, b, ga, gb: a * ga - b * gb, lambda a, b: a * b, True),
    "difference": (lambda a, b, ga, gb: ga + gb, lambda a, b: a - b, False),
    "sum": (lambda a, b, ga, gb: ga - gb, lambda a, b: a + b, False),
}


def merge(problem: Problem, rng: np.random.Generator) -> Split | None:
    """Two columns that f sees only through their ratio, product, difference or sum, as one column:
    the pair and symmetry whose vanishing combination is smallest, if below MERGE of its terms' size.

    A ratio may come with a power: f = b**k * g(a/b) when f is homogeneous of degree k in the pair
    (a·∂f/∂a + b·∂f/∂b = k·f, Euler's theorem; k an integer up to DEGREE), as a Gaussian of theta/sigma
    divided by sigma is, or m*c**2*gamma(v/c); the part is then f/b**k, a function of a/b alone."""
    X = problem.sample(POINTS, rng)
    G = gradient(problem, X)
    f = problem.function(X)
    scores, degrees = {}, {}
    for a in range(len(problem.columns)):
        for b in range(a + 1, len(problem.columns)):
            scale = np.mean(np.abs(X[:, a] * G[:, a]) + np.abs(X[:, b] * G[:, b]))
            plain = np.mean(np.abs(G[:, a]) + np.abs(G[:, b]))
            euler = X[:, a] * G[:, a] + X[:, b] * G[:, b]
            k = int(np.clip(np.round(euler @ f / (f @ f or 1.0)), -DEGREE, DEGREE))
            for name, (vanishing, _, positive) in SYMMETRIES.items():
                if positive and min(problem.box[a][0], problem.box[b][0]) <= 0:
                    continue
                size = scale if positive else plain
                degree = k if name == "ratio" else 0
                if size > 0:
                    left = vanishing(X[:, a], X[:, b], G[:, a], G[:, b]) - degree * f
                    scores[a, b, name], degrees[a, b, name] = np.mean(np.abs(left)) / size, degree
    if not scores or min(scores.values()) >= MERGE:
        return None
    a, b, name = min(scores, key=scores.get)
    degree, parent = degrees[a, b, name], placeholders(len(problem.columns))
    ways = [(a, b)]
    if name == "ratio":  # the ratio that stays small (v/c rather than c/v) is how laws are written; of two
        # alike (theta/sigma, sigma/theta) with a power, either may be: f/sigma**k of the other is no simpler
        # (without one, g(b/a) is g(1/u), as short)
        largest = {(a, b): problem.box[a][1] / problem.box[b][0], (b, a): problem.box[b][1] / problem.box[a][0]}
        ways = sorted(largest, key=largest.get)
        ways = ways[:1] if degree == 0 or largest[ways[1]] > ALIKE * largest[ways[0]] else ways
    return Split("merge", tuple(merged(problem, i, j, name, X, degree) for i, j in ways), 0.0,
                 tuple(parent[j] ** degree if degree else None for _, j in ways))


def merged(problem: Problem, a: int, b: int, name: str, X: np.ndarray, degree: int = 0) -> Problem:
    """The problem with columns a and b replaced by one column u = a/b, a·b, a−b or a+b (first);
    f(u, rest)/b**degree is asked of the network at points of the box where the pair gives u. The new column
    spans u over the rows X of the box but its rarest TRIMMED ends: u's extremes are reached only at
    a corner of the box, where a network is least accurate, and would weigh on the piece's formula."""
    (lo_a, hi_a), (lo_b, hi_b) = problem.box[a], problem.box[b]
    spread = np.quantile(SYMMETRIES[name][1](X[:, a], X[:, b]), [TRIMMED, 1 - TRIMMED])
    others = [j for j in range(len(problem.columns)) if j != a and j != b]

    def b_range(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The values of column b, inside its range, whose partner for u is inside column a's range."""
        with np.errstate(all="ignore"):
            ends = {"ratio": (lo_a / u, hi_a / u), "product": (u / hi_a, u / lo_a),
                    "difference": (lo_a - u, hi_a - u), "sum": (u - hi_a, u - lo_a)}[name]
        return np.maximum(np.minimum(*ends), lo_b), np.minimum(np.maximum(*ends), hi_b)

    def a_for(u: np.ndarray, vb: np.ndarray) -> np.ndarray:
        return {"ratio": u * vb, "product": u / vb, "difference": u + vb, "sum": u - vb}[name]

    def function(Z: np.ndarray) -> np.ndarray:
        """f at u averaged along the segment of the box where the pair gives u (denoised as a
        separable part is: the network's errors at different points partly cancel)."""
        low, high = b_range(Z[:, 0])
        total = np.zeros(len(Z))
        for share in ALONG:
            X = np.empty((len(Z), len(problem.columns)))
            vb = low + share * (high - low)
            X[:, a], X[:, b] = a_for(Z[:, 0], vb), vb
            X[:, others] = Z[:, 1:]
            total += problem.function(X) / vb**degree
        return total / len(ALONG)

    parent = placeholders(len(problem.columns))
    column = SYMMETRIES[name][1](parent[a], parent[b])
    return Problem(function, (column, *[parent[j] for j in others]),
                   ((float(spread[0]), float(spread[1])), *[problem.box[j] for j in others]),
                   problem.gain / min(lo_b**degree, hi_b**degree))  # the network's error is divided by b**k too
