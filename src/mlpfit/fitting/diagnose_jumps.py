"""A formula that jumps inside its box (``floor(3*x) + x``, ``sign(x)``): found before training, by scanning it.

Every unit of a network is continuous, so a net cannot jump: it blurs each jump over a stretch and misses by
up to about half the jump next to it. floor(3x) + x on -1:1 reaches R² 0.998, which reads as a good fit,
while the points at the jumps are off by 0.57. The check walks lines across the box along each input, finds
steps between neighbouring points that are a large share of the output's spread, and halves each step's
interval until it is a hair wide: a continuous function's step shrinks with it, a jump keeps its size.
"""

from __future__ import annotations

import numpy as np

from mlpfit.fitting.diagnostic import Diagnostic

LINES = 8  # lines across the box per input, at random positions in the other inputs
GRID = 2001  # points per line
JUMP_SHARE = 0.05  # a step between neighbouring points of at least this share of the output's spread ...
HALVINGS = 40  # ... that keeps half of it over an interval 2^-40 of a grid step wide is a jump
MAX_CANDIDATES = 64  # steps followed per input and output (a jump shows on every line)


def jumps(formula, box: dict, outputs=None, seed: int = 0) -> Diagnostic | None:
    """A Diagnostic naming the largest jump of any output inside ``box`` (input name -> (lo, hi)), or None."""
    rng = np.random.default_rng(seed)
    bounds = np.array([box[name] for name in formula.inputs], dtype=np.float64)
    found = []  # (size, output index, input index, where)
    for i in range(len(bounds)):
        lines = line_points(bounds, i, rng)
        values = formula.numpy(lines.reshape(-1, len(bounds))).reshape(LINES, GRID, -1)
        for k in range(values.shape[2]):
            found += [(size, k, i, where) for size, where in jumps_along(formula, lines, values[..., k], k, i)]
    if not found:
        return None
    size, k, i, where = max(found, key=lambda jump: (round(jump[0], 9), -jump[3]))  # the largest, then the first
    name = outputs[k] if outputs else f"output {k + 1}"
    places = len({round(w, 3) for _, kk, ii, w in found if (kk, ii) == (k, i)})
    others = f" and at {places - 1} more place(s) along it" if places > 1 else ""
    return Diagnostic(
        "discontinuous_target",
        f"{name!r} jumps by {size:.3g} at {formula.inputs[i]} ≈ {where:.4g}{others}: a network's units are "
        "continuous, so it blurs each jump over a stretch and errs by up to about half the jump next to it, "
        "however good its R² is",
        "expect those errors at the jumps; more samples and a wider net narrow the blur "
        "(--samples 40000 --hidden 128,128), or fit the pieces between the jumps separately (--domain)",
        evidence={"output": name, "input": formula.inputs[i], "at": where, "jump": size, "places": places},
    )


def line_points(bounds: np.ndarray, i: int, rng) -> np.ndarray:
    """[LINES, GRID, inputs]: lines along input i across its interval, the other inputs at random."""
    lines = rng.uniform(bounds[:, 0], bounds[:, 1], (LINES, 1, len(bounds))).repeat(GRID, axis=1)
    lines[:, :, i] = np.linspace(bounds[i, 0], bounds[i, 1], GRID)
    return lines


def jumps_along(formula, lines: np.ndarray, values: np.ndarray, k: int, i: int) -> list[tuple[float, float]]:
    """(jump size, where along input i) for the steps of output k that keep their size when narrowed."""
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return []
    low, high = np.percentile(finite, [1, 99])
    spread, bound = float(high - low), 10 * float(np.abs(finite).max())
    if not spread > 0:
        return []
    with np.errstate(invalid="ignore"):
        steps = np.abs(np.diff(values, axis=1))
    line, at = np.nonzero(steps >= JUMP_SHARE * spread)
    order = np.argsort(-steps[line, at])[:MAX_CANDIDATES]
    if not len(order):
        return []
    left, right = lines[line[order], at[order]].copy(), lines[line[order], at[order] + 1].copy()
    with np.errstate(all="ignore"):
        for _ in range(HALVINGS):
            middle = (left + right) / 2
            f_left, f_mid, f_right = (formula.numpy(p)[:, k] for p in (left, middle, right))
            towards_left = np.abs(f_mid - f_left) >= np.abs(f_right - f_mid)
            right = np.where(towards_left[:, None], middle, right)
            left = np.where(towards_left[:, None], left, middle)
        f_left, f_right = formula.numpy(left)[:, k], formula.numpy(right)[:, k]
    size = np.abs(f_right - f_left)
    inside = (left[:, i] > lines[0, 0, i]) & (right[:, i] < lines[0, -1, i])  # a jump on the box's edge is never sampled across
    kept = inside & (size >= JUMP_SHARE * spread / 2) & (np.abs(f_left) <= bound) & (np.abs(f_right) <= bound)
    return [(float(s), float(w)) for s, w in zip(size[kept], left[kept, i])]
