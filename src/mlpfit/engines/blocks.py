"""A first hidden layer whose units each see one input (``model.input_units``): its weights' mask and their start.

Units ``j·N`` to ``j·N + N - 1`` of the first hidden layer see input ``j`` alone, so each input gets hidden units of
its own (a threshold of a number, the effect of a level) before the shared layers mix the inputs. The network stays
a plain MLP whose other first-layer weights are zeros: predict, the exports and the report need nothing of it. The
engines start the blocks as a one-input layer starts (uniform on ±1, torch's rule for fan-in 1) and hold the other
weights at zero by masking their gradient.
"""

from __future__ import annotations

import numpy as np

from mlpfit.errors import UsageError


def input_blocks(sizes: list[int], units: int) -> np.ndarray | None:
    """``[first hidden units, inputs]``: 1 where a unit sees its input, else 0; None for ``units`` 0."""
    if not units:
        return None
    inputs = sizes[0]
    if len(sizes) < 3 or sizes[1] != inputs * units:
        got = sizes[1] if len(sizes) > 2 else "none"
        raise UsageError(f"--input-units {units} needs a first hidden layer of {inputs} inputs x {units} = "
                         f"{inputs * units} units, got {got}: leave --hidden to the defaults, or use --input-units 0")
    mask = np.zeros((sizes[1], inputs))
    mask[np.arange(sizes[1]), np.arange(sizes[1]) // units] = 1.0
    return mask


def block_start(mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The first layer's starting weights (uniform on ±1 inside the blocks, zeros outside) and biases (uniform on ±1)."""
    return rng.uniform(-1.0, 1.0, mask.shape) * mask, rng.uniform(-1.0, 1.0, mask.shape[0])
