"""Trials per minute of `mlpfit sweep --workers N` for N = 1 and 2, whole processes, on this machine.

Each run is the command a user waits for: a fresh process (torch import included) sweeping
x² + y² on -14:14 (2,000 points) with --trials T over width 16,32, depth 1:2, tanh/silu, a fixed
number of epochs, one thread per worker, a journal in a temp folder, and the best refit at the end.

    python benchmarks/sweep_workers.py [--trials 24] [--epochs 150] [--workers 1 2]

Prints wall seconds, trials per minute, the ratio to one worker and the CPU seconds used, with the load average before
and after each run: on a shared 2-core machine the numbers move with whatever else runs, and two
workers cannot beat one by more than the cores that are free.

Measured 2026-12-02 on the 2-core dev box shared with other sessions (load 3-8, so noisy):
  24 trials, 150 epochs: 1 worker 18.1 s (79.4 trials/min), 2 workers 33.7 s (42.7/min, x0.54),
  load 2.6-3.0. Again at load 7-8.5: 65.0 s (22.2/min, CPU 21.4 s) vs 120.6 s (11.9/min, CPU 35.3 s).
Two workers spend ~14 s more CPU: a second torch import and data load, smaller batches (each worker
takes at most half of what is left), a refit each, and journal locking. They pay off where cores,
GPUs or machines are free, not on a busy 2-core box.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def sweep_seconds(workers: int, trials: int, epochs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the processes: less moved by other load than wall time)."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "mlpfit", "sweep", "x**2 + y**2", "--domain", "-14:14", "--samples", "2000",
                   "--epochs", str(epochs), "--trials", str(trials), "--space", "width=16,32 depth=1:2 activation=tanh,silu",
                   "--workers", str(workers), "--threads", "1", "--out", os.path.join(folder, "sweep"), "--quiet"]
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        start, cpu = time.perf_counter(), children_cpu()
        subprocess.run(command, check=True, env=env)
        return time.perf_counter() - start, children_cpu() - cpu


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes the workers: waited-for grandchildren
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"{args.trials} trials of {args.epochs} epochs, {os.cpu_count()} CPUs")
    first = None
    for workers in args.workers:
        before = os.getloadavg()[0]
        seconds, cpu = sweep_seconds(workers, args.trials, args.epochs)
        rate = args.trials / seconds * 60
        first = first or rate
        print(f"workers {workers}: {seconds:6.1f} s  {rate:6.1f} trials/min  x{rate / first:.2f}  CPU {cpu:6.1f} s  "
              f"(load average {before:.2f} before, {os.getloadavg()[0]:.2f} after)")


if __name__ == "__main__":
    main()
