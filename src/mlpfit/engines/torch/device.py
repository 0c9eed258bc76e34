"""Where torch trains, and the process state it needs while it does, set and then restored."""

from __future__ import annotations

import contextlib
import os
import sys

import torch

from mlpfit.errors import UsageError


def cuda_visible() -> bool:
    """Whether torch sees a CUDA GPU; asks the driver's folder first, so a machine without one answers at once."""
    if sys.platform == "darwin" or (sys.platform.startswith("linux") and not os.path.exists("/proc/driver/nvidia")):
        return False
    return torch.cuda.is_available()


def choose_device(name: str) -> torch.device:
    """The torch.device to train on: ``auto`` is CUDA when visible, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if cuda_visible() else "cpu")
    if name == "cuda" and not cuda_visible():
        raise UsageError("--device cuda was asked for, but no CUDA GPU is visible to PyTorch: use --device cpu or auto")
    return torch.device(name)


@contextlib.contextmanager
def torch_scope(threads: int, seed: int, device: torch.device):
    """torch seeded with ``seed`` and limited to ``threads`` inside the block, and the caller's random state and
    thread count back after it: a library call must not change what the user's own torch code sees.

    Small models gain nothing from a second thread, and with another process busy on a 2-core machine two
    intra-op threads ran far slower than one (config.defaults.default_threads decides)."""
    devices = [device.index or 0] if device.type == "cuda" else []
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(before)
