"""Drawing training points for a formula: uniform over a box, seeded, checked for NaN/inf."""

from __future__ import annotations

import numpy as np

from mlpfit.errors import DataError, UsageError

DEFAULT_DOMAIN = (-1.0, 1.0)  # the unit box: a neutral default when the user names no domain


def resolve_domain(inputs, domain) -> dict[str, tuple[float, float]]:
    """One (lo, hi) per input: a single interval applies to all, a dict must name real variables."""
    if domain is None:
        return {name: DEFAULT_DOMAIN for name in inputs}
    if isinstance(domain, tuple):
        return {name: domain for name in inputs}
    unknown = [name for name in domain if name not in inputs]
    if unknown:
        raise UsageError(
            f"--domain names {unknown[0]!r}, which is not a variable of the formula: its variables are {', '.join(inputs)}"
        )
    missing = [name for name in inputs if name not in domain]
    if missing:
        raise UsageError(
            f"--domain gives no interval for {', '.join(missing)}: add e.g. {missing[0]}=-1:1, or give one LO:HI for all"
        )
    return {name: tuple(domain[name]) for name in inputs}


def sample_box(box: dict[str, tuple[float, float]], n: int, rng: np.random.Generator) -> np.ndarray:
    lows = np.array([box[name][0] for name in box])
    highs = np.array([box[name][1] for name in box])
    return lows + (highs - lows) * rng.random((n, len(box)))


def check_finite(X: np.ndarray, Y: np.ndarray, formula_text: str, box) -> None:
    """A formula undefined somewhere in the box (log(x) at x<0) cannot be learned there."""
    bad = ~np.isfinite(Y).all(axis=1)
    if bad.any():
        where = ", ".join(f"{name}={value:.4g}" for name, value in zip(box, X[bad][0]))
        share = bad.mean()
        # inf is an overflow (exp(1000*x)); NaN is a value outside the function's domain (log, sqrt of x < 0).
        overflow = np.isinf(Y[bad]).any() and not np.isnan(Y[bad]).any()
        fix = ("narrow --domain so its values stay finite, or scale the formula down" if overflow
               else "choose a --domain where it is defined, e.g. --domain 0.1:2 for log or sqrt")
        raise DataError(f"formula {formula_text!r} is not finite at {where} ({share:.1%} of the sampled points): {fix}")
    if np.abs(Y).max() > 1e30:
        raise DataError(
            f"formula {formula_text!r} reaches {np.abs(Y).max():.3g} on the domain: narrow --domain so values stay below 1e30"
        )
