"""Which original input columns matter: permutation importance on the run's held-out rows.

A table's column can be several network inputs (one-hot levels, a date's days, year, month and
weekday, a marker of filled holes), and inputs in raw units are not comparable (a gradient per m²
is tiny beside one per yes/no dummy). So a column's importance is how far the predictions move when
that column's values are shuffled among the rows, all of its inputs together: the root mean square
change of each output (regression, in the output's units), or the mean share of probability that
moves between classes (classification, 0 to 1). Larger = the model leans on it more; columns of one
run compare directly. Rows are the stored test rows (held out from training) or, without any, the
stored training rows; formula and image runs get one column per input.
"""

from __future__ import annotations

import numpy as np

from mlpfit.network.varied import Varied

ROWS = 1000  # rows predicted per shuffle: a stable ranking, and fast for a few hundred columns
REPEATS = 3  # shuffles averaged per column (one for more than WIDE columns)
WIDE = 100  # an image's pixels: one shuffle each, on fewer rows, so explain stays around a second
BUDGET = 300_000  # rows predicted in all: 784 pixels get 382 rows each
MAX_COLUMNS = 5000  # beyond this, no importance (a shuffle per column would take minutes)


def held_out_rows(samples: dict | None, limit: int = ROWS) -> np.ndarray | None:
    """The stored test rows (raw units), else the training rows; a seeded subset of at most ``limit``."""
    if not samples:
        return None
    for key in ("test_X", "train_X"):
        if key in samples and len(samples[key]):
            X = np.asarray(samples[key], dtype=np.float64)
            if len(X) > limit:
                X = X[np.sort(np.random.default_rng(0).choice(len(X), limit, replace=False))]
            return X
    return None


def column_groups(fitted) -> dict[str, list[int]]:
    """Original column -> the positions of its network inputs (one each for a formula or an image)."""
    encoding = getattr(fitted, "encoding", None)
    if encoding is None:
        return {name: [k] for k, name in enumerate(fitted.inputs)}
    groups, start = {}, 0
    for column in encoding.columns:
        width = len(column.names())
        groups[column.name] = list(range(start, start + width))
        start += width
    return groups


def importance(fitted, samples: dict | None) -> dict | None:
    """``{output: {column: importance}}`` (a classifier: one output, its target); None without stored rows."""
    groups = column_groups(fitted)
    repeats = REPEATS if len(groups) <= WIDE else 1
    X = held_out_rows(samples, min(ROWS, max(100, BUDGET // (len(groups) * repeats))))
    if X is None or len(X) < 2 or len(groups) > MAX_COLUMNS:
        return None
    base = _predict(fitted, X)
    rows = Varied(fitted, X)
    rng = np.random.default_rng(0)
    moved = {column: 0.0 for column in groups}
    for column, positions in groups.items():  # a column's shuffles in one call: the copies share their first products
        shuffles = [rng.permutation(len(X)) for _ in range(repeats)]
        for after in rows.predictions(positions, np.stack([X[np.ix_(order, positions)] for order in shuffles])):
            moved[column] = moved[column] + _moved(fitted, base, after)
    scores = {column: moved[column] / repeats for column in groups}
    outputs = list(fitted.outputs)[:1] if fitted.task == "classify" else list(fitted.outputs)
    return {out: {column: float(values[k]) for column, values in scores.items()} for k, out in enumerate(outputs)}


def ranked(values: dict[str, float]) -> list[str]:
    return sorted(values, key=lambda column: -values[column])


def _predict(fitted, X: np.ndarray) -> np.ndarray:
    if fitted.task == "classify":
        return fitted.predict_proba(X)
    return np.asarray(fitted.predict(X), dtype=np.float64).reshape(len(X), -1)


def _moved(fitted, base: np.ndarray, after: np.ndarray) -> np.ndarray:
    if fitted.task == "classify":  # total variation: the share of probability that changed class
        return np.array([0.5 * np.abs(after - base).sum(axis=1).mean()])
    return np.sqrt(((after - base) ** 2).mean(axis=0))
