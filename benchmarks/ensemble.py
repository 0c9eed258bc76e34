"""Batched ensemble vs a loop of single fits, in one run.

K members of 2-32-32-1 tanh learn x² + y² on -14:14 from 2,000 points (1,600 train) with 500
full-batch one-cycle Adam steps (lr 1e-2, no early stopping, so both sides do the same work).
Member k and single fit k start from the same init (seed k) and see the same data, so any
difference in quality comes from the training arithmetic, not from luck.

    python benchmarks/ensemble.py [--members 64 32] [--threads 1 2]

Each side runs with the thread count mlpfit itself would choose (defaults.default_threads: 1 for a
single small fit, 2 for a large batched model) unless --threads lists others for the batched side.

Prints training time of each side, the ratio, and mean / worst test R² of each side. The issue's
bar: 32 members cost ≥ 2.5x less training time than 32 single fits, worst R² within 0.001.
Timings on a shared machine are noisy; the script prints ``os.getloadavg()`` with them, and CPU
time (process_time, less sensitive to other processes than wall time) beside wall time.

Measured 2026-11-22 on the 2-core dev box, idle (load < 1):
  32 members: singles (1 thread each) 12.5 s; batched 5.9 s with 1 thread (2.1x), 3.9 s with the
  2 threads mlpfit chooses for it (3.2x). 64 members, 1 thread: 24.7 s vs 12.2 s (2.0x).
  Worst test R² 0.999361 on both sides (members reproduce the single fits exactly).
With 1 thread the batched step is mostly arithmetic (tanh and its backward, the 32x32 products),
which batching cannot remove; the gain is per-op overhead, Adam's per-tensor loop, and a model
big enough to use the second core. Under load from other processes 2 threads can be far slower
than 1 (did not finish in 185 s vs 8.3 s): pass --threads 1 on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from mlpfit.config.defaults import default_threads
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, TrainConfig
from mlpfit.engines.torch.single import TorchEngine
from mlpfit.engines.torch.stacked import StackedEngine
from mlpfit.fitting.build import build, train_data
from mlpfit.fitting.metrics import r2_per_output
from mlpfit.fitting.prepare import load_dataset, prepare
from mlpfit.engines.torch.model import MLP
from mlpfit.network.sizes import count_parameters
from mlpfit.engines.torch.build import tensor_data
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.engines.torch.state import network_state
from mlpfit.network.network import Network
from mlpfit.runtime import keep_freed_memory
from mlpfit.train.trainer import Trainer

STEPS = 500
SIZES = [2, 32, 32, 1]


def setup(device):
    config = FitConfig(DataConfig(target="x**2 + y**2", domain=(-14.0, 14.0), samples=2000),
                       ModelConfig(hidden=SIZES[1:-1], activation="tanh"),
                       TrainConfig(epochs=STEPS, batch_size=10**6, lr=1e-2, patience=1_000_000))
    dataset = load_dataset(config)
    split = prepare(config, dataset)
    template, _ = build(config, dataset, split, str(device))
    data = tensor_data(train_data(dataset, split, template.x_scaler, template.y_scaler), device)
    X_test, Y_test = dataset.X[split.test], dataset.Y[split.test]
    return template, data, X_test, Y_test


def singles(members, template, data, X_test, Y_test, device):
    scores, start, cpu = [], time.perf_counter(), time.process_time()
    for k in range(members):
        torch.manual_seed(k)
        model = MLP(SIZES, "tanh").to(device)
        engine = TorchEngine(model, data, epochs=STEPS, batch_size=len(data.X), lr=1e-2, optimizer="adam", loss="mse",
                             schedule="onecycle", seed=k)
        Trainer(engine, STEPS).run()
        fitted = template.with_state(network_state(model))
        scores.append(r2_per_output(Y_test, fitted.predict(X_test))[0])
    return time.perf_counter() - start, time.process_time() - cpu, np.array(scores)


def batched(members, template, data, X_test, Y_test, device):
    start, cpu = time.perf_counter(), time.process_time()
    model = EnsembleMLP(SIZES, "tanh", seeds=list(range(members))).to(device)
    engine = StackedEngine(model, data, epochs=STEPS, batch_size=len(data.X), lr=1e-2, optimizer="adam", loss="mse",
                           schedule="onecycle", seed=0)
    Trainer(engine, STEPS).run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    fitted = Network.from_state(network_state(model), True, **template.metadata())
    scores = np.array([r2_per_output(Y_test, p)[0] for p in fitted.member_predictions(X_test)])
    return seconds, cpu, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[64, 32])
    parser.add_argument("--threads", type=int, nargs="+",
                        help="thread counts tried for the batched side (default: what mlpfit chooses)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    keep_freed_memory()  # what the mlpfit command does (cli.main); process-wide, so both sides get it
    template, data, X_test, Y_test = setup(device)
    print(f"load average {os.getloadavg()}  cores {os.cpu_count()}  torch {torch.__version__}  device {device}")
    print(f"{'K':>3} {'side':<18} {'wall s':>7} {'ratio':>6} {'cpu s':>7} {'ratio':>6} {'mean R²':>9} {'worst R²':>9}")
    params, rows = count_parameters(SIZES), len(data.X)
    for members in args.members:
        single_threads = default_threads(params, rows)
        torch.set_num_threads(single_threads)
        wall_1, cpu_1, r_single = singles(members, template, data, X_test, Y_test, device)
        print(f"{members:>3} {f'single fits, {single_threads} th':<18} {wall_1:>7.2f} {1:>6.2f} {cpu_1:>7.2f} {1:>6.2f} "
              f"{r_single.mean():>9.6f} {r_single.min():>9.6f}")
        for threads in args.threads or [default_threads(params * members, rows)]:
            torch.set_num_threads(threads)
            wall, cpu, r_batch = batched(members, template, data, X_test, Y_test, device)
            print(f"{members:>3} {f'batched, {threads} th':<18} {wall:>7.2f} {wall_1 / wall:>6.2f} {cpu:>7.2f} "
                  f"{cpu_1 / cpu:>6.2f} {r_batch.mean():>9.6f} {r_batch.min():>9.6f}   "
                  f"worst-R² gap {r_single.min() - r_batch.min():+.6f}", flush=True)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
