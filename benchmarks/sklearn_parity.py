"""mlpfit's estimators at their defaults against scikit-learn's MLP in a StandardScaler pipeline, same data.

    python benchmarks/sklearn_parity.py

Prints 3-fold cross-validated scores: breast cancer (accuracy) and diabetes (R²) against scikit-learn's
MLP in a StandardScaler pipeline, at its defaults (on diabetes 200 epochs leave the unscaled target far
from converged) and with early stopping (max_iter=2000), and the label accuracy (share of correct 0/1 labels) on eight
make_multilabel_classification sets against MLPClassifier at its defaults. The parity bars: breast
cancer within 0.01 of scikit-learn's, diabetes and multilabel (the mean) at least its score.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_score
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
    return f"{name:<40} {sk:>9.4f} {mf:>9.4f} {mf - sk:>+8.4f} {sk_time:>7.2f} {mf_time:>7.2f}"


# make_multilabel_classification sets: (rows, features, labels, seed)
MULTILABEL_SETS = [(300, 20, 5, 0), (1000, 20, 5, 0), (1000, 20, 5, 1), (1000, 20, 5, 2),
                   (500, 50, 10, 3), (2000, 20, 5, 4), (600, 30, 8, 5), (1000, 10, 3, 6)]


def label_accuracy(make, X, Y) -> float:
    """Share of correct 0/1 labels, 3-fold CV."""
    folds = KFold(3, shuffle=True, random_state=0).split(X)
    return float(np.mean([(make().fit(X[tr], Y[tr]).predict(X[te]) == Y[te]).mean() for tr, te in folds]))


def multilabel() -> list[str]:
    rows, totals = [], np.zeros(2)
    for n, features, labels, seed in MULTILABEL_SETS:
        X, Y = make_multilabel_classification(n_samples=n, n_features=features, n_classes=labels, random_state=seed)
        (sk, sk_time), (mf, mf_time) = (timed(lambda m=m: label_accuracy(m, X, Y))
                                        for m in (lambda: MLPClassifier(random_state=0), mlpfit.Classifier))
        totals += (sk, mf)
        rows.append(f"{f'multilabel {n}x{features}, {labels} labels, seed {seed}':<40} {sk:>9.4f} {mf:>9.4f} {mf - sk:>+8.4f} "
                    f"{sk_time:>7.2f} {mf_time:>7.2f}")
    sk, mf = totals / len(MULTILABEL_SETS)
    return rows + [f"{'multilabel mean':<40} {sk:>9.4f} {mf:>9.4f} {mf - sk:>+8.4f}"]


def sklearn_pipelines(cls) -> dict:
    """scikit-learn's MLP scaled, at its defaults and with early stopping (as mlpfit's estimators stop)."""
    return {"defaults": make_pipeline(StandardScaler(), cls(random_state=0)),
            "early stopping": make_pipeline(StandardScaler(), cls(random_state=0, early_stopping=True, max_iter=2000))}


def main() -> None:
    print(f"{'data':<40} {'sklearn':>9} {'mlpfit':>9} {'diff':>8} {'sk s':>7} {'mf s':>7}")
    for name, ours, cls, data in (("breast cancer (acc)", mlpfit.Classifier(), MLPClassifier, load_breast_cancer),
                                  ("diabetes (R²)", mlpfit.Regressor(), MLPRegressor, load_diabetes)):
        for variant, theirs in sklearn_pipelines(cls).items():
            print(cross_validated(f"{name}, sklearn {variant}", ours, theirs, *data(return_X_y=True)))
    print("\n".join(multilabel()))


if __name__ == "__main__":
    main()
