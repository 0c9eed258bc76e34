"""``mlpfit explain RUN --symbolic``: the law behind a regression run, as a short formula, only if one fits.

The fitted network is the oracle: asked at fresh points of the run's box (the sampling domain of a
formula run, the stored sample's range for a table), it is taken apart where it is a sum or a
product of simpler laws, or sees two inputs only as their ratio (report.oracle), and each piece is
searched by the sparse term search and, when pyoperon is installed, by genetic programming
(report.law_search). Every candidate's constants are refitted, then recognized (pi, e, sqrt(2*pi),
small fractions: report.constants) where the formula stays as good. Of the Pareto front of
complexity against error, the answer is the simplest formula that is as close to the data as the
network itself is (not closer to the network's own errors) and reaches R² 0.99 against it; when
none does, the readout says no formula was found and shows the front for what it is.

The formula is printed in mlpfit's own grammar and scored as printed, by the formula parser, on
other fresh points: against the network, against the stored data, and against the true formula
when the run has one.
"""

from __future__ import annotations

import keyword
import re
import time

import numpy as np

from mlpfit.data.sources.formula import CONSTANTS, FUNCTION_ARITY, parse_formula
from mlpfit.errors import UsageError
from mlpfit.network.equation import output_labels
from mlpfit.report import constants, expression, law_search, operon, oracle, pareto, sparse
from mlpfit.report.domain import training_box, truth_function

POINTS = 2000  # fresh points to fit on, and as many again to score on
TOLERANCE = sparse.TOLERANCE  # R² against the network an answer must reach
AS_GOOD = 1.5  # an answer's RMS error on the stored data may be this many times the network's own ...
NO_DATA_ERROR = 0.003  # ... or, for a run saved without its sample, this share of the output's spread
FRONT_SHOWN = 8  # Pareto-front members listed in the readout
MAX_INPUTS = 10  # inputs the search takes apart; beyond, a short formula is out of reach anyway
HELD_OUT_ENOUGH = 30  # test rows that measure the network's error well enough; with fewer, every stored row
NEGLIGIBLE = 1e-3  # a number below this share of the output's spread is tried as 0 when numbers are rounded
OPERON_UNTIL = 30.0  # seconds into the readout after which Operon is not run (shared by the outputs): with the
# fit, a run stays within a minute on two cores
RECOGNIZED = 4  # the simplest answers whose constants are tried as pi, e, fractions, ...
SHORT = 30  # nodes an answer may have (the longest law of the benchmarks has 22): beyond, "none found"
SLACK = 4  # nodes a longer answer may add over the simplest one ...
EARN = 3.0  # ... when its RMS error on the data is this many times smaller


def search(fitted, summary: dict, samples: dict | None, seed: int = 0, use_operon: bool | None = None) -> dict:
    """The symbolic readout as plain data: ``{"symbolic": {...}}`` plus one entry per output for several."""
    if fitted.task != "regress":
        raise UsageError("--symbolic reads a formula out of a regression run; this run classifies: "
                         "use `mlpfit explain RUN` for its layers and sensitivities")
    columns = list(fitted.inputs)
    if len(columns) > MAX_INPUTS:
        raise UsageError(f"--symbolic searches formulas of at most {MAX_INPUTS} inputs; this run has "
                         f"{len(columns)}: use `mlpfit explain RUN` for its sensitivities instead")
    start, begun = time.perf_counter(), time.monotonic()
    names = variable_names(columns)
    data_X, data_Y = stored_data(samples)
    held_X, held_Y = held_out(samples)
    box = training_box(summary, data_X if data_X is not None else np.zeros((1, len(names))))
    rng = np.random.default_rng(seed)
    X_fit, X_check = uniform(box, POINTS, rng), uniform(box, POINTS, rng)
    Y_fit, Y_check = fitted.predict(X_fit), fitted.predict(X_check)
    truth = truth_function(summary)
    true_Y = truth(X_check) if truth else None
    with_operon = operon.available() if use_operon is None else use_operon
    outputs = []
    renamed_placeholders = dict(zip(oracle.placeholders(len(names)), expression.symbols(names)))
    for k, output in enumerate(fitted.outputs):
        judge = Judge(names, X_check, Y_check[:, k], held_X, None if held_Y is None else held_Y[:, k],
                      None if held_X is None else fitted.predict(held_X)[:, k])
        problem = oracle.Problem(lambda X, k=k: fitted.predict(X)[:, k], tuple(expression.symbols(names)), tuple(box))
        settings = law_search.Settings(
            tolerance=judge.network_error, noise=judge.network_rms, operon=with_operon,
            deadline=begun + OPERON_UNTIL * (k + 1) / len(fitted.outputs),
            answered=lambda exprs: any(judge.answer(expr.xreplace(renamed_placeholders)) for expr in exprs))
        found = law_search.candidates(problem, settings, rng)
        found = [expr.xreplace(renamed_placeholders) for expr in found]
        answer, front = choose(found, names, X_fit, Y_fit[:, k], judge)
        outputs.append(score(output, answer, front, names, X_check, Y_check[:, k], data_X,
                             None if data_Y is None else data_Y[:, k], None if true_Y is None else true_Y[:, k]))
    seconds = time.perf_counter() - start
    facts = {"search": "oracle splits, terms and Operon" if with_operon else "oracle splits and terms",
             "points": POINTS, "tolerance": TOLERANCE, "seconds": round(seconds, 3)}
    renamed = {new: old for new, old in zip(names, columns) if new != old}
    if renamed:  # a column such as "weight kg" is no formula variable: the formula says weight_kg
        facts["renamed"] = renamed
    result = {"symbolic": {**(outputs[0] if len(outputs) == 1 else combined(outputs)), **facts}}
    if len(outputs) > 1:
        result["symbolic_outputs"] = outputs
    return result


class Judge:
    """Whether a formula is an answer: R² 0.99 against the network, and as close to the data as the
    network is (see AS_GOOD); without data, within NO_DATA_ERROR of the network."""

    def __init__(self, names, X_check, y_check, data_X, data_y, net_on_data):
        self.names, self.X_check, self.y_check = names, X_check, y_check
        self.data_X, self.data_y = data_X, data_y
        if data_X is None:  # no data: the network is taken as exact to a thousandth of its spread
            self.network_error, self.allowed = 0.0, None
            self.network_rms = 1e-3 * float(np.std(y_check))
        else:
            rms = float(np.sqrt(np.mean((net_on_data - data_y) ** 2)))
            self.network_rms, self.network_error = rms, rms / (float(np.std(data_y)) or 1.0)
            self.allowed = AS_GOOD * rms + 1e-12 * (1 + float(np.abs(data_y).max()))

    def data_error(self, expr) -> float | None:
        """The formula's RMS error on the stored rows (None without them, inf where it fails)."""
        if self.data_X is None:
            return None
        try:
            on_data = expression.evaluator(expr, self.names)(self.data_X)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError, KeyError):
            return float("inf")
        return float(np.sqrt(np.mean((on_data - self.data_y) ** 2))) if np.all(np.isfinite(on_data)) else float("inf")

    def answer(self, expr) -> bool:
        """Whether the formula is short (SHORT: a longer one is a fit, not a law read back) and passes."""
        return expression.complexity(expr) <= SHORT and self(expr)

    def __call__(self, expr) -> bool:
        try:
            function = expression.evaluator(expr, self.names)
            on_check = function(self.X_check)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError, KeyError):
            return False
        if np.std(self.y_check) == 0:  # a constant network: R² is undefined, equality is the test
            return bool(np.allclose(on_check, self.y_check, rtol=1e-9, atol=1e-12))
        if sparse.r2_score(self.y_check, on_check) < TOLERANCE:
            return False
        if self.allowed is None:
            return pareto.relative_error(self.y_check, on_check) <= NO_DATA_ERROR
        on_data = function(self.data_X)
        return bool(np.all(np.isfinite(on_data))) and float(np.sqrt(np.mean((on_data - self.data_y) ** 2))) <= self.allowed


def choose(found: list, names: list[str], X: np.ndarray, y: np.ndarray, judge: Judge):
    """The answer (None when no candidate is one) and the Pareto front, with constants recognized.

    Recognizing a constant only takes freedom away, so only answers can become simpler answers: the
    RECOGNIZED answers that would be simplest with every number recognized are tried, as they are and
    expanded (a polynomial's coefficients show only then), one number at a time with the others
    refitted; every answer is also tried with all its numbers rounded at once (cheap, no refit)."""
    import sympy

    items = pareto.scored(found, names, X, y)
    answers = sorted((s for s in items if judge(s.expr)), key=lambda s: s.complexity - len(constants.free_numbers(s.expr)))
    negligible = NEGLIGIBLE * (float(np.std(y)) or 1.0)
    recognized = [constants.recognize(form, names, X, y, judge)
                  for s in answers[:RECOGNIZED] for form in {s.expr, sympy.expand(s.expr)}]
    variants = recognized + [constants.rounded(e, negligible) for e in recognized + [s.expr for s in answers]]
    every = pareto.scored(variants, names, X, y) + items
    chosen = sorted((s for s in every if judge.answer(s.expr)), key=lambda s: (s.complexity, s.error))
    return simplest_earned(chosen, judge), pareto.front(every)


def simplest_earned(answers: list, judge: "Judge"):
    """The simplest answer (they come simplest first), unless one at most SLACK nodes longer is
    EARN times closer to the data: a law and its lookalikes are all within the network's error, but
    on exact or less noisy data than the network's error the law is far closer (m0/sqrt(1 - v**2/c**2)
    against m0*exp(1/cos(v/c) - 1), a node shorter)."""
    if not answers:
        return None
    best, best_error = answers[0], judge.data_error(answers[0].expr)
    for other in answers[1:]:
        if other.complexity > best.complexity + SLACK or best_error is None:
            break
        error = judge.data_error(other.expr)
        if error is not None and error * EARN < best_error:
            best, best_error = other, error
    return best.expr


def variable_names(columns: list[str]) -> list[str]:
    """The inputs' names as formula variables: a name the grammar cannot read (``weight kg``, ``2nd``,
    ``pi``, ``sin``, ``lambda``) becomes a plain one (``weight_kg``, ``x_2nd``, ``pi_``, ...), unique."""
    taken, names = set(), []
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]+", "_", column.strip()).strip("_") or "x"
        name = name if name[0].isalpha() and name.isascii() else f"x_{name}"
        if name in CONSTANTS or name in FUNCTION_ARITY or keyword.iskeyword(name):
            name += "_"
        while name in taken:
            name += "_"
        taken.add(name)
        names.append(name)
    return names


def stored_data(samples: dict | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Every stored row (train and test) in raw units, or (None, None) for a run saved without them."""
    if not samples or "train_X" not in samples:
        return None, None
    parts = [name for name in ("train", "test") if f"{name}_X" in samples and len(samples[f"{name}_X"])]
    X = np.concatenate([np.asarray(samples[f"{p}_X"], np.float64) for p in parts])
    Y = np.concatenate([np.asarray(samples[f"{p}_Y"], np.float64).reshape(len(samples[f"{p}_X"]), -1) for p in parts])
    return X, Y


def held_out(samples: dict | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The rows the network did not train on (its honest error), or every stored row when they are few."""
    if samples and len(samples.get("test_X", ())) >= HELD_OUT_ENOUGH:
        X = np.asarray(samples["test_X"], np.float64)
        return X, np.asarray(samples["test_Y"], np.float64).reshape(len(X), -1)
    return stored_data(samples)


def uniform(box: list[tuple[float, float]], n: int, rng: np.random.Generator) -> np.ndarray:
    lows, highs = np.array(box).T
    return lows + (highs - lows) * rng.random((n, len(box)))


# ---------------------------------------------------------------- scoring the printed formula


def evaluate(text: str, names: list[str], X: np.ndarray) -> np.ndarray:
    """The printed formula, parsed by mlpfit's formula parser, on rows of X (columns = ``names``)."""
    try:  # a network that computes a constant reads back as just that number (no variable to parse)
        return np.full(len(X), float(text))
    except ValueError:
        pass
    formula = parse_formula(text)
    columns = [names.index(name) for name in formula.inputs]
    return formula.numpy(X[:, columns])[:, 0]


def score(output: str, answer, front, names, X_check, y_check, data_X, data_y, true_y) -> dict:
    """The answer printed in the grammar, and R² of the printed text against the network, the stored
    data and the truth; the front as formulas with their complexity and R² against the network."""
    r2 = lambda text, target, X: round(sparse.r2_score(target, evaluate(text, names, X)), 6)  # noqa: E731
    shown = []
    for member in front[:FRONT_SHOWN]:
        text = expression.to_text(member.expr)
        shown.append({"formula": text, "complexity": member.complexity, "r2_model": r2(text, y_check, X_check)})
    result = {"output": output, "formula": None, "r2_model": None, "r2_data": None, "terms": 0, "found": False,
              "pareto": shown}
    if answer is None:
        return result
    text = expression.to_text(answer)
    result.update(formula=text, r2_model=r2(text, y_check, X_check), terms=terms_in(answer),
                  r2_data=None if data_X is None else r2(text, data_y, data_X), found=True,
                  complexity=expression.complexity(answer))
    if true_y is not None:
        result["r2_truth"] = r2(text, true_y, X_check)
    return result


def terms_in(expr) -> int:
    """Summands at the top of the formula: 3 for ``x**3 + x**2 + x``, 1 for a product."""
    import sympy

    return len(sympy.Add.make_args(expr))


def combined(outputs: list[dict]) -> dict:
    """Several outputs as one readout: the formulas joined by commas (the grammar's several outputs)
    when every output has one, the worst R² of each kind, the terms summed."""
    found = all(o["found"] for o in outputs)
    worst = lambda key: None if any(o.get(key) is None for o in outputs) else min(o[key] for o in outputs)  # noqa: E731
    result = {"formula": ", ".join(o["formula"] for o in outputs) if found else None,
              "r2_model": worst("r2_model"), "r2_data": worst("r2_data"), "terms": sum(o["terms"] for o in outputs),
              "found": found, "pareto": [p for o in outputs for p in o["pareto"]]}
    if all("r2_truth" in o for o in outputs):
        result["r2_truth"] = worst("r2_truth")
    return result


def format_text(result: dict) -> str:
    """The readout for people: the formula per output and its R²s, or plainly that none was found."""
    s = result["symbolic"]
    lines = [f"symbolic readout ({s['search']}, {s['points']} fresh points of the domain, {s['seconds']:.1f} s)"]
    outputs = result.get("symbolic_outputs") or [s]
    names = [*(result.get("inputs") or []), *(s.get("renamed") or {})]  # the formula's variables too
    labels = output_labels([o.get("output", "") for o in outputs], names)
    for k, o in enumerate(outputs):
        label = labels[k]
        if not o["found"]:
            lines.append(f"  {label}: none found: no formula on the front reaches R² {s['tolerance']} against the "
                         "network and the network's own accuracy on the data")
            lines += [f"    tried: {p['formula']}  (R² {p['r2_model']:.4f} against the network)" for p in o["pareto"][:4]]
            continue
        lines.append(f"  {label} = {o['formula']}")
        r2s = [f"the network {o['r2_model']:.6f}"]
        if o.get("r2_data") is not None:
            r2s.append(f"the data {o['r2_data']:.6f}")
        if "r2_truth" in o:
            r2s.append(f"the true formula {o['r2_truth']:.6f}")
        lines.append(f"    R² against {', '.join(r2s)}; {o['terms']} term(s)")
    for new, old in (s.get("renamed") or {}).items():
        lines.append(f"  ({new} stands for the input {old!r}, whose name is no formula variable)")
    return "\n".join(lines)
