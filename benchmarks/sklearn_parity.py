"""mlpfit's estimators at their defaults against scikit-learn's MLP in a StandardScaler pipeline, same data.

    python benchmarks/sklearn_parity.py

Prints 3-fold cross-validated scores on breast cancer (accuracy) and diabetes (R²), and the label
accuracy (share of correct 0/1 labels) on make_multilabel_classification with a held-out quarter.
The parity bars: breast cancer within 0.01 of scikit-learn's, diabetes and multilabel at least its score.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlpfit


def timed(run):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        value = run()
    return value, time.perf_counter() - start


def cross_validated(name: str, ours, theirs, X, y) -> str:
    (mf, mf_time), (sk, sk_time) = (timed(lambda m=m: cross_val_score(m, X, y, cv=3).mean()) for m in (ours, theirs))
    return f"{name:<24} {sk:>9.4f} {mf:>9.4f} {mf - sk:>+8.4f} {sk_time:>7.2f} {mf_time:>7.2f}"


def label_accuracy(model, X_train, Y_train, X_test, Y_test) -> float:
    return float((model.fit(X_train, Y_train).predict(X_test) == Y_test).mean())


def multilabel(seed: int) -> str:
    X, Y = make_multilabel_classification(n_samples=1000, n_features=20, n_classes=5, random_state=seed)
    split = train_test_split(X, Y, test_size=0.25, random_state=seed)
    split = [split[0], split[2], split[1], split[3]]
    theirs = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    (sk, sk_time), (mf, mf_time) = (timed(lambda m=m: label_accuracy(m, *split)) for m in (theirs, mlpfit.Classifier()))
    return f"{'multilabel seed ' + str(seed):<24} {sk:>9.4f} {mf:>9.4f} {mf - sk:>+8.4f} {sk_time:>7.2f} {mf_time:>7.2f}"


def main() -> None:
    print(f"{'data':<24} {'sklearn':>9} {'mlpfit':>9} {'diff':>8} {'sk s':>7} {'mf s':>7}")
    print(cross_validated("breast cancer (acc)", mlpfit.Classifier(),
                          make_pipeline(StandardScaler(), MLPClassifier(random_state=0)),
                          *load_breast_cancer(return_X_y=True)))
    print(cross_validated("diabetes (R²)", mlpfit.Regressor(),
                          make_pipeline(StandardScaler(), MLPRegressor(random_state=0)), *load_diabetes(return_X_y=True)))
    for seed in range(3):
        print(multilabel(seed))


if __name__ == "__main__":
    main()
