"""The constants of a candidate formula: fitted by least squares, then recognized where the data allow.

A search proposes a formula's shape with rough numbers in it; ``refit`` tunes every free number
(a sympy Float) against the target at once (Levenberg-Marquardt from where they are). ``recognize``
then tries each number as a simple constant (0, an integer, a small fraction, a fraction of pi, e,
sqrt(2), sqrt(pi) or sqrt(2*pi)), simplest first: a replacement stays only if the formula, its other
numbers refitted, still passes the caller's test (in the readout: still within the network's own
error), so a law's 1/sqrt(2*pi) is printed as such, and 0.4 is not taken for it.
"""

# Deferred imports: sympy (and scipy) load inside the functions that use them, so `mlpfit explain` without
# --symbolic never pays for them.

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from mlpfit.report.expression import symbols

NEAR = 0.05  # a number is tried as a simple constant within 5% of it (a coefficient inside a function can be that far off)
MAX_NUMERATOR = 60  # fractions p/q tried: 1 <= p <= 60 ...
MAX_DENOMINATOR = 12  # ... and 1 <= q <= 12
REFIT_POINTS = 400  # rows the constants are fitted on: enough for a few numbers, fast
REFIT_CALLS = 60  # Levenberg-Marquardt evaluations per refit: the numbers start close, and each costs a Jacobian
MAX_REFITTED = 12  # free numbers a refit takes on; a longer formula is no candidate for a law anyway


BASES = (("1", 1.0, 0), ("pi", math.pi, 1), ("E", math.e, 1), ("sqrt(2)", math.sqrt(2), 2), ("sqrt(3)", math.sqrt(3), 2),
         ("sqrt(pi)", math.sqrt(math.pi), 2), ("sqrt(2*pi)", math.sqrt(2 * math.pi), 2))  # name, value, cost


@functools.lru_cache(maxsize=1)
def simple_constants() -> tuple[np.ndarray, list, np.ndarray]:
    """Every simple constant: values, how to build each ((p, q, base, whether divided by it): p/q*base
    or p/(q*base)), and a cost (smaller = simpler), sorted by cost. Plain floats: sympy builds only
    the few numbers asked for (see ``exact``)."""
    found: dict[float, tuple[int, tuple]] = {}
    for (name, base, base_cost), p, q in itertools.product(BASES, range(1, MAX_NUMERATOR + 1), range(1, MAX_DENOMINATOR + 1)):
        if math.gcd(p, q) != 1:
            continue
        for divided in (False, True):
            cost = base_cost + (0 if q == 1 else 2 + q // 4) + p // 10
            key = round(p / q / base if divided else p / q * base, 12)
            if key not in found or cost < found[key][0]:
                found[key] = (cost, (p, q, name, divided))
    items = sorted(found.items(), key=lambda item: (item[1][0], item[0]))
    return (np.array([k for k, _ in items]), [v for _, (_, v) in items], np.array([c for _, (c, _) in items]))


def exact(recipe: tuple):
    """The sympy number p/q*base or p/(q*base)."""
    import sympy

    p, q, name, divided = recipe
    base = {"1": sympy.Integer(1), "pi": sympy.pi, "E": sympy.E, "sqrt(2)": sympy.sqrt(2), "sqrt(3)": sympy.sqrt(3),
            "sqrt(pi)": sympy.sqrt(sympy.pi), "sqrt(2*pi)": sympy.sqrt(2 * sympy.pi)}[name]
    return sympy.Rational(p, q) / base if divided else sympy.Rational(p, q) * base


def nearby(value: float, limit: int = 3) -> list:
    """The simplest constants within NEAR of ``value`` (0 first for any small number), as sympy numbers."""
    import sympy

    values, recipes, _ = simple_constants()
    close = np.flatnonzero(np.abs(values - abs(value)) <= NEAR * abs(value))[:limit]
    sign = -1 if value < 0 else 1
    return [sympy.Integer(0)] + [sign * exact(recipes[i]) for i in close]


def snapped(values: np.ndarray, negligible: float = 0.02):
    """Coefficients as exact numbers without a fit to check them: each below ``negligible`` of the
    largest is 0, each other the simplest constant within NEAR, or None when one has no such constant
    (a cheap guess for polynomials, which the caller's test then accepts or not)."""
    import sympy

    largest = float(np.max(np.abs(values))) if len(values) else 0.0
    exact = []
    for value in values:
        if abs(value) < negligible * largest:
            exact.append(sympy.Integer(0))
            continue
        close = nearby(float(value))[1:]
        if not close:
            return None
        exact.append(close[0])
    return exact


def rounded(expr, negligible: float):
    """Every free number at once taken to the simplest constant within NEAR of it, and any smaller than
    ``negligible`` to 0, without a refit: a cheap guess at the exact formula, for the caller to test."""
    import sympy

    replace = {}
    for number in free_numbers(expr):
        value = float(number)
        close = nearby(value, limit=1)
        if abs(value) < negligible:
            replace[number] = sympy.Integer(0)
        elif len(close) > 1:
            replace[number] = close[1]
    return expr.xreplace(replace)


def free_numbers(expr) -> list:
    import sympy

    return sorted(expr.atoms(sympy.Float), key=lambda f: -abs(float(f)))


def refit(expr, names: list[str], X: np.ndarray, y: np.ndarray):
    """The expression with its free numbers fitted to y on rows X (unchanged where the fit fails)."""
    import sympy
    from scipy.optimize import least_squares

    numbers = free_numbers(expr)
    if not numbers or len(numbers) > MAX_REFITTED:
        return expr
    params = sympy.symbols(f"c0:{len(numbers)}", real=True)
    template = expr.xreplace(dict(zip(numbers, params)))
    function = sympy.lambdify(list(params) + symbols(names), template, modules="numpy")
    rows = np.random.default_rng(0).permutation(len(X))[:REFIT_POINTS]
    columns, target = [X[rows, i] for i in range(X.shape[1])], y[rows]

    def residual(c):
        with np.errstate(all="ignore"):
            value = np.broadcast_to(np.asarray(function(*c, *columns), dtype=np.float64), target.shape)
        return np.where(np.isfinite(value), value - target, 1e6)

    start = np.array([float(n) for n in numbers])
    try:
        fit = least_squares(residual, start, method="lm", max_nfev=REFIT_CALLS)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        return expr
    if not np.all(np.isfinite(fit.x)) or np.sum(fit.fun ** 2) > np.sum(residual(start) ** 2):
        return expr
    return template.xreplace({p: sympy.Float(float(v)) for p, v in zip(params, fit.x)})


def recognize(expr, names: list[str], X: np.ndarray, y: np.ndarray, acceptable):
    """Each free number replaced by the simplest nearby constant that keeps ``acceptable(expr)`` true,
    the remaining numbers refitted after each replacement."""
    skipped = 0  # the largest numbers that stay free (their values move as others are replaced)
    while skipped < len(numbers := free_numbers(expr)):
        number = numbers[skipped]
        for constant in nearby(float(number)):
            trial = refit(expr.xreplace({number: constant}), names, X, y)
            if acceptable(trial):
                expr = trial
                break
        else:
            skipped += 1
    return expr
