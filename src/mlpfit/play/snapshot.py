"""One picture of the network while it trains: its fit, every hidden unit, and its live score.

One forward pass of the network as it stands (a :class:`mlpfit.network.Network`, whichever engine trains it)
over the view's probe points (fit grid and unit grid) and the validation rows gives everything; every hidden
layer's output is kept (network.gradient.forward_layers). Unit
pictures are quantized to bytes (0-255 between the unit's lowest and highest value), so even
six layers of 128 units stay a few hundred kilobytes.
"""

from __future__ import annotations

import base64

import numpy as np

from mlpfit.fitting.metrics import r2_per_output
from mlpfit.network.network import Network, forward_layers
from mlpfit.play.view import PROBE_ROWS, View
from mlpfit.play.wire import encode

HIST_BINS = 16
MAX_DRAWN_WEIGHTS = 8_192  # above this many connections the page draws no wires (they would be a grey blur)


class Snapshots:
    """Takes snapshots of one training: the probe points and validation rows are chosen once."""

    def __init__(self, view: View):
        self.view = view
        probe = view.probe()
        self.n_fit = 0 if view.grid is None else len(view.grid)
        self.n_probe = len(probe)
        rows = view.split.val[:PROBE_ROWS]
        self.val_X, self.val_Y = view.dataset.X[rows], view.dataset.Y[rows]
        self.inputs = np.concatenate([probe, self.val_X]) if len(probe) else self.val_X
        self.scaled = self.Y_val = None  # in the fit's units, from its scalers at the first snapshot

    def take(self, network: Network, epoch: int) -> dict:
        if self.scaled is None:  # the scalers stay as they are while the fit trains: scale once
            self.scaled = network.x_scaler.transform(np.asarray(self.inputs, np.float64))
            self.Y_val = self.val_Y if network.y_scaler is None else network.y_scaler.transform(self.val_Y)
        _, layers = forward_layers(network, self.scaled)
        hidden, out = layers[:-1], layers[-1]
        rows = slice(self.n_probe, None) if self.view.unit_kind == "hist" else slice(self.n_fit, self.n_probe)
        hidden = [h[rows].astype(np.float32) for h in hidden]  # only the rows the unit pictures need
        fit_out, val_out = out[: self.n_fit], out[self.n_probe:]
        return {"epoch": epoch, **self._fit(fit_out, val_out), "units": self._units(hidden),
                "metric": self._metric(val_out), "weights": weights(network)}

    def _fit(self, fit_out: np.ndarray, val_out: np.ndarray) -> dict:
        view = self.view
        if view.kind in ("curve", "map"):
            return {"pred": [encode(column) for column in view.y_scaler.inverse_transform(fit_out).T]}
        if view.kind == "classes":
            probabilities = _softmax(fit_out)
            return {"pred": [encode(probabilities.argmax(axis=1)), encode(probabilities.max(axis=1))]}
        if view.kind == "parity":
            actual = np.asarray(self.val_Y, np.float64)
            predicted = view.y_scaler.inverse_transform(val_out)
            return {"pred": [encode(predicted[:, 0]), encode(actual[:, 0])]}
        labels = np.asarray(self.Y_val).reshape(-1).astype(np.int64)
        return {"confusion": _confusion(labels, val_out.argmax(axis=1), len(view.dataset.classes))}

    def _units(self, hidden: list[np.ndarray]) -> list[list[dict]]:
        view = self.view
        if view.unit_kind == "hist":
            return [[_histogram(layer[:, k]) for k in range(layer.shape[1])] for layer in hidden]
        return [_quantized(layer) for layer in hidden]

    def _metric(self, val_out: np.ndarray) -> dict:
        """Validation R² (the same in scaled and raw units) or accuracy, right now."""
        if len(val_out) == 0:
            return {"name": "R²", "values": []}
        if self.view.task == "classify":
            accuracy = float((val_out.argmax(axis=1) == np.asarray(self.Y_val).reshape(-1)).mean())
            return {"name": "accuracy", "values": [accuracy]}
        return {"name": "R²", "values": r2_per_output(np.asarray(self.Y_val, np.float64), val_out)}


def weights(network: Network) -> list[str] | None:
    """Each layer's weight matrix [out, in] (float32, base64) for the wires, if few enough."""
    if sum(w.size for w in network.weights) > MAX_DRAWN_WEIGHTS:
        return None
    return [encode(np.asarray(w, dtype=np.float32)) for w in network.weights]


def _quantized(values: np.ndarray) -> list[dict]:
    """Each column (a unit's values on the unit grid) as bytes between its lowest and highest value."""
    if not np.isfinite(values).all():  # a diverged net: its pictures go flat rather than fail
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = values.min(axis=0), values.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    data = np.clip(np.rint((values - lo) * (255 / span)), 0, 255).astype(np.uint8)
    columns = np.ascontiguousarray(data.T)
    return [{"lo": float(lo[k]), "hi": float(hi[k]), "v": base64.b64encode(columns[k].tobytes()).decode("ascii")}
            for k in range(len(columns))]


def _histogram(values: np.ndarray) -> dict:
    """A unit's values over validation rows as HIST_BINS counts (as bytes, the tallest 255)."""
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)
    counts, _ = np.histogram(finite, bins=HIST_BINS, range=(lo, hi if hi > lo else lo + 1))
    data = np.round(counts / max(1, counts.max()) * 255).astype(np.uint8)
    return {"lo": lo, "hi": hi, "v": base64.b64encode(data.tobytes()).decode("ascii")}


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _confusion(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> list[list[int]]:
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    return confusion.tolist()


def final_metric(summary: dict) -> dict:
    """The score the finished run reports: test (else validation) R² or accuracy."""
    metrics = summary["metrics"]
    split = "test" if metrics.get("test") else "val" if metrics.get("val") else "train"
    scores = metrics[split] or {}
    if summary["task"] == "classify":
        return {"name": "accuracy", "values": [scores.get("accuracy")], "split": split}
    return {"name": "R²", "values": scores.get("r2", []), "split": split}
