"""Learning-rate schedules: the multiplier of the peak rate at every optimizer step of a fit.

A schedule is a *shape* over one cycle, a plain function of (step, total steps of the cycle), run
once over the whole fit or, for ``twocycle``, once over each of its two cycles. No torch here, so the
NumPy engine schedules its steps exactly as the torch engines do without importing torch.
"""

from __future__ import annotations

import math
from typing import Callable

# twocycle's first cycle, as a share of the epochs. Measured by benchmarks/budget.py (test R², ten smooth
# functions, seeds 0-4, the default net and budget): after 40% of the steps the eight easy ones (x²+y²,
# sin(x)cos(y), the seeds' functions, ...) settle at 0.999955-0.999999, while the two hard ones (x·y·z,
# sin(3x)cos(2y): validation R² at most 0.99991 by then) get a second one-cycle over the other 60% and
# end at 0.999918-0.999983, where one long cycle ends (0.999915-0.999980).
FIRST_CYCLE = 0.4


def onecycle(step: int, total: int) -> float:
    # Linear warm-up over the first 10% from lr/25, then cosine down to lr/10,000:
    # the warm-up keeps the first large steps from wrecking a fresh init, the long tail polishes.
    warm = max(1, int(0.1 * total))
    if step < warm:
        return 0.04 + 0.96 * step / warm
    progress = min(1.0, (step - warm) / max(1, total - warm))
    return 1e-4 + (1 - 1e-4) * 0.5 * (1 + math.cos(math.pi * progress))


def cosine(step: int, total: int) -> float:
    return 1e-4 + (1 - 1e-4) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / total)))


def constant(step: int, total: int) -> float:
    return 1.0


# The shape of each schedule's cycles. twocycle: a one-cycle over the first 40% of the epochs, then
# another over the rest; a fit may settle after the first (train.callbacks.Settle), and one still improving
# at the end may train on (train.callbacks.TrainOn): past the epochs, the second cycle repeats.
SCHEDULES = {"onecycle": onecycle, "twocycle": onecycle, "cosine": cosine, "constant": constant}


def first_cycle_epochs(name: str, epochs: int) -> int | None:
    """The epochs of the first cycle when another follows it (twocycle), else None: the second cycle's
    first step is the next epoch's first."""
    if name != "twocycle" or epochs < 2:
        return None
    return min(epochs - 1, max(1, round(FIRST_CYCLE * epochs)))


def schedule(name: str, epochs: int, steps_per_epoch: int) -> Callable[[int], float]:
    """The multiplier of the peak rate at each step (counted from 0) of ``epochs`` passes of
    ``steps_per_epoch`` steps. A second cycle begins on an epoch's first step, so an epoch ends each; after
    the epochs, twocycle's second cycle starts over (a fit that trains on gets whole cycles)."""
    shape, total = SCHEDULES[name], max(1, epochs * steps_per_epoch)
    first = first_cycle_epochs(name, epochs)
    if first is None:
        return lambda step: shape(step, total)
    split = first * steps_per_epoch
    return lambda step: shape(step, split) if step < split else shape((step - split) % (total - split), total - split)
