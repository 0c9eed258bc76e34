"""A dataset in memory, and its split into train / validation / test.

Every source (formula, CSV, IDX, example) ends here: float64 NumPy arrays plus the names that the
run folder and ``predict`` need. Tensors are made from it once, on the device, by the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Below this many examples, holding out a validation and test split would leave too little to
# learn from (seed 002 has 10 points): train on everything and say so.
MIN_EXAMPLES_TO_SPLIT = 50


@dataclass
class Dataset:
    name: str  # short name for the run folder: example name, file stem, or "formula"
    X: np.ndarray  # [n, inputs] float64 (images flattened, raw pixel values)
    Y: np.ndarray  # [n, outputs] float64 for regression; [n] int64 class index for classification
    inputs: list[str]  # input names (formula variables, CSV feature columns, pixel names)
    outputs: list[str]  # output names (formula expressions, CSV target columns, "label")
    task: str = "regress"  # "regress" or "classify"
    classes: list | None = None  # class labels in index order, for classification
    formula: str | None = None  # the formula text when the truth is known (for plots and fresh checks)
    domain: dict[str, tuple[float, float]] | None = None  # sampling box per input, for formula runs
    image_shape: tuple[int, ...] | None = None  # (h, w) when inputs are pixels
    notes: list[str] = field(default_factory=list)  # facts about the data worth telling the user
    test: tuple[np.ndarray, np.ndarray] | None = None  # a fixed test set (IDX t10k files), else split off


@dataclass
class Split:
    train: np.ndarray  # indices into the dataset
    val: np.ndarray
    test: np.ndarray
    held_out: bool  # False when everything is training data (tiny datasets)


def split_indices(n: int, val_fraction: float, test_fraction: float, seed: int, has_test: bool = False) -> Split:
    """Shuffle once with the run's seed and cut; tiny sets are not split at all."""
    everything = np.arange(n)
    if n < MIN_EXAMPLES_TO_SPLIT:
        return Split(everything, everything, everything, held_out=False)
    order = np.random.default_rng(seed).permutation(n)
    n_test = 0 if has_test else max(1, int(round(n * test_fraction)))
    n_val = max(1, int(round(n * val_fraction)))
    test, val, train = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    return Split(np.sort(train), np.sort(val), np.sort(test), held_out=True)
