"""Whole-process time of `mlpfit predict` on a small run: the NumPy path (the default on a CPU) against the
torch path (`--device auto`), and against the bare start of Python with NumPy.

    python benchmarks/predict.py [--repeat 5]

It fits one small run first (x**2 + y**2, 2-64-64-1), then times each command `--repeat` times and
prints the median and the ratio; the load average is printed beside, since other work on the
machine slows every process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(command: list[str], repeat: int) -> float:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run = os.path.join(tempfile.mkdtemp(), "run")
    mlpfit = [sys.executable, "-m", "mlpfit"]
    subprocess.run([*mlpfit, "fit", "x**2 + y**2", "--domain", "-14:14", "--samples", "2000", "--epochs", "50",
                    "--no-plots", "--quiet", "--out", run], check=True)
    print(f"load average {os.getloadavg()}  cores {os.cpu_count()}")
    floor = timed([sys.executable, "-c", "import numpy"], args.repeat)
    numpy_path = timed([*mlpfit, "predict", run, "3", "4"], args.repeat)
    torch_path = timed([*mlpfit, "predict", run, "3", "4", "--device", "auto"], args.repeat)
    print(f"{'command':<44} {'median s':>9} {'ratio':>7}")
    print(f"{'python -c import numpy (the floor)':<44} {floor:>9.3f} {floor / numpy_path:>7.2f}")
    print(f"{'mlpfit predict RUN 3 4 (NumPy, default)':<44} {numpy_path:>9.3f} {1:>7.2f}")
    print(f"{'mlpfit predict RUN 3 4 --device auto (torch)':<44} {torch_path:>9.3f} {torch_path / numpy_path:>7.2f}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
