"""Predictions for the CLI and API: raw rows in, rows in original units (or labels) out."""

from __future__ import annotations

import numpy as np


def read_input_rows(path: str, names: list[str]) -> np.ndarray:
    """The columns ``names`` of a CSV, matched by header name."""
    from mlpfit.data.sources.table import read_inputs

    return read_inputs(path, names)


def predict_rows(fitted, X: np.ndarray) -> dict:
    """``{"predictions": [[...], ...]}``; classification adds classes, labels and probabilities."""
    if fitted.task == "classify":
        proba = fitted.predict_proba(X)
        labels = [fitted.classes[i] for i in proba.argmax(axis=1)]
        return {"predictions": [[label] for label in labels], "labels": labels,
                "classes": fitted.classes, "probabilities": proba.round(6).tolist()}
    out = {"predictions": fitted.predict(X).tolist()}
    if hasattr(fitted, "predict_std"):  # an ensemble: the members' spread per output
        out["std"] = fitted.predict_std(X).tolist()
    return out
