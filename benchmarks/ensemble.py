"""A batched ensemble against a loop of single fits, in one run, through mlpfit's own fit.

K members of 2-32-32-1 tanh learn x² + y² on -14:14 from 2,000 points (the issue's `--hidden 32,32
--epochs 500 --samples 2000`): 1,600 training rows in batches of 256, 500 epochs of one-cycle Adam, no
early stopping (patience beyond the budget), so both sides do the same work. Single fit k has seed k, and
member k of the ensemble (seed 0) starts from single fit k's weights; the single fit samples its own
points with its seed, so the worst-R² columns show that both sides reach the same quality, not equal numbers.

    python benchmarks/ensemble.py [--members 32] [--threads 1 2]

Both sides run on the NumPy engine with the threads mlpfit chooses (1 for a single fit of this size, 2 for
an ensemble, whose members it splits over them in the epochs where that is faster), and, per --threads, the
ensemble with other counts.
Prints each side's training time (the summary's `seconds`) and CPU time, the ratios, and the worst test R²
of each side. The bar: 32 members cost at least 2.5x less time than 32 single fits.

Timings on a shared machine are noisy: the single fits are dealt out before, between and after the batched
runs (so both sides share the same stretch of load), and the script prints the load average before and after,
and CPU time (process_time, less sensitive to other processes) beside wall time.
"""

from __future__ import annotations

import argparse
import os
import time

from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.fitting.fit import fit
from mlpfit.runtime import keep_freed_memory

EPOCHS = 500


def config(seed: int, members: int, threads: int | None) -> FitConfig:
    return FitConfig(DataConfig(target="x**2 + y**2", domain=(-14.0, 14.0), samples=2000),
                     ModelConfig(hidden=[32, 32], activation="tanh", ensemble=members),
                     TrainConfig(epochs=EPOCHS, patience=10**6, seed=seed, engine="numpy", threads=threads),
                     RunConfig(quiet=True, plots=False))


def timed(seed: int, members: int, threads: int | None):
    """(training seconds, CPU seconds of the whole fit, worst member test R², the threads used)."""
    cpu = time.process_time()
    result = fit(config(seed, members, threads), save=False)
    cpu = time.process_time() - cpu
    scores = [m["metrics"]["test"] for m in result.summary["members"]] if members > 1 else [
        result.summary["metrics"]["test"]]
    worst = min(min(s["r2"]) for s in scores)
    return result.summary["seconds"], cpu, worst, result.config.train.threads


def interleaved(members: int, sides: list) -> tuple[list, list]:
    """(the single fits' runs, one batched run per thread count in ``sides``), the single fits dealt out before,
    between and after the batched runs: on a shared machine the load changes within a minute, and taking all
    single fits first and the ensembles after gave either side whatever load its stretch of time had."""
    blocks = [list(range(members))[i :: len(sides) + 1] for i in range(len(sides) + 1)]
    singles, batched = [], []
    for i, block in enumerate(blocks):
        singles += [timed(k, 1, None) for k in block]
        if i < len(sides):
            batched.append(timed(0, members, sides[i]))
    return singles, batched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[32])
    parser.add_argument("--threads", type=int, nargs="*", default=[1],
                        help="thread counts tried for the ensemble besides the one mlpfit chooses")
    args = parser.parse_args()
    keep_freed_memory()  # what the mlpfit command does (cli.main); process-wide, so both sides get it
    print(f"load average {os.getloadavg()}  cores {os.cpu_count()}")
    print(f"{'K':>3} {'side':<26} {'train s':>8} {'ratio':>6} {'cpu s':>7} {'ratio':>6} {'worst R²':>9}")
    for members in args.members:
        sides = [None, *args.threads]
        singles, batched = interleaved(members, sides)
        wall_1, cpu_1 = sum(r[0] for r in singles), sum(r[1] for r in singles)
        worst_1 = min(r[2] for r in singles)
        print(f"{members:>3} {f'{members} single fits, {singles[0][3]} th':<26} {wall_1:>8.2f} {1:>6.2f} "
              f"{cpu_1:>7.2f} {1:>6.2f} {worst_1:>9.6f}", flush=True)
        for threads, (wall, cpu, worst, used) in zip(sides, batched):
            side = f"batched, {used} th" + (" (mlpfit's)" if threads is None else "")
            print(f"{members:>3} {side:<26} {wall:>8.2f} {wall_1 / wall:>6.2f} {cpu:>7.2f} {cpu_1 / cpu:>6.2f} "
                  f"{worst:>9.6f}", flush=True)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
