"""Microseconds per training step on one thread: the NumPy engine's flat net against torch and the arithmetic floor.

    python benchmarks/engine_step.py [--sizes 2,64,64,1] [--batch 256] [--steps 2000] [--repeat 7]

One step = gather the batch's rows, forward, MSE loss, backward, Adam update, for:

* scratch  mlpfit.scratch's readable reference (float64 dicts, fresh arrays every step);
* flat     NumpyEngine.train_step (the flat float32 buffer, preallocated workspaces, flat Adam);
* torch    autograd + torch.optim.Adam (fused, as the torch engine builds it), float32;
* floor    the matrix products alone of one forward + backward (float32, preallocated outputs):
           per layer z = h·Wᵀ, dW = deltaᵀ·h, db = 1ᵀ·delta and, above the first, dh = delta·W
           (a broadcast multiply where W has one row: BLAS takes ~20 µs for that outer product).

Threads are pinned to one (OMP/MKL/OPENBLAS, torch) before numpy or torch is imported. Each time
is the best and the median of ``--repeat`` rounds of ``--steps`` steps (the candidates take turns);
the load average is printed beside them, since other work on the machine slows every run.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mlpfit.engines.numpy.engine import NumpyEngine  # noqa: E402
from mlpfit.engines.torch.model import MLP  # noqa: E402
from mlpfit.scratch.network import init_params  # noqa: E402
from mlpfit.scratch.optim import Adam  # noqa: E402
from mlpfit.scratch.train import train_step  # noqa: E402
from mlpfit.train.trainer import TrainData  # noqa: E402

ROWS = 4096  # training rows; each step takes a batch of them


def timed(steps: dict, counts: dict, repeat: int) -> dict:
    """{name: (best, median) microseconds per call of ``step(i)``}. The candidates take turns in every
    round, so a burst of load elsewhere slows them alike rather than whichever ran then."""
    for name, step in steps.items():
        for i in range(min(200, counts[name])):
            step(i)  # warm-up: workspaces, caches, lazy imports
    runs = {name: [] for name in steps}
    for _ in range(repeat):
        for name, step in steps.items():
            start = time.perf_counter()
            for i in range(counts[name]):
                step(i)
            runs[name].append((time.perf_counter() - start) / counts[name] * 1e6)
    return {name: (min(r), statistics.median(r)) for name, r in runs.items()}


def batches(batch: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.permutation(ROWS)[:batch] for _ in range(count)]


def scratch_step(sizes, X, Y, rows):
    params, optimizer = init_params(sizes, np.random.default_rng(0)), Adam(lr=1e-3)
    return lambda i: train_step(params, optimizer, X[rows[i % len(rows)]], Y[rows[i % len(rows)]], "tanh")


def flat_step(sizes, X, Y, rows, batch):
    engine = NumpyEngine(sizes, TrainData(X, Y, X[:10], Y[:10]), activation="tanh", output_activation="identity",
                         epochs=1, batch_size=batch, lr=1e-3, optimizer="adam", schedule="constant", seeds=[0])
    lr = np.full((1, 1), 1e-3)  # one member's rate, as train_epoch passes them ([K, 1])
    return lambda i: engine.train_step(rows[i % len(rows)][None, :], lr)


def torch_step(sizes, X, Y, rows):
    model = MLP(sizes, "tanh")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    X, Y = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y, dtype=torch.float32)
    index = [torch.as_tensor(r) for r in rows]

    def step(i):
        r = index[i % len(index)]
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(X[r]), Y[r])
        loss.backward()
        optimizer.step()

    return step


def floor_step(sizes, batch):
    rng = np.random.default_rng(0)
    f32 = np.float32
    weights = [rng.standard_normal((b, a)).astype(f32) for a, b in zip(sizes[:-1], sizes[1:])]
    h = [rng.standard_normal((batch, s)).astype(f32) for s in sizes]  # layer inputs / outputs
    d = [np.empty((batch, s), f32) for s in sizes]
    grads = [np.empty_like(w) for w in weights]
    bias_grads = [np.empty(w.shape[0], f32) for w in weights]
    ones = np.ones(batch, f32)

    def step(i):
        for l, w in enumerate(weights):
            np.matmul(h[l], w.T, out=h[l + 1])
        for l in range(len(weights) - 1, -1, -1):
            delta = h[l + 1]
            np.matmul(delta.T, h[l], out=grads[l])
            np.matmul(ones, delta, out=bias_grads[l])
            if l and len(weights[l]) == 1:  # an outer product: BLAS is slow at k = 1, as flat_net knows
                np.multiply(delta, weights[l], out=d[l])
            elif l:
                np.matmul(delta, weights[l], out=d[l])

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2,64,64,1")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (ROWS, sizes[0]))
    Y = (X**2).sum(axis=1, keepdims=True).repeat(sizes[-1], axis=1)
    rows = batches(args.batch, 64)
    print(f"sizes {sizes}  batch {args.batch}  one thread  load average {os.getloadavg()}  cores {os.cpu_count()}")
    steps = {"scratch": scratch_step(sizes, X, Y, rows), "flat": flat_step(sizes, X, Y, rows, args.batch),
             "torch": torch_step(sizes, X, Y, rows), "floor": floor_step(sizes, args.batch)}
    counts = {name: args.steps for name in steps}
    counts["scratch"] = max(100, args.steps // 4)  # the slow reference: fewer steps
    times = timed(steps, counts, args.repeat)
    for name, (best, median) in times.items():
        print(f"{name:8s} {best:8.1f} µs/step best   {median:8.1f} median")
    best = {name: value[0] for name, value in times.items()}
    print(f"torch / flat   {best['torch'] / best['flat']:.2f}x   (best times)")
    print(f"flat / floor   {best['flat'] / best['floor']:.2f}x")
    print(f"scratch / flat {best['scratch'] / best['flat']:.2f}x")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
