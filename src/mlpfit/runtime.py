"""Process-wide settings for a run: device, threads, seeds."""

from __future__ import annotations

import torch

from mlpfit.errors import UsageError


def choose_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but no CUDA GPU is visible to PyTorch: use --device cpu or auto")
    return torch.device(name)


def configure(threads: int, seed: int) -> None:
    """Fix the seed and the thread count before the model is built.

    Small models gain nothing from a second thread, and with another process busy on a 2-core
    machine two intra-op threads ran 35-40x slower than one.
    """
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
