"""Limits shared by what ``fit`` accepts and what the readers of a run folder accept.

A run folder may be edited and its manifest recomputed; its content must then still be something
a fit could have written, or a reader would build what no fit asked for (a million classes, an
image of 20,000 x 20,000 pixels to draw). So both sides take their limits from here.
"""

from __future__ import annotations

MAX_CLASSES = 1000  # a classifier with more labels than this is almost always an ID column taken for a label
MAX_IMAGE_SIDE = 4096  # pixels along one side of an input image
MAX_IMAGE_PIXELS = 512 * 512  # pixels per image: 9x MNIST's 28x28 is still a fast MLP; the report draws 40 of them
MAX_COLUMNS = 10_000  # columns of a table: wider ones are not tables an MLP learns from a CSV


def image_shape_problem(shape) -> str | None:
    """Why ``shape`` is no image shape mlpfit fits (None when it is one): two sides of 1..MAX_IMAGE_SIDE pixels."""
    if not (isinstance(shape, (list, tuple)) and len(shape) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_IMAGE_SIDE for s in shape)):
        return f"is not two image sides of 1 to {MAX_IMAGE_SIDE} pixels"
    if shape[0] * shape[1] > MAX_IMAGE_PIXELS:
        return f"has {shape[0]} x {shape[1]} pixels, more than the {MAX_IMAGE_PIXELS} per image mlpfit fits"
    return None
