"""The search for a law: a problem taken apart by the oracle where it can be, each piece searched.

``solve`` asks report.oracle for a split. Each part is solved on its own (recursively), and the
parts' few best formulas are put back together (a sum, a product, a merged column substituted) and
their constants refitted on the whole problem. A piece that cannot be split is searched directly:
the sparse term search (report.sparse over report.terms), fast and always there, and Operon's
genetic programming (report.operon) when pyoperon is installed. The problem as a whole is always
searched directly too, since a split can be wrong where the network is least accurate.
Formulas come back as sympy expressions in the problem's placeholders (oracle.placeholders).
"""

# Deferred imports: sympy loads inside the functions that build formulas.

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from mlpfit.report import constants, enumeration, operon, oracle, pareto, rational, sparse, terms
from mlpfit.report.expression import complexity, evaluator, from_text, symbols, to_text
from mlpfit.report.terms import format_sum

POINTS = 1500  # samples of each problem the candidates are fitted and compared on
KEEP = 4  # formulas of the front a part passes up to be combined with the other part's ...
PASSED = 16  # ... after its simplest ones within the network's error
COMBINED = 12  # simplest pairs of two parts' formulas within the network's error combined and refitted ...
CLOSEST = 4  # ... and the closest pairs
MAX_DEPTH = 6  # splits in a row: five inputs peeled one at a time, and one merge
ANSWERS_CHECKED = 8  # simplest formulas of the whole within the network's error checked as answers before Operon
GOOD = 2.0  # a quick search's error within this many times the network's own makes Operon's unneeded
DEGREES = {1: 6, 2: 4, 3: 3}  # polynomial degree tried by input count (more inputs: 2)


@dataclass(frozen=True)
class Settings:
    tolerance: float  # the network's own relative error: what a formula need not beat
    noise: float  # the network's own RMS error in the output's units: what a split may leave unexplained
    operon: bool  # use Operon where a piece is searched directly
    restarts: int = operon.RESTARTS  # Operon seeds per direct search
    evaluations: int = operon.EVALUATIONS  # Operon evaluations per seed
    deadline: float = math.inf  # time.monotonic() after which Operon is not started (and by which it stops)
    answered: Callable[[list], bool] | None = None  # whether formulas of the whole include an answer: Operon is then spared


def solve(problem: oracle.Problem, settings: Settings, rng: np.random.Generator, depth: int = 0) -> list:
    """The part's formulas worth combining, the likeliest first: the simplest within reach of the
    network's error as it reaches the piece (see ``within``), simplest first (a law and its
    lookalikes are all there: only the whole law and the data tell them apart), then the few most
    promising of the front (see pareto.promising)."""
    X = problem.sample(POINTS, rng)
    y = problem.function(X)
    names = [f"z{k}" for k in range(len(problem.columns))]
    found, laws = searched(problem, settings, rng, depth, X, y)
    items = pareto.scored(found + laws, names, X, y)
    if not items:
        return []
    reach = max(within(settings, problem, y), 3 * min(s.error for s in items))
    good = sorted((s for s in items if s.error <= reach), key=lambda s: (s.complexity, s.error))[:PASSED]
    best = pareto.promising(items, KEEP, within(settings, problem, y))
    return list({to_text(s.expr): s.expr for s in good + best}.values())  # the same formula found twice is one


def within(settings: Settings, problem: oracle.Problem, y: np.ndarray) -> float:
    """The relative error a formula for a piece need not beat: GOOD times the network's own error as
    it reaches the piece, as a share of the piece's spread (a slice that varies little is, relatively,
    the noisiest)."""
    return max(GOOD * settings.noise * problem.gain / (float(np.std(y)) or 1.0), 1e-4)


def candidates(problem: oracle.Problem, settings: Settings, rng: np.random.Generator) -> list:
    """Every formula the searches found for the whole problem, with constants fitted on its samples."""
    X = problem.sample(POINTS, rng)
    found, laws = searched(problem, settings, rng, 0, X, problem.function(X))
    return found + laws


def searched(problem: oracle.Problem, settings: Settings, rng: np.random.Generator, depth: int,
             X: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    """What the searches found on the samples (X, y): sums, combined parts and Operon's trees, and
    apart from them the functions of polynomials."""
    names = [f"z{k}" for k in range(len(problem.columns))]
    found = term_search(X, y, names, problem.box) + polynomials(X, y, names)
    if len(names) > 1:  # of one input, the enumeration has the short quotients
        found += rational.search(X, y, names, within(settings, problem, y))
    laws = transformed(X, y, names, within(settings, problem, y))
    if len(names) == 1:  # one input: every short formula is tried, such as sin(z0**2)*cos(z0)
        laws += enumeration.search(X[:, 0], y, symbols(names)[0], within(settings, problem, y))
    split = oracle.split(problem, settings.noise, rng) if depth < MAX_DEPTH else None
    if split is not None:
        parts = [solve(part, settings, rng, depth + 1) for part in split.parts]
        whole = combined(split, parts, names, X, y, within(settings, problem, y))
        # a sum's or a product's parts were fitted apart: the whole refits them
        found += whole if split.how in ("drop", "merge") else [constants.refit(expr, names, X, y) for expr in whole]
    items = pareto.scored(found + laws, names, X, y)
    best = min((s.error for s in items), default=float("inf"))
    if depth == 0 and settings.answered is not None:  # the whole: Operon only where the quick searches have no answer
        close = sorted((s for s in items if s.error <= within(settings, problem, y)), key=lambda s: s.complexity)
        needed = not settings.answered([s.expr for s in close[:ANSWERS_CHECKED]])
    else:  # the whole, or a piece the quick searches miss
        needed = depth == 0 or best > within(settings, problem, y)
    if needed:
        found += direct_search(X, y, names, settings, rng)  # Operon fits its constants itself
    return found, laws


def combined(split: oracle.Split, solutions: list[list], names: list[str], X: np.ndarray, y: np.ndarray,
             reach: float) -> list:
    """The parts' formulas put back into the problem's placeholders, combined as the split says; of
    a sum's or a product's pairs, the COMBINED likeliest on the samples (X, y) of the whole (see ``likeliest``)."""
    placed = [[expr.xreplace(dict(zip(oracle.placeholders(len(part.columns)), part.columns))) for expr in exprs]
              for part, exprs in zip(split.parts, solutions)]
    if split.how in ("drop", "merge"):
        factors = split.factors or (None,) * len(placed)
        return [expr if factor is None else expr * factor for exprs, factor in zip(placed, factors) for expr in exprs]
    join = (lambda a, b: a + b - split.reference) if split.how == "sum" else (lambda a, b: a * b / split.reference)
    return [join(placed[0][i], placed[1][j]) for i, j in likeliest(split.how, placed, names, X, y, reach)]


def likeliest(how: str, placed: list[list], names: list[str], X: np.ndarray, y: np.ndarray, reach: float) -> list:
    """Pairs (i, j) of the two parts' formulas worth refitting as a whole: every pair is measured on
    the whole's samples with its one overall constant fitted in closed form (a sum's offset, a
    product's scale); the simplest pairs within ``reach`` (relative error) or three times the closest
    pair's error first, then the closest."""
    values = [[column(expr, names, X) for expr in exprs] for exprs in placed]
    sizes = [[complexity(expr) for expr in exprs] for exprs in placed]
    spread = float(np.std(y)) or 1.0
    scored = []
    for (i, a), (j, b) in itertools.product(enumerate(values[0]), enumerate(values[1])):
        if a is None or b is None:
            continue
        joined = a + b if how == "sum" else a * b
        fitted = joined + np.mean(y - joined) if how == "sum" else joined * (joined @ y) / ((joined @ joined) or 1.0)
        error = float(np.sqrt(np.mean((fitted - y) ** 2))) / spread
        if np.isfinite(error):
            scored.append((error, sizes[0][i] + sizes[1][j], i, j))
    close = sorted(scored)
    reach = max(reach, 3 * close[0][0]) if close else reach  # parts' errors add up: the best pair sets the scale
    simple = sorted((size, error, i, j) for error, size, i, j in scored if error <= reach)
    pairs = [(i, j) for *_, i, j in simple[:COMBINED]] + [(i, j) for *_, i, j in close[:CLOSEST]]
    return list(dict.fromkeys(pairs))


def column(expr, names: list[str], X: np.ndarray) -> np.ndarray | None:
    """The formula on rows X (None where it fails or is not finite)."""
    try:
        with np.errstate(all="ignore"):
            value = np.broadcast_to(np.asarray(evaluator(expr, names)(X), dtype=np.float64), (len(X),))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError, KeyError):
        return None
    return value if np.all(np.isfinite(value)) else None


def term_search(X: np.ndarray, y: np.ndarray, names: list[str], box) -> list:
    """The sparse term search's best sum of each size, as sympy expressions."""
    if np.std(y) == 0:
        return []
    library = terms.library(names, list(box))
    A = terms.columns(library, X)
    usable = np.isfinite(A).all(axis=0) & (A.std(axis=0) > 1e-12 * (1 + np.abs(A).max(axis=0)))
    library, A = [t for t, ok in zip(library, usable) if ok], A[:, usable]
    found = []
    for support, _ in sparse.best_per_size(sparse.Scorer(*sparse.standardize(A, y))).values():
        fit = sparse.refit(A, y, support)
        text = format_sum([library[i].text for i in support], fit.coef, fit.intercept)
        try:
            found.append(from_text(text, names))
        except ValueError:
            continue
    return found


def polynomials(X: np.ndarray, y: np.ndarray, names: list[str]) -> list:
    """Least-squares polynomials of every degree up to DEGREES (their zero terms go when constants
    are recognized): the sparse search's greedy beam can miss x + x**2 + x**3 among its lookalikes."""
    found = []
    for coef, powers, _ in polynomial_fits(X, y):
        found += [polynomial_expr(coef, powers, names)] + exact_polynomial(coef, powers, names)
    return found


def exact_polynomial(coef: np.ndarray, powers: list, names: list[str]) -> list:
    """The polynomial with its coefficients taken to simple constants, when each has one: a law's
    x**5 + x**4 + ... is then a candidate as it is, without a refit per coefficient."""
    import sympy

    exact = constants.snapped(coef)
    if exact is None:
        return []
    syms = symbols(names)
    return [sympy.Add(*[c * sympy.Mul(*[syms[i] for i in p]) for c, p in zip(exact, powers)])]


def polynomial_fits(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> list[tuple]:
    """(coefficients, monomials as tuples of column indices, prediction) per degree 1, 2, ..., by
    least squares with a weight per row (none: all equal)."""
    w = np.ones(len(X)) if weights is None else weights
    fits, powers = [], [()]
    for degree in range(1, DEGREES.get(X.shape[1], 2) + 1):
        powers += list(itertools.combinations_with_replacement(range(X.shape[1]), degree))
        A = np.column_stack([np.prod(X[:, list(p)], axis=1) if p else np.ones(len(X)) for p in powers])
        coef = np.linalg.lstsq(A * w[:, None], y * w, rcond=None)[0]
        fits.append((coef, list(powers), A @ coef))
    return fits


def polynomial_expr(coef: np.ndarray, powers: list, names: list[str]):
    import sympy

    syms = symbols(names)
    return sympy.Add(*[sympy.Float(float(c)) * sympy.Mul(*[syms[i] for i in p]) for c, p in zip(coef, powers)])


def transforms():
    """AI Feynman's trick: a law that is a function of a polynomial (exp(-x**2/2), 1/sqrt(1 - u**2),
    log((x + 1)*(x**2 + 1))) is a polynomial once that function is undone. name -> (whether it applies
    to targets y, the transform T, the weight 1/|T'(y)| that makes the polynomial's least squares
    those of y itself (log y of a small y is not to be fitted as closely as of a large one), and the
    inverse in NumPy and in sympy; exp(c + p) is written e^c*exp(p),
    so the factor in front can be recognized: 1/sqrt(2*pi), not exp(-0.9189))."""
    import sympy

    return {
        "log": (lambda y: np.all(y > 0), np.log, lambda y: y, np.exp,
                lambda p: sympy.exp(p.as_coeff_Add()[0]) * sympy.exp(p.as_coeff_Add()[1])),
        "exp": (lambda y: np.ptp(y) < 30, np.exp, lambda y: np.exp(-y), np.log, sympy.log),
        "1/y": (lambda y: np.all(y > 0) or np.all(y < 0), lambda y: 1 / y, lambda y: y**2, lambda p: 1 / p,
                lambda p: 1 / p),
        "1/y**2": (lambda y: np.all(y > 0), lambda y: 1 / y**2, lambda y: np.abs(y) ** 3, lambda p: 1 / np.sqrt(p),
                   lambda p: outside(p, lambda q: 1 / sympy.sqrt(q))),
        "y**2": (lambda y: np.all(y > 0), np.square, lambda y: 1 / y, np.sqrt, lambda p: outside(p, sympy.sqrt)),
    }


def outside(polynomial, root):
    """root(c + q) as root(c)*root(1 + q/c) for a positive constant term c: 1/sqrt(1 - u**2)'s
    polynomial is fitted as c - c*u**2, and only the form with 1 in it shows its numbers as 1 and -1."""
    c, rest = polynomial.as_coeff_Add()
    return root(c) * root(1 + rest / c) if c > 0 else root(polynomial)


def transformed(X: np.ndarray, y: np.ndarray, names: list[str], tolerance: float) -> list:
    """Per transform that applies, the polynomials of the lowest degree that puts y back within
    ``tolerance`` and of one degree more (the network's error can hide a term), else the closest, as
    formulas for y."""
    found = []
    for applies, forward, weight, back, back_sympy in transforms().values():
        if np.std(y) == 0 or not applies(y):
            continue
        with np.errstate(all="ignore"):
            target, weights = forward(y), weight(y)
            if not (np.all(np.isfinite(target)) and np.all(np.isfinite(weights))):
                continue
            fits = [(pareto.relative_error(y, back(prediction)), coef, powers)
                    for coef, powers, prediction in polynomial_fits(X, target, weights / weights.max())]
        within = [k for k, fit in enumerate(fits) if fit[0] <= tolerance]
        chosen = fits[within[0]:within[0] + 2] if within else [min(fits, key=lambda fit: fit[0])]
        for _, coef, powers in chosen:
            found += [back_sympy(p) for p in [polynomial_expr(coef, powers, names)] + exact_polynomial(coef, powers, names)]
    return found


def direct_search(X: np.ndarray, y: np.ndarray, names: list[str], settings: Settings, rng) -> list:
    """Operon's formulas, its seeds sharing what is left of the time until the deadline (none when under a second)."""
    left = settings.deadline - time.monotonic()
    if not settings.operon or np.std(y) == 0 or left < 1.0:
        return []
    return operon.search(X, y, names, seed=int(rng.integers(1 << 30)), restarts=settings.restarts,
                         evaluations=settings.evaluations, seconds=min(operon.SECONDS, left / settings.restarts))
