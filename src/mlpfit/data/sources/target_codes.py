"""A text column of many levels as few numbers: each level's mean target (target encoding).

One-hot needs one input per level; a 150-level district or a 68-level zip code would make the
network wide and each level's weights would learn from a handful of rows. Target encoding gives a
level the target's mean over its rows, shrunk towards the overall mean as its rows get fewer
(scikit-learn's ``TargetEncoder``, which also cross-fits: each training row is encoded by the other
folds, so a level's code never includes the row's own target). Levels seen in fewer than
``RARE_ROWS`` rows are pooled into one level first. What it learns is a table of numbers per level,
kept as data with the encoding; an unseen level gets the overall mean.
"""

# Deferred imports: scikit-learn loads when a column has more levels than one-hot takes, not with every table.

from __future__ import annotations

from collections import Counter

import numpy as np

RARE_ROWS = 3  # a level with fewer training rows shares one code with the other rare levels
POOLED = "\x00rare"  # the pooled level's name inside the encoder; not a text a cell can hold after stripping


def fit_codes(texts: list[str], y: np.ndarray, task: str, targets: list[str], classes=None):
    """(codes per level, code for unseen levels, part names, cross-fitted codes of the training rows [n, parts])."""
    counts = Counter(texts)
    pooled = np.array([[POOLED if counts[t] < RARE_ROWS else t] for t in texts], dtype=object)
    if task == "regress":
        Y = np.asarray(y, dtype=np.float64).reshape(len(texts), -1)
        parts = ["target"] if Y.shape[1] == 1 else [f"target {name}" for name in targets]
        fitted = [_encoder("continuous") for _ in range(Y.shape[1])]
        # fit_transform: cross-fitted codes for the training rows, and each level's code from every row
        train = np.column_stack([e.fit_transform(pooled, Y[:, j]) for j, e in enumerate(fitted)])
        tables = [dict(zip(e.categories_[0].tolist(), e.encodings_[0].tolist())) for e in fitted]
        default = [float(e.target_mean_) for e in fitted]
    else:
        labels = np.asarray(y).reshape(-1)
        names = [str(c) for c in (classes if classes is not None else np.unique(labels))]
        kind = "binary" if len(names) == 2 else "multiclass"
        encoder = _encoder(kind)
        train = encoder.fit_transform(pooled, labels).reshape(len(texts), -1)
        encodings = encoder.encodings_
        tables = [dict(zip(encoder.categories_[0].tolist(), codes.tolist())) for codes in encodings]
        default = np.atleast_1d(encoder.target_mean_).astype(float).tolist()
        parts = [f"p({names[1]})"] if kind == "binary" else [f"p({name})" for name in names]
    codes = {level: [float(table[POOLED if counts[level] < RARE_ROWS else level]) for table in tables]
             for level in sorted(counts)}
    return codes, default, parts, np.asarray(train, dtype=np.float64)


def _encoder(kind: str):
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import TargetEncoder

    folds = (KFold if kind == "continuous" else StratifiedKFold)(n_splits=5, shuffle=True, random_state=0)
    return TargetEncoder(target_type=kind, cv=folds)

