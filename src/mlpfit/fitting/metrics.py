"""Scores in the user's units: predictions are unscaled before any metric is computed."""

from __future__ import annotations

import numpy as np


def r2_per_output(y_true: np.ndarray, y_pred: np.ndarray) -> list[float]:
    """Coefficient of determination per column; 1.0 for a perfectly fit constant column."""
    residual = ((y_true - y_pred) ** 2).sum(axis=0)
    total = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), np.where(residual <= 1e-24, 1.0, 0.0))
    return [float(v) for v in r2]


def mse_per_output(y_true: np.ndarray, y_pred: np.ndarray) -> list[float]:
    return [float(v) for v in ((y_true - y_pred) ** 2).mean(axis=0)]


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    return {"mse": mse_per_output(y_true, y_pred), "r2": r2_per_output(y_true, y_pred), "n": int(len(y_true))}


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray, classes: list) -> dict:
    """Accuracy, mean cross-entropy, per-class precision and recall, confusion matrix (rows: truth)."""
    n_classes = len(classes)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    picked = probabilities[np.arange(len(labels)), labels]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.diag(confusion) / confusion.sum(axis=0)
        recall = np.diag(confusion) / confusion.sum(axis=1)
    return {
        "accuracy": float((predicted == labels).mean()) if len(labels) else float("nan"),
        "loss": float(-np.log(np.clip(picked, 1e-12, 1.0)).mean()) if len(labels) else float("nan"),
        "precision": [None if np.isnan(v) else float(v) for v in precision],
        "recall": [None if np.isnan(v) else float(v) for v in recall],
        "confusion": confusion.tolist(),
        "n": int(len(labels)),
    }
