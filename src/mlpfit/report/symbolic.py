"""``mlpfit explain RUN --symbolic``: a short formula for what the network computes, only if one fits.

The network is asked for its predictions at fresh points of the run's box (the sampling domain
of a formula run, the stored sample's range for a table); a sparse search over a library of terms
(report.terms) finds the shortest sum of a few terms that reproduces them (report.sparse); the
coefficients are rounded as far as the fit allows. The formula is printed in mlpfit's own grammar
and then scored as printed, by the formula parser, on other fresh points: against the network,
against the stored data, and against the true formula when the run has one. When no formula of at
most ``MAX_TERMS`` terms reaches R² 0.99 against the network, the readout says so and shows the
best one found with its R².
"""

from __future__ import annotations

import keyword
import math
import re
import time

import numpy as np

from mlpfit.data.sources.formula import CONSTANTS, FUNCTION_ARITY, parse_formula
from mlpfit.errors import UsageError
from mlpfit.network.equation import output_labels
from mlpfit.report import sparse, terms
from mlpfit.report.domain import training_box, truth_function

POINTS = 2000  # fresh points to fit on, and as many again to score on
SLACK = 0.25  # rounding may raise the unexplained variance (1 - R²) by this share of itself ...
FLOOR = 1e-6  # ... or by this much, whichever is larger: R² 0.999999 and 0.999998 are the same fit


def search(fitted, summary: dict, samples: dict | None, seed: int = 0) -> dict:
    """The symbolic readout as plain data: ``{"symbolic": {...}}`` plus one entry per output for several."""
    if fitted.task != "regress":
        raise UsageError("--symbolic reads a formula out of a regression run; this run classifies: "
                         "use `mlpfit explain RUN` for its layers and sensitivities")
    names = list(fitted.inputs)
    if len(names) > terms.MAX_INPUTS:
        raise UsageError(f"--symbolic searches formulas of at most {terms.MAX_INPUTS} inputs; this run has "
                         f"{len(names)}: use `mlpfit explain RUN` for its sensitivities instead")
    start = time.perf_counter()
    columns = names
    names = variable_names(columns)
    data_X, data_Y = stored_data(samples)
    box = training_box(summary, data_X if data_X is not None else np.zeros((1, len(names))))
    rng = np.random.default_rng(seed)
    X_fit, X_check = uniform(box, POINTS, rng), uniform(box, POINTS, rng)
    Y_fit, Y_check = fitted.predict(X_fit), fitted.predict(X_check)
    library = terms.library(names, box)
    A = terms.columns(library, X_fit)
    usable = np.isfinite(A).all(axis=0) & (A.std(axis=0) > 1e-12 * (1 + np.abs(A).max(axis=0)))
    library, A = [t for t, ok in zip(library, usable) if ok], A[:, usable]
    truth = truth_function(summary)
    true_Y = truth(X_check) if truth else None
    net_on_data = None if data_X is None else fitted.predict(data_X)
    outputs = []
    for k, output in enumerate(fitted.outputs):
        good_enough = sparse.GOOD_ENOUGH
        if net_on_data is not None:  # matching the net closer than it matches the data only fits its error
            good_enough = min(good_enough, 1 - 2 * (1 - sparse.r2_score(data_Y[:, k], net_on_data[:, k])))
        fit, _ = sparse.sparse_fit(A, Y_fit[:, k], good_enough)
        text = rounded_formula(fit, library, A, Y_fit[:, k])
        outputs.append(score(output, text, names, X_check, Y_check[:, k], data_X,
                             None if data_Y is None else data_Y[:, k], None if true_Y is None else true_Y[:, k]))
    seconds = time.perf_counter() - start
    facts = {"library": len(library), "points": POINTS, "tolerance": sparse.TOLERANCE,
             "max_terms": sparse.MAX_TERMS, "seconds": round(seconds, 3)}
    renamed = {new: old for new, old in zip(names, columns) if new != old}
    if renamed:  # a column such as "weight kg" is no formula variable: the formula says weight_kg
        facts["renamed"] = renamed
    result = {"symbolic": {**(outputs[0] if len(outputs) == 1 else combined(outputs)), **facts}}
    if len(outputs) > 1:
        result["symbolic_outputs"] = outputs
    return result


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


def uniform(box: list[tuple[float, float]], n: int, rng: np.random.Generator) -> np.ndarray:
    lows, highs = np.array(box).T
    return lows + (highs - lows) * rng.random((n, len(box)))


# ---------------------------------------------------------------- rounding and printing


def round_significant(value: float, digits: int) -> float:
    if value == 0 or not math.isfinite(value):
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def rounded_formula(fit: sparse.Fit, library: list[terms.Term], A: np.ndarray, y: np.ndarray) -> str:
    """The fit printed with as few significant digits as keep its R² (see SLACK and FLOOR)."""
    allowed = 1 - fit.r2 + max(SLACK * (1 - fit.r2), FLOOR)
    cols, spread = A[:, list(fit.support)], float(y.std()) or 1.0
    for digits in range(1, 9):  # at 8 significant digits rounding changes nothing that matters
        coef = np.array([round_significant(c, digits) for c in fit.coef])
        # The constant is rounded against the output's spread: 1e-5 on outputs of size 1 is 0.
        intercept = round(fit.intercept + float(np.mean(y - cols @ coef - fit.intercept)),
                          max(0, digits - 1 - math.floor(math.log10(spread))))
        if 1 - sparse.r2_score(y, cols @ coef + intercept) <= allowed:
            break
    return format_sum([library[i].text for i in fit.support], coef, intercept)


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


def score(output: str, text: str, names, X_check, y_check, data_X, data_y, true_y) -> dict:
    """R² of the printed formula against the network, the stored data and the truth."""
    r2 = lambda target, X: round(sparse.r2_score(target, evaluate(text, names, X)), 6)  # noqa: E731
    r2_model = r2(y_check, X_check)
    result = {"output": output, "formula": text, "r2_model": r2_model,
              "r2_data": None if data_X is None else r2(data_y, data_X),
              "terms": text.replace(" - ", " + ").count(" + ") + 1, "found": r2_model >= sparse.TOLERANCE}
    if true_y is not None:
        result["r2_truth"] = r2(true_y, X_check)
    return result


def combined(outputs: list[dict]) -> dict:
    """Several outputs as one readout: the formulas joined by commas (the grammar's several outputs),
    the worst R² of each kind, the terms summed."""
    worst = lambda key: None if any(o.get(key) is None for o in outputs) else min(o[key] for o in outputs)  # noqa: E731
    result = {"formula": ", ".join(o["formula"] for o in outputs), "r2_model": worst("r2_model"),
              "r2_data": worst("r2_data"), "terms": sum(o["terms"] for o in outputs),
              "found": all(o["found"] for o in outputs)}
    if all("r2_truth" in o for o in outputs):
        result["r2_truth"] = worst("r2_truth")
    return result


def format_text(result: dict) -> str:
    """The readout for people: the formula per output, its R²s, and plainly whether it was found."""
    s = result["symbolic"]
    lines = [f"symbolic readout: a search over {s['library']} terms at {s['points']} fresh points "
             f"of the domain ({s['seconds']:.2f} s)"]
    outputs = result.get("symbolic_outputs") or [s]
    names = [*(result.get("inputs") or []), *(s.get("renamed") or {})]  # the formula's variables too
    labels = output_labels([o.get("output", "") for o in outputs], names)
    for k, o in enumerate(outputs):
        label = labels[k]
        if not o["found"]:
            lines.append(f"  {label}: no formula of at most {s['max_terms']} terms reaches R² {s['tolerance']} "
                         "against the network; the best found:")
        lines.append(f"  {label} ≈ {o['formula']}")
        r2s = [f"the network {o['r2_model']:.6f}"]
        if o.get("r2_data") is not None:
            r2s.append(f"the data {o['r2_data']:.6f}")
        if "r2_truth" in o:
            r2s.append(f"the true formula {o['r2_truth']:.6f}")
        lines.append(f"    R² against {', '.join(r2s)}; {o['terms']} term(s)")
    for new, old in (s.get("renamed") or {}).items():
        lines.append(f"  ({new} stands for the input {old!r}, whose name is no formula variable)")
    return "\n".join(lines)
