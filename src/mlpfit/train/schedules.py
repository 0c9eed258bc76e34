"""Learning-rate schedules: plain functions of (step, total steps) → multiplier of the peak rate.

No torch here, so the NumPy engine schedules its steps exactly as the torch engines do without
importing torch.
"""

from __future__ import annotations

import math


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


SCHEDULES = {"onecycle": onecycle, "cosine": cosine, "constant": constant}
