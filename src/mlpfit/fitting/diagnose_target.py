"""Checks on a formula's sampled target, before training: a pole in the domain, or a function that
changes faster than the sampled points resolve.

``1/x`` on [-1, 1] is defined at every sampled point, so the finiteness check passes, but a few
samples next to x = 0 reach ±10⁴ and carry nearly all the variance: the net fits those few points
or nothing (the issue's run ended with R² -0.0006 and "train longer"). Said before training,
with the numbers and a domain that avoids the pole.
"""

from __future__ import annotations

import math

import numpy as np

from mlpfit.fitting.diagnostic import Diagnostic

DOMINANT_SHARE = 0.5  # the top 1% of samples carry more than this share of the target's variance
TAIL = 0.01
POLE_MARGIN = 0.05  # the suggested domain stays this share of the interval's width away from the pole
# A nearest-neighbour fit through the samples below this R²: they are too sparse. A net interpolates
# better than neighbour averages (sin(6x)·cos(6y) from 384 points: neighbours 0.88, a 64x64 net 0.985),
# so only a far lower score means the points miss the function's shape.
STEEP_R2 = 0.5
STEEP_MAX_ROWS = 1000  # the neighbour check compares every pair: above this many points it is skipped


def singular_target(X, Y, box: dict, outputs=None) -> Diagnostic | None:
    """A few samples dominating the variance: a pole or near-singular region inside the domain."""
    Y = np.asarray(Y, np.float64)
    for k in range(Y.shape[1]):
        y = Y[:, k]
        deviation = (y - y.mean()) ** 2
        total = deviation.sum()
        if len(y) < 100 or total <= 0:
            continue
        top = max(1, int(TAIL * len(y)))
        share = float(np.sort(deviation)[-top:].sum() / total)
        if share <= DOMINANT_SHARE:
            continue
        median = float(np.median(y))
        q1, q3 = np.percentile(y, [25, 75])
        worst = int(np.argmax(np.abs(y - median)))
        tail_ratio = float(abs(y[worst] - median) / max(q3 - q1, 1e-300))
        where = {name: float(X[worst, i]) for i, name in enumerate(box)}
        # every dominant sample, not only the worst: tan(x) on -2:2 has a pole on each side of 0
        dominant = [{name: float(X[row, i]) for i, name in enumerate(box)} for row in np.argsort(deviation)[-top:]]
        name = outputs[k] if outputs else f"output {k + 1}"
        return Diagnostic(
            "singular_target",
            f"{name!r} has a pole or near-singular region in the domain: the top {TAIL:.0%} of the samples "
            f"({top}) carry {share:.0%} of its variance, and its value {y[worst]:.4g} at "
            f"{', '.join(f'{n}={v:.3g}' for n, v in where.items())} lies {tail_ratio:.3g} interquartile ranges "
            f"from the median {median:.4g}: the net fits those few points or nothing",
            f"choose a domain that avoids it, e.g. --domain {avoiding_domain(box, where, dominant)}",
            evidence={"output": name, "top_share": round(share, 6), "top_samples": top, "tail_ratio": tail_ratio,
                      "median": median, "iqr": float(q3 - q1), "worst_value": float(y[worst]), "worst_at": where},
        )
    return None


def avoiding_domain(box: dict, where: dict, dominant: list[dict] | None = None) -> str:
    """The widest stretch of one input's interval that keeps clear of every dominant sample (the worst one,
    ``where``, and the rest of ``dominant``): the input narrowed is the one whose interval the worst point
    splits most evenly, the others keep theirs."""
    points = [where, *(dominant or [])]
    name = min(box, key=lambda n: abs(where[n] - sum(box[n]) / 2) / (box[n][1] - box[n][0]))
    lo, hi = clear_stretch(box[name], [p[name] for p in points])
    if len(box) == 1:
        return f"{lo:.2g}:{hi:.2g}"
    parts = [f"{n}={lo:.2g}:{hi:.2g}" if n == name else f"{n}={a:g}:{b:g}" for n, (a, b) in box.items()]
    return ",".join(parts)


def clear_stretch(interval: tuple[float, float], poles: list[float]) -> tuple[float, float]:
    """The widest sub-interval between the poles (and the ends), its bounds on a grid of POLE_MARGIN of the width
    and at least half a grid step from every pole (0.1, not 0.0999, next to a pole at 0); ties go to the right."""
    lo, hi = interval
    step = POLE_MARGIN * (hi - lo)
    stretches = []
    edges = [lo - step, *sorted(poles), hi + step]  # the ends are no poles: they bound the stretch as they are
    for left, right in zip(edges[:-1], edges[1:]):
        a = lo if left < lo else math.ceil((left + step / 2) / step) * step
        b = hi if right > hi else math.floor((right - step / 2) / step) * step
        if b > a:
            stretches.append((b - a, a, (a, b)))
    if not stretches:
        return interval
    return max(stretches)[2]


def steep_target(seen_X, seen_Y, samples: int, neighbour_r2) -> Diagnostic | None:
    """A noise-free target that a nearest-neighbour fit through the samples cannot follow: it changes
    faster than the points resolve, so the net cannot know it between them either."""
    if len(seen_X) > STEEP_MAX_ROWS or len(seen_X) < 10:
        return None
    r2 = neighbour_r2(seen_X, seen_Y)
    if r2 >= STEEP_R2:
        return None
    return Diagnostic(
        "steep_target",
        f"the target changes faster than {len(seen_X)} training points resolve: a 5-nearest-neighbour fit "
        f"through them reaches R² {r2:.3f} (below {STEEP_R2})",
        f"sample more points (--samples {4 * samples})",
        evidence={"points": len(seen_X), "neighbour_r2": round(r2, 6), "limit": STEEP_R2},
    )
