"""One picture of the network while it trains: its fit, every hidden unit, and its live score.

One forward pass over the view's probe points (fit grid and unit grid) and the validation rows
gives everything; the layers are walked by hand so each hidden layer's output can be kept. Unit
pictures are quantized to bytes (0-255 between the unit's lowest and highest value), so even
six layers of 128 units stay a few hundred kilobytes.
"""

from __future__ import annotations

import base64

import numpy as np
import torch

from mlpfit.fitting.metrics import r2_per_output
from mlpfit.play.view import PROBE_ROWS, View
from mlpfit.play.wire import encode

HIST_BINS = 16
MAX_DRAWN_WEIGHTS = 8_192  # above this many connections the page draws no wires (they would be a grey blur)


@torch.no_grad()
def layer_outputs(model, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Every hidden layer's output and the network's output (dropout off, as in evaluation)."""
    hidden = []
    for layer in model.layers[:-1]:
        x = model.activation(layer(x))
        hidden.append(x)
    return hidden, model.output_activation(model.layers[-1](x))


class Snapshots:
    """Takes snapshots of one training: the probe tensors are made once."""

    def __init__(self, view: View, X_val: torch.Tensor, Y_val: torch.Tensor):
        self.view = view
        probe = view.probe()
        self.n_fit = 0 if view.grid is None else len(view.grid)
        self.n_probe = len(probe)
        self.X_val, self.Y_val = X_val[:PROBE_ROWS].cpu(), Y_val[:PROBE_ROWS].cpu()
        self.inputs = torch.cat([view.scaled(probe), self.X_val]) if len(probe) else self.X_val

    def take(self, model, epoch: int) -> dict:
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        hidden, out = layer_outputs(model, self.inputs.to(device))
        model.train(was_training)
        rows = slice(self.n_probe, None) if self.view.unit_kind == "hist" else slice(self.n_fit, self.n_probe)
        hidden = [h[rows].cpu().numpy() for h in hidden]  # only the rows the unit pictures need
        out = out.double().cpu().numpy()
        fit_out, val_out = out[: self.n_fit], out[self.n_probe:]
        return {"epoch": epoch, **self._fit(fit_out, val_out), "units": self._units(hidden),
                "metric": self._metric(val_out), "weights": weights(model)}

    def _fit(self, fit_out: np.ndarray, val_out: np.ndarray) -> dict:
        view = self.view
        if view.kind in ("curve", "map"):
            return {"pred": [encode(column) for column in view.y_scaler.inverse_transform(fit_out).T]}
        if view.kind == "classes":
            probabilities = _softmax(fit_out)
            return {"pred": [encode(probabilities.argmax(axis=1)), encode(probabilities.max(axis=1))]}
        if view.kind == "parity":
            actual = view.y_scaler.inverse_transform(self.Y_val.double().numpy())
            predicted = view.y_scaler.inverse_transform(val_out)
            return {"pred": [encode(predicted[:, 0]), encode(actual[:, 0])]}
        return {"confusion": _confusion(self.Y_val.numpy(), val_out.argmax(axis=1), len(view.dataset.classes))}

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
            accuracy = float((val_out.argmax(axis=1) == self.Y_val.numpy()).mean())
            return {"name": "accuracy", "values": [accuracy]}
        return {"name": "R²", "values": r2_per_output(self.Y_val.double().numpy(), val_out)}


def weights(model) -> list[str] | None:
    """Each Linear layer's weight matrix [out, in] (float32, base64) for the wires, if few enough."""
    layers = list(model.layers)
    if sum(layer.weight.numel() for layer in layers) > MAX_DRAWN_WEIGHTS:
        return None
    return [encode(layer.weight.detach().cpu().numpy()) for layer in layers]


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
