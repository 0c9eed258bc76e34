"""Engines: a model of K >= 1 members, its optimizer and data, behind the trainer's protocol; the only
place torch is imported.

* ``numpy``  K members on the CPU without torch: net (one float32 buffer per member, preallocated
             workspaces), optim and losses; mlpfit.scratch is its readable reference.
* ``torch``  one torch MLP with any torch optimizer (L-BFGS included), or K members of one shape as one
             batched model; its modules, optimizers and checkpoint state stay inside.

mlpfit.train.trainer documents the protocol; every engine is checkpointed and resumed the same way, and every
engine's weights end as one :class:`mlpfit.network.Network`.
"""

# Deferred imports: torch (1.5-2 s to import) loads only when the torch engine is asked for; a NumPy-engine fit
# never pays it.
from __future__ import annotations

import contextlib
import os
import sys

from mlpfit.engines.numpy.engine import NumpyEngine, member_params
from mlpfit.runtime import blas_threads


def cuda_visible() -> bool:
    """Whether torch would train on a CUDA GPU; a machine without NVIDIA's driver answers without importing torch."""
    if sys.platform == "darwin" or (sys.platform.startswith("linux") and not os.path.exists("/proc/driver/nvidia")):
        return False
    from mlpfit.engines.torch.device import cuda_visible as torch_sees_cuda

    return torch_sees_cuda()


def resolve_device(engine: str, name: str) -> str:
    """Where ``engine`` computes for ``--device name``: the NumPy engine always on the CPU."""
    if engine == "numpy":
        return "cpu"
    from mlpfit.engines.torch.device import choose_device

    return str(choose_device(name))


@contextlib.contextmanager
def training_scope(engine: str, threads: int, seed: int, device: str):
    """The process state an engine needs while it builds and trains (thread counts, torch's seed), restored after."""
    with blas_threads(threads):
        if engine == "numpy":
            yield
            return
        import torch

        from mlpfit.engines.torch.device import torch_scope

        with torch_scope(threads, seed, torch.device(device)):
            yield


def build_engine(engine: str, sizes: list[int], data, device: str, *, seeds: list[int], activation: str,
                 output_activation: str, dropout: float, loss: str, initial: dict | None, stacked: bool, options: dict):
    """The engine that trains ``len(seeds)`` members of ``sizes`` on ``data`` (scaled NumPy arrays, a TrainData);
    ``initial``: weights to start from (torch's names, as a Network's ``state_arrays``); ``options``: epochs,
    batch_size, lr (one or one per member), optimizer, schedule, alpha, weight_decay, optimizer_state."""
    if engine == "numpy":
        members = None if initial is None else member_params(initial, len(seeds), stacked)
        return NumpyEngine(sizes, data, activation=activation, output_activation=output_activation, seeds=seeds,
                           initial_params=members, loss=loss, dropout=dropout, **options)
    from mlpfit.engines.torch.build import build_torch

    return build_torch(sizes, data, device, seeds=seeds, activation=activation, output_activation=output_activation,
                       dropout=dropout, loss=loss, initial=initial, stacked=stacked, options=options)


def on_device(network, device: str):
    """``network`` evaluated by torch on ``device`` (cpu, cuda or auto), with the same prediction rules."""
    from mlpfit.engines.torch.network import on_device as torch_network

    return torch_network(network, resolve_device("torch", device))
