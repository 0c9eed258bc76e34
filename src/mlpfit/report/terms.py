"""The library of candidate terms a symbolic readout is built from.

Each term is a short piece of mlpfit's own formula grammar over the run's input names (``x**2*y``,
``sin(2*x)``, ``exp(-x)``) with a NumPy function that computes its column, so a sum of terms with
coefficients prints as a formula that ``mlpfit fit`` accepts. Which terms exist depends on the
inputs' box: ``log`` and ``sqrt`` only where every input value is positive, ``1/x`` only where the
box excludes 0.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np

# Frequencies of sin/cos: a few scales cover slow and fast waves on typical boxes; pi makes
# sin(pi*x) (a period of 2) exact instead of a sum of near misses.
SCALES = (0.5, 1.0, 2.0, 3.0, np.pi)
# Products of inputs up to this degree, by how many inputs there are: all monomials of degree 3 for
# 4 inputs are 34 columns, of degree 2 for 12 inputs 90; beyond, squares and cubes of single inputs.
PRODUCT_DEGREE = ((4, 3), (12, 2))
MAX_INPUTS = 20  # beyond this a term library grows past what a short formula could use
TIMES_UP_TO = 3  # inputs up to which each input times each sin/cos/exp term is offered (x*exp(x), y*sin(x))


@dataclass(frozen=True)
class Term:
    text: str  # in the formula grammar, e.g. "x1*x2" or "sin(0.5*x)"
    compute: Callable[[np.ndarray], np.ndarray]  # X [n, inputs] -> column [n]
    degree: int = 1  # a rough complexity: ties between equally short formulas go to simpler terms


def scale_text(scale: float) -> str:
    """``pi``, ``2`` or ``0.5`` as the grammar writes a frequency."""
    return "pi" if scale == np.pi else f"{scale:g}"


def scaled(name: str, scale: float) -> str:
    return name if scale == 1.0 else f"{scale_text(scale)}*{name}"


def monomial_text(names: list[str], powers: tuple[int, ...]) -> str:
    """``x**2*y`` from names [x, y] and powers (2, 1)."""
    parts = [name if p == 1 else f"{name}**{p}" for name, p in zip(names, powers) if p]
    return "*".join(parts)


def monomials(names: list[str]) -> list[Term]:
    """Every product of inputs up to the degree the input count allows, lowest degree first."""
    n = len(names)
    degree = next((d for limit, d in PRODUCT_DEGREE if n <= limit), 1)
    terms = []
    for total in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(n), total):
            powers = tuple(combo.count(i) for i in range(n))
            terms.append(Term(monomial_text(names, powers), _product(powers), total))
    if degree == 1:  # many inputs: still offer each input's square and cube
        for i in range(n):
            for p in (2, 3):
                powers = tuple(p if j == i else 0 for j in range(n))
                terms.append(Term(monomial_text(names, powers), _product(powers), p))
    return terms


def _product(powers: tuple[int, ...]):
    def compute(X: np.ndarray) -> np.ndarray:
        column = np.ones(len(X))
        for i, p in enumerate(powers):
            if p:
                column = column * X[:, i] ** p
        return column

    return compute


def functions_of(name: str, i: int, lo: float, hi: float) -> list[Term]:
    """sin/cos at a few frequencies, exp both ways, a Gaussian bump, and where defined log, sqrt, 1/x."""
    column = lambda f: (lambda X: f(X[:, i]))  # noqa: E731 - binds i and f for each term
    terms = []
    for s in SCALES:
        terms.append(Term(f"sin({scaled(name, s)})", column(lambda x, s=s: np.sin(s * x)), 2))
        terms.append(Term(f"cos({scaled(name, s)})", column(lambda x, s=s: np.cos(s * x)), 2))
    terms += [Term(f"exp({name})", column(np.exp), 2), Term(f"exp(-{name})", column(lambda x: np.exp(-x)), 2),
              Term(f"exp(-{name}**2)", column(lambda x: np.exp(-x * x)), 3)]
    if lo > 0:
        terms += [Term(f"log({name})", column(np.log), 2), Term(f"sqrt({name})", column(np.sqrt), 2)]
    if lo > 0 or hi < 0:
        terms.append(Term(f"1/{name}", column(lambda x: 1.0 / x), 2))
    return terms


def library(names: list[str], box: list[tuple[float, float]]) -> list[Term]:
    """All candidate terms for inputs ``names`` over ``box`` (one (lo, hi) per input)."""
    terms = monomials(names)
    functions = [f for i, (name, (lo, hi)) in enumerate(zip(names, box)) for f in functions_of(name, i, lo, hi)]
    terms += functions
    if len(names) <= TIMES_UP_TO:
        terms += [times(name, j, f) for f in functions for j, name in enumerate(names)
                  if f.text.startswith(("sin", "cos", "exp"))]
    return terms


def times(name: str, j: int, term: Term) -> Term:
    """Input ``name`` (column j) times a function term: ``x*exp(x)``, ``y*sin(pi*x)``."""
    return Term(f"{name}*{term.text}", lambda X: X[:, j] * term.compute(X), term.degree + 1)


def columns(terms: list[Term], X: np.ndarray) -> np.ndarray:
    """The design matrix [n, terms]; overflow (exp of a wide box) becomes inf, dropped by the caller."""
    with np.errstate(all="ignore"):
        return np.column_stack([t.compute(X) for t in terms])


def number(value: float) -> str:
    """A coefficient as the grammar reads it, without exponent or trailing zeros: 3, 0.25, 0.00001."""
    return np.format_float_positional(abs(value), trim="-")


def format_sum(texts: list[str], coef: np.ndarray, intercept: float) -> str:
    """``3*sin(x) - 1``: terms in library order, unit coefficients left out, signs folded in."""
    pieces = []
    for text, c in zip(texts, coef):
        if c == 0:
            continue
        if text.startswith("1/"):
            body = f"{number(c)}/{text[2:]}"
        else:
            body = text if abs(c) == 1 else f"{number(c)}*{text}"
        pieces.append(("-" if c < 0 else "+", body))
    if intercept != 0 or not pieces:
        pieces.append(("-" if intercept < 0 else "+", number(intercept)))
    first_sign, first = pieces[0]
    return ("-" if first_sign == "-" else "") + first + "".join(f" {s} {b}" for s, b in pieces[1:])
