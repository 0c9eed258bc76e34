"""A trained network with everything needed to use it: scalers, names, classes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mlpfit.data.scaling import Standardizer


@dataclass
class FittedModel:
    model: torch.nn.Module
    x_scaler: Standardizer
    y_scaler: Standardizer | None  # None for classification
    inputs: list[str]
    outputs: list[str]
    task: str = "regress"
    classes: list | None = None
    encoding: object = None  # a table's TableEncoding (raw columns -> inputs), saved as encoding.json; else None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def raw_output(self, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """The network's output for raw inputs: scaled targets, or logits for classification."""
        self.model.eval()
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        dtype = next(self.model.parameters()).dtype
        parts = []
        for i in range(0, len(X), chunk):
            xb = torch.as_tensor(self.x_scaler.transform(X[i : i + chunk]), dtype=dtype, device=self.device)
            parts.append(self.model(xb).double().cpu().numpy())
        return np.concatenate(parts) if parts else np.zeros((0, len(self.outputs)))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Regression: values in original units [n, outputs]. Classification: class indices [n]."""
        out = self.raw_output(X)
        if self.task == "classify":
            return out.argmax(axis=1)
        return self.y_scaler.inverse_transform(out)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        logits = self.raw_output(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)
