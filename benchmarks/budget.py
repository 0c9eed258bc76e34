"""The formula budget: what settling after the first of two cycles costs in R², and saves in time.

    python benchmarks/budget.py [--seeds 5]

Ten smooth functions (easy ones, the seeds' own, and two hard ones: x·y·z and sin(3x)·cos(2y)) are
fitted with mlpfit's defaults (twocycle: the fit may settle after 40% of its steps when every output's
validation R² reaches 0.99995) and with one long cycle over the whole budget (``--schedule onecycle``,
the default before), on the same seeds, in this process. For each: the lowest and highest test R²
over the seeds, the epochs run, and the mean training time. Quality is the claim to check here: a
settled fit must stay ≥ 0.9999, and a fit that trains both cycles must end where one cycle ends.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

FUNCTIONS = [("x**2 + y**2", "-14:14"), ("sin(3*x)*cos(2*y)", None), ("x*y*z", None), ("sin(x)*cos(y)", None),
             ("sin(3*x)", None), ("exp(-(x**2 + y**2))", None), ("x*exp(x) - 10, exp(x), x**2", "0.1:2.1"),
             ("sqrt(x**2 + y**2 + 1)", None), ("tanh(2*x) + y**3", None), ("x1 + x2", "0:1")]


def fits(formula: str, domain: str | None, seeds: int, folder: str, **options) -> list[dict]:
    import mlpfit

    found = []
    for seed in range(seeds):
        extra = {"domain": domain} if domain else {}
        summary = mlpfit.fit(formula, seed=seed, plots=False, out=os.path.join(folder, "run"), force=True,
                             **extra, **options).summary
        found.append({"r2": min(summary["metrics"]["test"]["r2"]), "epochs": summary["epochs"],
                      "seconds": summary["seconds"], "settled": summary["settled"]})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="fits per function and side (seeds 0..N-1)")
    args = parser.parse_args()
    print(f"test R² (lowest..highest over seeds 0-{args.seeds - 1}), epochs run, mean training seconds; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'function':30} {'defaults (twocycle)':>22} {'epochs':>8} {'s':>6}   {'one cycle':>22} {'s':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for formula, domain in FUNCTIONS:
            ours, one = fits(formula, domain, args.seeds, folder), fits(formula, domain, args.seeds, folder,
                                                                         schedule="onecycle")
            epochs = sorted({f["epochs"] for f in ours})
            print(f"{formula[:30]:30} {span(ours):>22} {'/'.join(map(str, epochs)):>8} {mean_seconds(ours):>6.2f}   "
                  f"{span(one):>22} {mean_seconds(one):>6.2f}")


def span(found: list[dict]) -> str:
    scores = [f["r2"] for f in found]
    return f"{min(scores):.6f}..{max(scores):.6f}"


def mean_seconds(found: list[dict]) -> float:
    return statistics.mean(f["seconds"] for f in found)


if __name__ == "__main__":
    main()
