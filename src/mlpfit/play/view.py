"""What the page draws for one dataset: the kind of picture, its grid, the truth and the data.

Made once per training, before the first step, with the fit's own preparation (the same split and the same
scalers), so what the page draws and what the network learns are of the same rows.

Kinds of fit picture:
- ``curve``: one input; prediction against the data and the truth, one line per output.
- ``map``: two inputs; truth, prediction and error heatmaps of the first output.
- ``parity``: more inputs; predicted against actual on validation rows.
- ``classes``: two inputs, classes; the predicted class over the plane and the data.
- ``confusion``: other classification; the confusion matrix on validation rows.
"""

from __future__ import annotations

import numpy as np

from mlpfit.data.dataset import Dataset
from mlpfit.data.sources.formula import parse_formula
from mlpfit.fitting.build import scalers
from mlpfit.fitting.prepare import prepare
from mlpfit.play.wire import encode

CURVE_POINTS = 200  # fit grid of a one-input problem
MAP_SIDE = 48  # fit grid of a two-input problem: 48 x 48 cells
UNIT_CURVE_POINTS = 64  # each hidden unit's picture: a curve, a 24 x 24 map, or a histogram of its values
UNIT_MAP_SIDE = 24
UNIT_MAP_SIDE_MANY = 16  # beyond MANY_UNITS units each map is smaller: they are drawn small, and cost less
MANY_UNITS = 64
SHOWN_POINTS = 400  # training points drawn on the fit picture
PROBE_ROWS = 2_000  # validation rows scored live (R² or accuracy) and drawn in the parity picture


class View:
    def __init__(self, dataset: Dataset, config):
        self.dataset, self.task = dataset, dataset.task
        n_inputs = dataset.X.shape[1]
        # The fit's own preparation: the same split and scalers, and the config's defaults resolved in place.
        self.split = prepare(config, dataset)
        train_X = dataset.X[self.split.train]
        self.x_scaler, self.y_scaler = scalers(config, dataset, self.split)
        self.box = _box(dataset, train_X)
        self.kind = _kind(self.task, n_inputs)
        self.grid = _grid(self.box, CURVE_POINTS, MAP_SIDE) if self.kind in ("curve", "map", "classes") else None
        self.unit_kind = {1: "curve", 2: "map"}.get(n_inputs, "hist")
        self.unit_side = UNIT_MAP_SIDE if sum(config.model.hidden or []) <= MANY_UNITS else UNIT_MAP_SIDE_MANY
        self.unit_grid = _grid(self.box, UNIT_CURVE_POINTS, self.unit_side) if n_inputs <= 2 else None
        self.truth = _truth(dataset, self.grid) if self.grid is not None and self.task == "regress" else None

    def probe(self) -> np.ndarray:
        """Raw points the network is asked about at every snapshot: fit grid, then unit grid."""
        parts = [p for p in (self.grid, self.unit_grid) if p is not None]
        return np.concatenate(parts) if parts else np.zeros((0, self.dataset.X.shape[1]))

    def setup(self, hidden: list[int]) -> dict:
        """The JSON the page draws the empty pictures from, sent once per training."""
        d = self.dataset
        return {
            "kind": self.kind, "task": self.task, "inputs": d.inputs, "outputs": d.outputs,
            "classes": None if d.classes is None else [str(c) for c in d.classes],
            "formula": d.formula, "box": self.box, "grid": {"curve": CURVE_POINTS, "map": MAP_SIDE},
            "truth": None if self.truth is None else [encode(column) for column in self.truth.T],
            "points": self._points(),
            "units": {"kind": self.unit_kind, "layers": list(hidden),
                      "side": self.unit_side if self.unit_kind == "map" else UNIT_CURVE_POINTS},
            "examples": {"train": len(self.split.train), "val": len(self.split.val), "test": len(self.split.test)},
            "notes": list(d.notes),
        }

    def _points(self) -> dict | None:
        """A seeded sample of training points in raw units, for the fit picture."""
        if self.kind not in ("curve", "map", "classes"):
            return None
        rows = self.split.train
        if len(rows) > SHOWN_POINTS:
            rows = np.sort(np.random.default_rng(0).choice(rows, SHOWN_POINTS, replace=False))
        X, Y = self.dataset.X[rows], self.dataset.Y[rows]
        values = Y.reshape(len(rows), -1).astype(np.float64)
        return {"x": [encode(column) for column in X.T], "y": [encode(column) for column in values.T]}


def _kind(task: str, n_inputs: int) -> str:
    if task == "classify":
        return "classes" if n_inputs == 2 else "confusion"
    return {1: "curve", 2: "map"}.get(n_inputs, "parity")


def _box(dataset: Dataset, train_X: np.ndarray) -> list[list[float]]:
    """The sampling domain of a formula, else the data's range: where the pictures are drawn."""
    if dataset.domain is not None:
        return [[float(lo), float(hi)] for lo, hi in dataset.domain.values()]
    lows, highs = train_X.min(axis=0), train_X.max(axis=0)
    pad = np.where(highs > lows, (highs - lows) * 0.05, 1.0)
    return [[float(lo), float(hi)] for lo, hi in zip(lows - pad, highs + pad)]


def _grid(box: list[list[float]], line_points: int, map_side: int) -> np.ndarray:
    """Evenly spaced raw points: a line for one input, a row-major map (y from top) for two."""
    if len(box) == 1:
        return np.linspace(*box[0], line_points)[:, None]
    xs = np.linspace(*box[0], map_side)
    ys = np.linspace(box[1][1], box[1][0], map_side)  # first row is the top of the picture
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def _truth(dataset: Dataset, grid: np.ndarray) -> np.ndarray | None:
    if dataset.formula is None:
        return None

    with np.errstate(all="ignore"):
        values = parse_formula(dataset.formula).numpy(grid)
    return np.where(np.isfinite(values), values, np.nan)
