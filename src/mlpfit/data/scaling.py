"""Standardization: the single cheapest fix for slow or failed fits.

Inputs far from unit scale saturate tanh/sigmoid units and make gradient steps uneven across
weights; targets far from unit scale make the output layer's initial guess (near 0) wrong by
orders of magnitude. A :class:`Standardizer` learns mean and standard deviation on the training
split only, is stored in the run folder, and is undone on predictions so users see original units.

It works on NumPy arrays (plain broadcasting arithmetic, in the values' own float precision).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Standardizer:
    mean: np.ndarray  # per column, float64
    std: np.ndarray  # per column, float64; 1.0 for constant columns so nothing divides by zero

    @classmethod
    def fit(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Standardizer":
        """Mean and std per column; with ``weights`` [n] the weighted ones (a row of weight 0 counts not at all)."""
        values = np.asarray(values, dtype=np.float64)
        if weights is None:
            mean, std = values.mean(axis=0), values.std(axis=0)
        else:
            mean = np.average(values, axis=0, weights=weights)
            std = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=weights))
        # A constant column carries no information to scale; dividing by 0 would make NaN.
        std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
        return cls(mean=mean, std=std)

    @classmethod
    def identity(cls, columns: int) -> "Standardizer":
        """The no-op scaler used by ``--no-scale``, so downstream code has one path."""
        return cls(mean=np.zeros(columns), std=np.ones(columns))

    def transform(self, values):
        return (values - self._like(self.mean, values)) / self._like(self.std, values)

    def inverse_transform(self, values):
        return values * self._like(self.std, values) + self._like(self.mean, values)

    def columns(self, positions) -> "Standardizer":
        """The scaler of some of the columns, in the order of ``positions``."""
        return Standardizer(mean=self.mean[positions], std=self.std[positions])

    @property
    def is_identity(self) -> bool:
        return bool(np.all(self.mean == 0) and np.all(self.std == 1))

    def state(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> "Standardizer":
        return cls(mean=np.asarray(state["mean"], dtype=np.float64), std=np.asarray(state["std"], dtype=np.float64))

    @staticmethod
    def _like(stat: np.ndarray, values):
        """The statistic in the array type, dtype and device of ``values``."""
        values = np.asarray(values)
        return stat.astype(values.dtype if values.dtype.kind == "f" else np.float64)
