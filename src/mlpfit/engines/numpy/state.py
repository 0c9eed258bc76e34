"""Checks for what the NumPy engine reads back (a checkpoint, a warm start, saved moments).

A checkpoint is a file: it may be old, truncated or hostile. Every value is checked against the
model before anything is taken, and anything wrong is a ValueError naming it (never a crash, a
silent broadcast, or a half-loaded engine).
"""

from __future__ import annotations

import numpy as np


def field(state, name: str):
    if not isinstance(state, dict) or name not in state:
        raise ValueError(f"the engine state has no {name!r}")
    return state[name]


def numeric_array(value, shape: tuple, what: str, dtype=np.float32) -> np.ndarray:
    """``value`` as a ``dtype`` array of exactly ``shape`` (a copy)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} is not an array: {err}") from None
    if array.shape != tuple(shape) or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{what} has shape {array.shape} ({array.dtype}), expected {tuple(shape)}")
    return array.astype(dtype, copy=True)


def count(value, what: str, upper: int | None = None) -> int:
    """A non-negative int (below ``upper`` when given)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0 \
            or (upper is not None and value >= upper):
        bound = "" if upper is None else f" below {upper}"
        raise ValueError(f"{what} {value!r} is not a count{bound}")
    return int(value)


def member_list(value, members: int, what: str) -> list:
    if not isinstance(value, (list, tuple)) or len(value) != members:
        got = len(value) if isinstance(value, (list, tuple)) else type(value).__name__
        raise ValueError(f"{got} {what} for {members} members")
    return list(value)


def rng_state(saved, what: str) -> dict:
    """A numpy bit generator's state that a fresh PCG64 accepts."""
    probe = np.random.default_rng(0).bit_generator
    try:
        probe.state = saved
    except (TypeError, ValueError, KeyError, OverflowError) as err:
        raise ValueError(f"{what} is not a random generator state: {err}") from None
    return probe.state
