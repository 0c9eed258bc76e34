"""mlpfit's defaults on small bundled tables against scikit-learn's MLP with its defaults.

    python benchmarks/tables.py [--seeds 3] [--sets diabetes,iris] [--option epochs=200 ...]

Five of scikit-learn's bundled data sets (diabetes, breast cancer, iris, wine, digits) are written
as CSV files in a temporary folder and fitted with ``mlpfit fit PATH`` and nothing else: every
default is mlpfit's. scikit-learn's MLPRegressor / MLPClassifier runs with its defaults inside a
StandardScaler pipeline (as its docs advise) on the same rows mlpfit trains and validates on, and
both are scored on mlpfit's test rows (R² for diabetes, accuracy for the rest). Each score is the
mean over ``--seeds`` splits; each time the mean wall time of one fit (mlpfit's includes reading the
CSV). Both run with one BLAS / torch thread. The last column lists mlpfit's diagnostics, which on
these tables should be few and never contradict each other.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mlpfit.api import build_config
from mlpfit.fitting.fit import fit

SETS = ("diabetes", "breast_cancer", "iris", "wine", "digits")


def write_csv(name: str, folder: str) -> str:
    bunch = getattr(datasets, f"load_{name}")()
    X, y = bunch.data, bunch.target
    path = os.path.join(folder, f"{name}.csv")
    columns = [f"x{i}" for i in range(X.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(columns + ["target"]) + "\n")
        f.writelines(",".join(f"{v:.10g}" for v in row) + f",{target:.10g}\n" for row, target in zip(X, y))
    return path


def one_seed(path: str, seed: int, options: dict) -> dict:
    start = time.perf_counter()
    result = fit(build_config(path, {"seed": seed, "threads": 1, "plots": False, **options}), save=False)
    ours = time.perf_counter() - start
    summary, data, split = result.summary, result.dataset, result.split
    regress = summary["task"] == "regress"
    score = (lambda m: m["r2"][0]) if regress else (lambda m: m["accuracy"])
    rows = np.concatenate([split.train, split.val])  # what mlpfit learned from, early stopping included
    y = data.Y[:, 0] if regress else data.Y
    sk = MLPRegressor(random_state=seed) if regress else MLPClassifier(random_state=seed)
    pipeline = make_pipeline(StandardScaler(), sk)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # its default 200 epochs often stop unconverged
        pipeline.fit(data.X[rows], y[rows])
    theirs = time.perf_counter() - start
    predicted = pipeline.predict(data.X[split.test])
    sk_score = r2_score(y[split.test], predicted) if regress else accuracy_score(y[split.test], predicted)
    return {"ours": score(summary["metrics"]["test"]), "theirs": sk_score, "ours_s": ours, "theirs_s": theirs,
            "epochs": summary["epochs"], "codes": [d["code"] for d in summary["diagnostics"]],
            "metric": "R²" if regress else "accuracy"}


def parse_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        for kind in (int, float):
            try:
                options[key] = kind(value)
                break
            except ValueError:
                continue
        else:
            options[key] = [int(v) for v in value.split(",")] if key == "hidden" else value
    return options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--option", action="append", default=[], help="an mlpfit option as key=value")
    args = parser.parse_args()
    options = parse_options(args.option)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {args.seeds} seed(s); "
          f"mlpfit options {options or 'defaults'}")
    print(f"{'data':14s} {'metric':8s} {'mlpfit':>7s} {'sklearn':>7s} {'mlpfit s':>8s} {'sklearn s':>9s} "
          f"{'time ratio':>10s} {'epochs':>6s}  diagnostics")
    with tempfile.TemporaryDirectory() as folder, threadpool_limits(1):
        for name in args.sets.split(","):
            path = write_csv(name, folder)
            if name == args.sets.split(",")[0]:  # untimed: the first fit pays for importing torch
                fit(build_config(path, {"epochs": 1, "threads": 1, "plots": False}), save=False)
            runs = [one_seed(path, seed, options) for seed in range(args.seeds)]
            mean = {key: float(np.mean([r[key] for r in runs])) for key in ("ours", "theirs", "ours_s", "theirs_s", "epochs")}
            codes = sorted({c for r in runs for c in r["codes"]})
            print(f"{name:14s} {runs[0]['metric']:8s} {mean['ours']:7.3f} {mean['theirs']:7.3f} {mean['ours_s']:8.2f} "
                  f"{mean['theirs_s']:9.2f} {mean['ours_s'] / mean['theirs_s']:10.2f} {mean['epochs']:6.0f}  "
                  f"{','.join(codes) or '-'}", flush=True)


if __name__ == "__main__":
    main()
