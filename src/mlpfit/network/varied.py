"""Predictions for copies of some rows in which a few inputs take other values: the rows of a partial
dependence curve (one input set to each value of a grid) and of permutation importance (one column's inputs
shuffled).

Only the changed inputs' share of the first layer differs between the copies, so the first layer's products of
every input are computed once for the rows, and each copy adds the change its inputs make: for a table of
hundreds of inputs (one-hot levels, bins) that first product is most of a prediction's arithmetic. The
layers after the first run as a plain forward pass does, in the weights' own precision.
"""

from __future__ import annotations

import numpy as np

from mlpfit.network.network import Network, forward_layers, linked, softmax
from mlpfit.scratch.activations import get_activation


class Varied:
    """The rows ``X`` (raw inputs ``[n, inputs]``) of ``net``, ready to be predicted with a few inputs changed."""

    def __init__(self, net: Network, X: np.ndarray):
        self.net = net
        self.dtype = net.weights[0].dtype
        self.scaled = net.x_scaler.transform(np.asarray(X, dtype=np.float64))
        with np.errstate(all="ignore"):  # a diverged run's NaN weights give NaN, as forward_layers does
            self.first = self.scaled.astype(self.dtype) @ self._first_weights() + net.biases[0].astype(self.dtype)[..., None, :]

    def predictions(self, positions: list[int], values: np.ndarray) -> np.ndarray:
        """What ``predict_proba`` (a classifier) or ``predict`` (a regression) gives for each copy of the rows with
        inputs ``positions`` set to ``values`` (raw units, ``[copies, n, len(positions)]``, or ``[copies, 1, ...]`` for
        the same values in every row): ``[copies, n, k]``."""
        net = self.net
        outputs = self.member_outputs(positions, values)  # [copies, K, n, outputs]
        if net.task == "classify":
            return softmax(outputs).mean(axis=1)
        return net.y_scaler.inverse_transform(linked(outputs, net.link)).mean(axis=1)

    def member_outputs(self, positions: list[int], values: np.ndarray) -> np.ndarray:
        """Raw outputs (scaled targets, or logits) ``[copies, members, n, outputs]``, a single net as one member."""
        net, positions = self.net, list(positions)
        scaled = net.x_scaler.columns(positions).transform(np.asarray(values, dtype=np.float64))
        change = scaled - self.scaled[:, positions]  # [copies, n, p]
        weights = self._first_weights()[..., positions, :]  # [p, units] or [K, p, units]
        with np.errstate(all="ignore"):
            z = self.first + change.astype(self.dtype)[:, None] @ weights  # [copies, K or 1, n, units]
            layers = len(net.weights)
            h = get_activation(net.activation if layers > 1 else net.output_activation)[0](z)
            out = forward_layers(net, h, self.dtype, first=1)[1][-1] if layers > 1 else h
        return out.astype(np.float64)

    def _first_weights(self) -> np.ndarray:
        """The first layer's weights as ``[inputs, units]`` (``[K, inputs, units]`` stacked), in the rows' precision."""
        return np.swapaxes(self.net.weights[0].astype(self.dtype, copy=False), -1, -2)
