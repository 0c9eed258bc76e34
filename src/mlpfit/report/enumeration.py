"""Every short formula of one input, tried: what a genetic search can miss and a term library cannot say.

Formulas are built bottom-up by size (nodes of the expression tree): the input and the numbers 1
and 2 first, then each function of every formula one node smaller, and each operator on every pair
of formulas whose sizes add up. Two formulas with the same values on the probe points are one (the
first, simplest, is kept), so sin(x**2)*cos(x) (6 nodes) and 1/sqrt(1 - x**2) (6 nodes) are among a
few hundred thousand. Each is scored as it is (y ≈ f), scaled (y ≈ a·f) and scaled and shifted
(y ≈ a·f + b), a and b by least squares, a fitted constant costing as much as it does in a formula:
the simplest within the tolerance and the closest few of each size come back, for their constants to
be refitted and recognized like any other candidate's. The simplest are what a law looks like (the
network's error hides the difference between it and its lookalikes on a piece; the whole law and
the data tell them apart).
"""

# Deferred imports: sympy loads inside the function that builds formulas.

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SIZE = 6  # nodes per formula: a size more multiplies the count about tenfold
PROBES = 32  # points the formulas are built and told apart on
LARGEST = 1e6  # a formula beyond this on the probes is dropped: no law's piece is built from it
PER_SIZE = 1  # closest formulas of each size passed on (as a*f + b), whatever their error
SIMPLEST = 10  # simplest formulas within the tolerance passed on (a wrong one is told apart on the whole law)
CONSTANT_COST = 4  # a fitted constant counts as this many nodes (report.expression.complexity's free number)
FORMS = ("f", "a*f", "a*f + b")  # each formula is tried as it is, scaled, and scaled and shifted
FLAT = 0.01  # an f that varies less than this share of its size is not tried shifted: 8368*exp(x/1618) - 8368 is x
DISTINCT = 1e-9  # values closer than this share of their size are one formula

UNARY = {
    "sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "square": np.square, "inverse": lambda v: 1 / v, "negative": np.negative,
}
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
COMMUTATIVE = ("+", "*")
TRANSCENDENTAL = ("sin", "cos", "exp", "log")  # not applied to a formula that has one of them of the input, nor to a number
LEAVES = ("z", 1, 2)


OPERATIONS = ("leaf", *UNARY, *BINARY)  # an operation's code is its place here


@dataclass(frozen=True)
class Level:
    """The formulas of one size: values on the probes [n, PROBES], and how each was built: its
    operation's code in OPERATIONS [n] and its operands as (size, row) pairs [n, 2, 2] (a leaf's
    first pair is (0, its place in LEAVES); a function's second pair is unused)."""
    values: np.ndarray
    operations: np.ndarray
    operands: np.ndarray
    transcendental: np.ndarray  # [n] whether a sin, cos, exp or log of the input is in it


def search(x: np.ndarray, y: np.ndarray, symbol, tolerance: float, max_size: int = MAX_SIZE) -> list:
    """Formulas for y on x (a column) as sympy expressions of ``symbol``: the SIMPLEST simplest ones
    within ``tolerance`` (relative RMS error) and the PER_SIZE closest of each size."""
    if np.std(y) == 0 or len(x) < 3:
        return []
    rows = np.random.default_rng(0).permutation(len(x))[:PROBES]
    levels = built(x[rows], max_size)
    simple, close = [], []
    for size, level in levels.items():
        errors = form_errors(level.values, y[rows])  # [n, forms]
        k, form = np.nonzero(errors <= tolerance)
        simple += [(size + CONSTANT_COST * f, errors[j, f], size, j, f) for j, f in zip(k.tolist(), form.tolist())]
        affine = errors[:, -1]
        close += [(size, int(j), len(FORMS) - 1) for j in np.argsort(affine)[:PER_SIZE * 3] if np.isfinite(affine[j])]
    simple = distinct(sorted(simple), levels)[:SIMPLEST * 2]  # a few more: the probes can flatter one
    checked = [checked_form(levels, size, j, f, x, y) for size, j, f in simple + close]
    chosen = [c for c in checked[:len(simple)] if c and c[0] <= tolerance][:SIMPLEST]
    for size in levels:
        chosen += sorted((c for c in checked[len(simple):] if c and c[2] == size), key=lambda c: c[0])[:PER_SIZE]
    return [form_expr(tidied(formula(levels, size, j, symbol)), f, a, b) for _, _, size, j, f, a, b in chosen]


def tidied(expr):
    """sqrt(1/u) as 1/sqrt(u): the formula is defined on the whole box, so its roots' arguments are
    positive there and the powers may be joined (a shorter formula, as a law is written)."""
    import sympy

    return sympy.powdenest(expr, force=True)


def distinct(ranked: list, levels: dict) -> list:
    """(size, row, form) of each ranked candidate unlike every earlier one: a·f is a·(-f) and
    a·(2·f), and a·f + b is also a·(f + 1) + b, so only the first of those stays, and each formula
    in its first form only."""
    seen, result = set(), []
    for *_, size, j, form in ranked:
        if (size, j) in seen:  # a formula once, in its simplest form within the tolerance
            continue
        seen.add((size, j))
        v = levels[size].values[j]
        if FORMS[form] == "a*f + b":
            v = v - v.mean()
        if FORMS[form] != "f":
            v = v / (np.abs(v).max() or 1.0)
            v = v * np.sign(v[np.flatnonzero(np.abs(v) > 1e-6)[0]])
        key = (form > 0, form == 2, np.round(v / DISTINCT / 1e3).astype(np.int64).tobytes())
        if key not in seen:
            seen.add(key)
            result.append((size, j, form))
    return result


def form_errors(F: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row f of F, the RMS error of f, of the best a·f and of the best a·f + b for y, as a share
    of y's spread [n, 3] (inf where undefined)."""
    spread = float(np.std(y))
    plain = np.sqrt(np.mean((F - y) ** 2, axis=1)) / spread
    norms = np.sum(F * F, axis=1)
    with np.errstate(all="ignore"):
        a = np.where(norms > 0, F @ y / norms, 0.0)
        scale = np.sqrt(np.clip(np.mean(y * y) - a * (F @ y) / len(y), 0, None)) / spread
    flat = np.std(F, axis=1) < FLAT * np.mean(np.abs(F), axis=1)  # a·f + b of such an f is a line's lookalike
    return np.stack([plain, np.where(norms > 0, scale, np.inf), np.where(flat, np.inf, affine_errors(F, y))], axis=1)


def checked_form(levels: dict, size: int, j: int, form: int, x: np.ndarray, y: np.ndarray):
    """(relative error on every sample, form's constant count, size, j, form, a, b), None where the
    formula is undefined or constant on the samples."""
    with np.errstate(all="ignore"):
        column = evaluated(levels, size, j, x)
    if not np.all(np.isfinite(column)) or np.std(column) == 0:
        return None
    if FORMS[form] == "f":
        a, b = 1.0, 0.0
    elif FORMS[form] == "a*f":
        a, b = float(column @ y / (column @ column)), 0.0
    else:
        a, b = np.polyfit(column, y, 1)
    error = float(np.sqrt(np.mean((a * column + b - y) ** 2)) / np.std(y))
    return error, form, size, j, form, float(a), float(b)


def form_expr(expr, form: int, a: float, b: float):
    import sympy

    if FORMS[form] == "f":
        return expr
    if FORMS[form] == "a*f":
        return sympy.Float(a) * expr
    return sympy.Float(a) * expr + sympy.Float(b)


def built(probes: np.ndarray, max_size: int) -> dict[int, Level]:
    """Every distinct formula up to max_size nodes, by size."""
    seen: set = set()
    leaves = np.stack([probes if leaf == "z" else np.full(len(probes), float(leaf)) for leaf in LEAVES])
    operands = np.zeros((len(LEAVES), 2, 2), np.int64)
    operands[:, 0, 1] = np.arange(len(LEAVES))
    levels = {1: kept(leaves, np.zeros(len(LEAVES), np.int64), operands, np.zeros(len(LEAVES), bool), seen)}
    for size in range(2, max_size + 1):
        values, operations, operands, transcendental = [], [], [], []
        below = levels[size - 1]
        n = len(below.values)
        for name, function in UNARY.items():
            with np.errstate(all="ignore"):
                value = function(below.values)
            varies = np.ptp(below.values, axis=1) > 0
            if name in TRANSCENDENTAL:  # not of one already: laws hardly nest them, and lookalikes abound
                value[below.transcendental] = np.nan
                transcendental.append(varies)
            else:
                transcendental.append(below.transcendental)
            if name in TRANSCENDENTAL + ("sqrt",):  # nor of a number: exp(exp(1/2)) is a fitted scale's lookalike
                value[~varies] = np.nan
            values.append(value)
            operations.append(np.full(n, OPERATIONS.index(name)))
            pairs = np.zeros((n, 2, 2), np.int64)
            pairs[:, 0, 0], pairs[:, 0, 1] = size - 1, np.arange(n)
            operands.append(pairs)
        for left in range(1, size - 1):
            right = size - 1 - left
            A, B = levels[left].values, levels[right].values
            for name, function in BINARY.items():
                if name in COMMUTATIVE and left > right:
                    continue
                with np.errstate(all="ignore"):
                    values.append(function(A[:, None, :], B[None, :, :]).reshape(-1, len(probes)))
                operations.append(np.full(len(A) * len(B), OPERATIONS.index(name)))
                transcendental.append((levels[left].transcendental[:, None] | levels[right].transcendental[None, :]).ravel())
                pairs = np.empty((len(A) * len(B), 2, 2), np.int64)
                pairs[:, 0, 0], pairs[:, 0, 1] = left, np.repeat(np.arange(len(A)), len(B))
                pairs[:, 1, 0], pairs[:, 1, 1] = right, np.tile(np.arange(len(B)), len(A))
                operands.append(pairs)
        levels[size] = kept(np.concatenate(values), np.concatenate(operations), np.concatenate(operands),
                            np.concatenate(transcendental), seen)
    return levels


def kept(values: np.ndarray, operations: np.ndarray, operands: np.ndarray, transcendental: np.ndarray,
         seen: set) -> Level:
    """The rows that are finite, not too large, and new (by their rounded values), first ones first."""
    finite = np.all(np.isfinite(values), axis=1) & (np.max(np.abs(values), axis=1) <= LARGEST)
    rows = np.flatnonzero(finite)
    scale = np.max(np.abs(values[rows]), axis=1, keepdims=True) + 1.0
    keys = np.round(values[rows] / (scale * DISTINCT)).astype(np.int64)
    _, first = np.unique(keys, axis=0, return_index=True)
    fresh = []
    for k in np.sort(first):
        key = keys[k].tobytes()
        if key not in seen:
            seen.add(key)
            fresh.append(rows[k])
    return Level(values[fresh], operations[fresh], operands[fresh], transcendental[fresh])


def affine_errors(F: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row f of F, the RMS error of the best a·f + b for y, as a share of y's spread (inf for a constant f)."""
    Fc = F - F.mean(axis=1, keepdims=True)
    yc = y - y.mean()
    norms = np.sum(Fc * Fc, axis=1)
    with np.errstate(all="ignore"):
        r2 = np.where(norms > 1e-24, (Fc @ yc) ** 2 / (norms * (yc @ yc)), 0.0)
    errors = np.sqrt(np.clip(1 - r2, 0, None))
    return np.where(norms > 1e-24, errors, np.inf)


def evaluated(levels: dict[int, Level], size: int, k: int, x: np.ndarray) -> np.ndarray:
    """The formula (size, k) on every point of x."""
    operation, parts = operands_of(levels, size, k)
    if operation == "leaf":
        return x.astype(np.float64) if parts == "z" else np.full(len(x), float(parts))
    args = [evaluated(levels, s, j, x) for s, j in parts]
    return (UNARY.get(operation) or BINARY[operation])(*args)


def operands_of(levels: dict[int, Level], size: int, k: int) -> tuple[str, object]:
    """The operation of formula (size, k) and its operands' (size, row) pairs (a leaf: which leaf)."""
    level = levels[size]
    operation = OPERATIONS[int(level.operations[k])]
    if operation == "leaf":
        return operation, LEAVES[int(level.operands[k, 0, 1])]
    count = 1 if operation in UNARY else 2
    return operation, [(int(s), int(j)) for s, j in level.operands[k, :count]]


def formula(levels: dict[int, Level], size: int, k: int, symbol):
    """The formula (size, k) as a sympy expression of ``symbol``."""
    import sympy

    operation, parts = operands_of(levels, size, k)
    if operation == "leaf":
        return symbol if parts == "z" else sympy.Integer(parts)
    args = [formula(levels, s, j, symbol) for s, j in parts]
    unary = {"sin": sympy.sin, "cos": sympy.cos, "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt,
             "square": lambda a: a**2, "inverse": lambda a: 1 / a, "negative": lambda a: -a}
    binary = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}
    return (unary.get(operation) or binary[operation])(*args)


