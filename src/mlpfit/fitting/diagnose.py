"""The pitfall checks: each finding has a code, a message about this run, and a hint to fix it."""

from __future__ import annotations

import math

import numpy as np

from mlpfit.config.defaults import DEFAULT_LR
from mlpfit.fitting.diagnose_curves import verdicts
from mlpfit.fitting.diagnose_jumps import jumps
from mlpfit.fitting.diagnose_target import singular_target, steep_target
from mlpfit.fitting.diagnostic import Diagnostic
from mlpfit.fitting.metrics import r2_per_output
from mlpfit.network.equation import is_linear


def suggest_lr(lr: float, optimizer: str | None = None) -> float:
    """A decade below the failed rate, and no more than the optimizer's usual default."""
    return min(float(f"{lr / 10:.0e}"), DEFAULT_LR.get(optimizer, math.inf))


def divergence(history, lr: float, optimizer: str) -> Diagnostic | None:
    if not history.diverged:
        return None
    return Diagnostic(
        "diverged",
        f"training diverged at epoch {history.diverged_at}: the loss became NaN, inf or exploded "
        f"with --lr {lr:g} ({optimizer})",
        f"use a smaller learning rate, e.g. --lr {suggest_lr(lr, optimizer):g}",
        severity="error",
    )


def after_training(*, history, config) -> list[Diagnostic]:
    checks = [divergence(history, config.train.lr, config.train.optimizer)]
    return [d for d in checks if d is not None]


# ---------------------------------------------------------------- before training (cheap checks on the data)

# Where each output activation's values can lie: (lowest, highest). Names not listed are unbounded.
OUTPUT_RANGES = {
    "gelu": (-0.17, math.inf),  # min of x·Φ(x) is about -0.170 (seed 004's lesson)
    "silu": (-0.278, math.inf),  # min of x·σ(x)
    "relu": (0.0, math.inf),
    "softplus": (0.0, math.inf),
    "elu": (-1.0, math.inf),
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
}
LARGE_SCALE = 10.0  # beyond this |value| or spread, unscaled data slows or breaks training (seed 003)
UNEVEN_SCALE = 100.0  # ratio between the largest and smallest input spread
NONLINEAR_GAP = 0.1  # a nearest-neighbour fit beats the best straight-line fit by this much R²
REFERENCE_ROWS = 1000  # subsample for the nonlinearity check: an O(n²) distance matrix stays ~10 ms
# With more inputs than this, nearest neighbours among 1,000 rows say little (every point is far
# from every other) and the straight-line fit costs seconds: the check is skipped.
REFERENCE_MAX_INPUTS = 32


def before_training(*, config, X, Y, task, x_scaler, y_scaler, parameters, outputs=None,
                    rows=None, domain=None) -> list[Diagnostic]:
    """Checks on the training data and the model's shape, before any step is taken.

    X, Y are raw data and ``rows`` the training split's indices (None: all of them); the scalers
    give the units the network sees; ``domain`` is a formula's sampling box (None for other sources).
    Image-size inputs are only copied when a check needs them.
    """
    m = config.model
    rows = np.arange(len(X)) if rows is None else np.asarray(rows)
    per_example = len(outputs or []) if task == "regress" else int(np.max(Y[rows])) + 1 if len(rows) else 1
    # With held-out rows the learning curves show memorization (overfit, with these numbers); only
    # without them is the count of examples against parameters all there is to go on.
    checks = [few_samples(len(rows), parameters, max(1, per_example), config.model.hidden, X.shape[1],
                          max(1, per_example), sampled=domain is not None)] if len(rows) == len(X) else []
    if not config.data.scale:
        X_train = X[rows]
        checks += [large_scale("inputs", X_train, "--no-scale"), uneven_inputs(X_train)]
    if task == "regress":
        Y_train = np.asarray(Y[rows], np.float64)
        seen_Y = y_scaler.transform(Y_train)
        if not config.data.scale:
            checks.append(large_scale("targets", Y_train, "--no-scale"))
        checks.append(output_range(m.output_activation, seen_Y, config.data.scale, outputs))
        if domain is not None:  # a formula: noise-free, so a hard-to-follow target is the function's doing
            checks += formula_checks(config, X[rows], Y_train, seen_Y, x_scaler, domain, outputs)
        wide = X.shape[1] > REFERENCE_MAX_INPUTS
        if not wide and is_linear([X.shape[1], *m.hidden, Y.shape[1]], m.activation, m.output_activation):
            some = _subsample(len(rows), config.train.seed)  # scaling all of a large set costs more than the check
            seen_X = x_scaler.transform(np.asarray(X[rows[some]], np.float64))
            checks.append(linear_on_nonlinear(seen_X, seen_Y[some]))
    return [d for d in checks if d is not None]


def formula_checks(config, X_train, Y_train, seen_Y, x_scaler, domain, outputs) -> list[Diagnostic | None]:
    """A pole in the domain explains everything else about the target; else, is it sampled densely enough?"""
    singular = singular_target(X_train, Y_train, domain, outputs)
    if singular is not None:
        return [singular]
    seen_X = x_scaler.transform(np.asarray(X_train, np.float64))
    return [steep_target(seen_X, seen_Y, config.data.samples or len(X_train), neighbour_r2),
            formula_jumps(config, domain, outputs)]


def formula_jumps(config, domain: dict, outputs) -> Diagnostic | None:
    """diagnose_jumps.jumps on the fit's formula (None for a named example's points: no formula to scan)."""
    from mlpfit.data.sources.formula import parse_formula
    from mlpfit.errors import FormulaError

    try:
        formula = parse_formula(config.data.target)
    except (FormulaError, TypeError):
        return None
    if not set(formula.inputs) <= set(domain):
        return None
    return jumps(formula, domain, outputs, config.train.seed)


def few_samples(n: int, parameters: int, values_per_example: int = 1, hidden=None, inputs: int = 1,
                outputs: int = 1, sampled: bool = False) -> Diagnostic | None:
    """Fewer training values than parameters. An example carries one value per output (or per
    class score), so 54,000 images of 10 classes constrain a 110,000-parameter net well enough."""
    if n * values_per_example >= parameters:
        return None
    width = fitting_width(n * values_per_example, inputs, outputs)
    smaller = f" or a net with fewer parameters than values (--hidden {width})" if width and [width] != hidden else ""
    return Diagnostic(
        "few_samples",
        f"{n} training examples for {parameters} parameters: the net can memorize them, "
        "so a good training score says little about new points",
        (f"sample more points (--samples {max(4 * n, 100)})" if sampled else "use more examples") + smaller,
        evidence={"examples": n, "values": n * values_per_example, "parameters": parameters},
    )


def fitting_width(values: int, inputs: int, outputs: int) -> int:
    """The widest single hidden layer with fewer parameters than ``values`` (0: none fits)."""
    return max(0, (values - 1 - outputs) // (inputs + 1 + outputs))


def large_scale(what: str, values, option: str) -> Diagnostic | None:
    values = np.asarray(values)  # no float copy: pixels may be a large uint8 array
    biggest, spread = float(np.abs(values).max()), float(values.std(axis=0).max())
    if biggest <= LARGE_SCALE and spread <= LARGE_SCALE:
        return None
    return Diagnostic(
        f"large_{what}",
        f"{what} reach {biggest:.4g} (spread {spread:.4g}) and are fed to the network unscaled ({option}): "
        "tanh/sigmoid units saturate and gradient steps are uneven",
        f"drop {option} so {what} are standardized (mean 0, std 1)",
    )


def uneven_inputs(X) -> Diagnostic | None:
    std = np.asarray(X).std(axis=0)
    std = std[std > 0]  # a constant column (a blank pixel) carries nothing to scale
    if len(std) < 2 or std.max() / std.min() <= UNEVEN_SCALE:
        return None
    return Diagnostic(
        "uneven_inputs",
        f"input spreads differ {std.max() / std.min():.3g}-fold (std {std.min():.3g} to {std.max():.3g}) "
        "under --no-scale: "
        "one learning rate cannot suit all weights",
        "drop --no-scale so every input is standardized",
    )


def output_range(activation: str, seen_Y, scaled: bool, outputs=None) -> Diagnostic | None:
    """Seed 004: an output activation whose values cannot reach the targets the network sees."""
    lo, hi = OUTPUT_RANGES.get(activation, (-math.inf, math.inf))
    seen_Y = np.asarray(seen_Y, np.float64)
    outside = ((seen_Y < lo) | (seen_Y > hi)).mean(axis=0)
    if not outside.any():
        return None
    k = int(np.argmax(outside))  # the output it fails worst, named so the user sees which one
    name = outputs[k] if outputs else f"output {k + 1}"
    bound = f"below {lo:g}" if math.isinf(hi) else f"outside ({lo:g}, {hi:g})"
    units = "standardized" if scaled else "raw (--no-scale)"
    return Diagnostic(
        "output_range",
        f"--output-activation {activation} cannot output values {bound}, but {outside[k]:.0%} of the "
        f"targets of {name!r} ({units}, {seen_Y[:, k].min():.4g} to {seen_Y[:, k].max():.4g}) are there",
        "use --output-activation identity (the default): no activation on the output layer",
    )


def _subsample(n: int, seed: int) -> np.ndarray:
    if n <= REFERENCE_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, REFERENCE_ROWS, replace=False))


def linear_on_nonlinear(seen_X, seen_Y) -> Diagnostic | None:
    """Seed 003: a net without nonlinearity is a straight-line fit; is the target one?

    Give at most a few thousand rows: the reference compares every pair of them.
    """
    linear, reference = linear_r2(seen_X, seen_Y), neighbour_r2(seen_X, seen_Y)
    if reference - linear <= NONLINEAR_GAP:
        return None
    return Diagnostic(
        "nonlinear_target",
        f"the model is linear (no hidden layer or identity activations) but the target is nonlinear: "
        f"the best straight-line fit reaches R² {linear:.3f}, a nearest-neighbour fit {reference:.3f}",
        "add an activation between hidden layers, e.g. --hidden 64,64 --activation tanh",
    )


def linear_r2(X, Y) -> float:
    """R² (mean over outputs) of the least-squares affine fit: the best any linear net can do."""
    A = np.hstack([X, np.ones((len(X), 1))])
    coef, *_ = np.linalg.lstsq(A, Y, rcond=None)
    return _mean_r2(Y, A @ coef)


def neighbour_r2(X, Y, k: int = 5) -> float:
    """Leave-one-out R² of k-nearest-neighbour averaging: a cheap nonlinear reference (no training)."""
    k = min(k, len(X) - 1)
    if k < 1:
        return -math.inf
    sq = (X * X).sum(axis=1)
    d = sq[:, None] + sq[None, :] - 2 * X @ X.T  # |a-b|² without an n×n×inputs array
    np.fill_diagonal(d, np.inf)
    nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
    return _mean_r2(Y, Y[nearest].mean(axis=1))


def _mean_r2(Y, pred) -> float:
    return float(np.mean(r2_per_output(Y, pred)))


# ---------------------------------------------------------------- after evaluation (scores and curves)


def after_evaluation(summary: dict, history=None, config=None) -> list[Diagnostic]:
    """Underfit or overfit from the learning curves and scores; skipped when an earlier finding explains them."""
    known = {d["code"] for d in summary["diagnostics"]}
    if known & {"diverged", "nonlinear_target", "output_range", "singular_target"}:
        return []
    return verdicts(summary, history, config)
