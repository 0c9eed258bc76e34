"""A text column of many levels as few numbers: each level's mean target (target encoding).

One-hot needs one input per level; a 150-level district or a 68-level zip code would make the
network wide and each level's weights would learn from a handful of rows. Target encoding gives a
level the target's mean over its rows, shrunk towards the overall mean as its rows get fewer or
noisier (the empirical-Bayes weight of scikit-learn's ``TargetEncoder(smooth="auto")``), and
cross-fits: each training row is encoded from the other folds' rows, so a level's code never
includes the row's own target. Levels seen in fewer than ``RARE_ROWS`` rows are pooled into one
level first. What it learns is a table of numbers per level, kept as data with the encoding; an
unseen level gets the overall mean. Plain NumPy, so that a table fit's process never waits for
scikit-learn's import.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

RARE_ROWS = 3  # a level with fewer training rows shares one code with the other rare levels
POOLED = "\x00rare"  # the pooled level's name inside the encoder; not a text a cell can hold after stripping
FOLDS = 5  # cross-fitting folds: each training row's code comes from the other 80% of the rows
FOLD_SEED = 0  # which rows fall in which fold: fixed, so the same table gives the same codes


def fit_codes(texts: list[str], y: np.ndarray, task: str, targets: list[str], classes=None):
    """(codes per level, code for unseen levels, part names, cross-fitted codes of the training rows [n, parts])."""
    counts = Counter(texts)
    keys = np.array([POOLED if counts[t] < RARE_ROWS else t for t in texts], dtype=object)
    levels, index = np.unique(keys, return_inverse=True)
    if task == "regress":
        Y = np.asarray(y, dtype=np.float64).reshape(len(texts), -1)
        parts = ["target"] if Y.shape[1] == 1 else [f"target {name}" for name in targets]
        folds = _folds(len(texts), None)
    else:
        labels = np.asarray(y).reshape(-1)
        present = np.unique(labels)
        names = [str(c) for c in (classes if classes is not None else present)]
        binary = len(names) == 2
        Y = (labels[:, None] == (present[1:] if binary else present)[None, :]).astype(np.float64)
        parts = [f"p({names[1]})"] if binary else [f"p({name})" for name in names]
        folds = _folds(len(texts), labels)
    every = shrunk_means(index, Y, len(levels))
    train = np.empty_like(Y)
    for fold in range(FOLDS):
        held = folds == fold
        train[held] = shrunk_means(index[~held], Y[~held], len(levels))[index[held]]
    table = dict(zip(levels.tolist(), every.tolist()))
    codes = {level: table[POOLED if counts[level] < RARE_ROWS else level] for level in sorted(counts)}
    return codes, Y.mean(axis=0).tolist(), parts, train


def shrunk_means(index: np.ndarray, Y: np.ndarray, levels: int) -> np.ndarray:
    """Each level's mean of each column of Y [levels, columns], pulled towards the column's mean by the weight
    n·var(Y) / (n·var(Y) + the variance within the level), n its rows: a level of few or scattered rows says
    little. A level without rows here, or a constant column, gets the column's mean."""
    counts = np.bincount(index, minlength=levels).astype(np.float64)
    seen = counts > 0
    overall = Y.mean(axis=0)
    codes = np.tile(overall, (levels, 1))
    for j in range(Y.shape[1]):
        column = Y[:, j]
        means = np.bincount(index, weights=column, minlength=levels) / np.maximum(counts, 1)
        within = np.bincount(index, weights=(column - means[index]) ** 2, minlength=levels) / np.maximum(counts, 1)
        between = column.var() * counts
        with np.errstate(invalid="ignore", divide="ignore"):
            weight = between / (between + within)
        usable = seen & ~np.isnan(weight)
        codes[usable, j] = weight[usable] * means[usable] + (1 - weight[usable]) * overall[j]
    return codes


def _folds(n: int, labels: np.ndarray | None) -> np.ndarray:
    """Each row's fold in 0..FOLDS-1, in shuffled order; with labels, each class spread evenly over the folds."""
    order = np.random.default_rng(FOLD_SEED).permutation(n)
    if labels is not None:
        order = order[np.argsort(labels[order], kind="stable")]
    folds = np.empty(n, dtype=np.int64)
    folds[order] = np.arange(n) % FOLDS
    return folds
