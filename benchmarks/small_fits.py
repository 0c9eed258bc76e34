"""Small fits, whole processes: mlpfit against what a user would write with scikit-learn, in one run.

    python benchmarks/small_fits.py [--repeats 3] [--skip-cli] [--skip-estimators] [--skip-steps]

(a) The quick start, `mlpfit fit "x**2 + y**2" --domain -14:14` as a fresh process (imports,
    sampling, training, the run folder, plots and report.html), with and without --no-plots,
    against a 12-line scikit-learn script fitting the same 10,000 points (StandardScaler,
    MLPRegressor 64,64, TransformedTargetRegressor) as a fresh process. Both are scored on the
    same 10,000 fresh points of the box, outside the timed processes for mlpfit (it is read
    back with mlpfit.load) and inside for the script (it scores itself, a few ms).
(b) cross_val_score (3 folds) on breast cancer and diabetes: mlpfit.Classifier / Regressor with
    their defaults against scikit-learn's MLP in a StandardScaler pipeline (its docs' advice;
    the regressor's targets scaled too), in this process, both imported before timing; once per
    seed 0..repeats-1 (time: the median, score: the mean over seeds).

(c) One training step of the quick start's net (2-64-64-1 tanh, batch 256, MSE, Adam, one thread):
    the NumPy engine's flat step, torch autograd + Adam, mlpfit.scratch, and the arithmetic floor
    (the matrix products alone), from benchmarks/engine_step.py in a fresh process (it pins the
    threads before numpy and torch are imported).

Each time is the median of --repeats runs; the ratio is mlpfit / scikit-learn (below 1: faster). In (a)
the three processes run in rounds, one after another, and each round's ratio is printed as well.
The machine is shared: the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

SKLEARN_SCRIPT = '''
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
X = np.random.default_rng(0).uniform(-14, 14, (10_000, 2))
model = TransformedTargetRegressor(make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(64, 64), random_state=0)),
                                   transformer=StandardScaler())
model.fit(X, X[:, 0] ** 2 + X[:, 1] ** 2)
fresh = np.random.default_rng(1).uniform(-14, 14, (10_000, 2))
print(model.score(fresh, fresh[:, 0] ** 2 + fresh[:, 1] ** 2))
'''
QUICK_START = ["fit", "x**2 + y**2", "--domain", "-14:14", "-q"]


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed_process(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def fresh_r2(run_dir: str) -> float:
    import mlpfit

    fresh = np.random.default_rng(1).uniform(-14, 14, (10_000, 2))
    truth = fresh[:, 0] ** 2 + fresh[:, 1] ** 2
    predicted = mlpfit.load(run_dir).predict(fresh)[:, 0]
    return 1 - float(((predicted - truth) ** 2).sum() / ((truth - truth.mean()) ** 2).sum())


def quick_start(repeats: int) -> None:
    """Rounds of the three processes one after another, so a change in the machine's load falls on all
    three alike (the medians are compared, and each round's ratio is printed too)."""
    mlpfit_cli = [sys.executable, "-m", "mlpfit"]
    rows = {"mlpfit fit (plots + report)": [], "mlpfit fit --no-plots": [], "scikit-learn script": []}
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "sklearn_fit.py")
        with open(script, "w") as f:
            f.write(SKLEARN_SCRIPT)
        r2 = {}
        for k in range(repeats):
            for i, (name, extra) in enumerate((("mlpfit fit (plots + report)", []), ("mlpfit fit --no-plots", ["--no-plots"]))):
                out = os.path.join(folder, f"run-{i}-{k}")
                rows[name].append(timed_process([*mlpfit_cli, *QUICK_START, *extra, "--out", out])[0])
                r2[name] = fresh_r2(out)
            seconds, stdout = timed_process([sys.executable, script])
            rows["scikit-learn script"].append(seconds)
            r2["scikit-learn script"] = float(stdout.split()[-1])
    sklearn_seconds = statistics.median(rows["scikit-learn script"])
    print(f"(a) quick start, whole process, median of {repeats} rounds (load average {load_average()})")
    print(f"    {'':<30} {'seconds':>8} {'R² fresh':>10} {'ratio':>7}   per round")
    for name, times in rows.items():
        rounds = " ".join(f"{t / s:.2f}" for t, s in zip(times, rows["scikit-learn script"]))
        print(f"    {name:<30} {statistics.median(times):>8.2f} {r2[name]:>10.6f} "
              f"{statistics.median(times) / sklearn_seconds:>7.2f}   {rounds}")


def cross_validation(repeats: int) -> None:
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import cross_val_score
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import mlpfit

    sets = [("breast cancer (569 x 30)", load_breast_cancer(return_X_y=True), lambda seed: mlpfit.Classifier(seed=seed),
             lambda seed: make_pipeline(StandardScaler(), MLPClassifier(random_state=seed))),
            ("diabetes (442 x 10)", load_diabetes(return_X_y=True), lambda seed: mlpfit.Regressor(seed=seed),
             lambda seed: TransformedTargetRegressor(make_pipeline(StandardScaler(), MLPRegressor(random_state=seed)),
                                                     transformer=StandardScaler()))]
    print(f"(b) cross_val_score, 3 folds, seeds 0-{repeats - 1}: median time, mean score (load average {load_average()})")
    print(f"    {'':<26} {'sklearn s':>9} {'mlpfit s':>9} {'ratio':>7} {'sklearn score':>14} {'mlpfit score':>13}")
    for name, (X, y), ours, theirs in sets:
        results = {}
        for side, make in (("sklearn", theirs), ("mlpfit", ours)):
            times, scores = [], []
            for seed in range(repeats):  # one seed's score says little on 569 rows: the mean over seeds
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    scores.append(float(np.mean(cross_val_score(make(seed), X, y, cv=3))))
                times.append(time.perf_counter() - start)
            results[side] = (statistics.median(times), float(np.mean(scores)))
        (sk_s, sk_score), (mf_s, mf_score) = results["sklearn"], results["mlpfit"]
        print(f"    {name:<26} {sk_s:>9.2f} {mf_s:>9.2f} {mf_s / sk_s:>7.2f} {sk_score:>14.4f} {mf_score:>13.4f}")


def engine_steps() -> None:
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine_step.py")
    done = subprocess.run([sys.executable, script, "--steps", "1000", "--repeat", "5"], capture_output=True, text=True,
                          check=True)
    print("(c) one training step, µs (benchmarks/engine_step.py)")
    for line in done.stdout.strip().splitlines():
        print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per row (and seeds in (b)); the median time is kept")
    parser.add_argument("--skip-cli", action="store_true", help="leave out (a), the whole-process quick start")
    parser.add_argument("--skip-estimators", action="store_true", help="leave out (b), the estimators")
    parser.add_argument("--skip-steps", action="store_true", help="leave out (c), the engines' steps")
    args = parser.parse_args()
    if not args.skip_cli:
        quick_start(args.repeats)
    if not args.skip_estimators:
        cross_validation(args.repeats)
    if not args.skip_steps:
        engine_steps()


if __name__ == "__main__":
    main()
