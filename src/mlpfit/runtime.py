"""Process-wide settings for a run: device, threads, seeds."""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys

from mlpfit.errors import UsageError


def cuda_visible() -> bool:
    """Whether torch would see a CUDA GPU, without importing torch (1.5-2 s) where none can be:
    Linux without NVIDIA's driver loaded, or macOS."""
    if sys.platform == "darwin" or (sys.platform.startswith("linux") and not os.path.exists("/proc/driver/nvidia")):
        return False
    import torch

    return torch.cuda.is_available()


def choose_device(name: str):
    """The torch.device to train on: ``auto`` is CUDA when visible, else the CPU."""
    import torch

    if name == "auto":
        return torch.device("cuda" if cuda_visible() else "cpu")
    if name == "cuda" and not cuda_visible():
        raise UsageError("--device cuda was asked for, but no CUDA GPU is visible to PyTorch: use --device cpu or auto")
    return torch.device(name)


def configure(threads: int, seed: int) -> None:
    """Fix torch's seed and thread count before the model is built.

    Small models gain nothing from a second thread, and with another process busy on a 2-core
    machine two intra-op threads ran 35-40x slower than one.
    """
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    keep_freed_memory()


@contextlib.contextmanager
def blas_threads(threads: int):
    """NumPy's BLAS limited to ``threads`` while the NumPy engine trains, then as it was: OpenBLAS
    otherwise splits even a 256x64 by 64x64 product over every core, and on 2 shared cores the
    hand-off costs more than the product."""
    keep_freed_memory()
    with blas_controller().limit(limits=threads, user_api="blas"):
        yield


@functools.lru_cache(maxsize=1)
def blas_controller():
    """threadpoolctl's view of the loaded thread pools, found once: finding them scans every loaded library
    (10 ms), which a loop of partial_fit calls paid on every call. NumPy's BLAS is loaded before the first fit."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def without_huge_pages():
    """Within the block numpy does not ask the kernel for 2 MB pages for its large arrays.

    numpy marks every array of 4 MB or more for transparent huge pages (madvise). Where the kernel
    then compacts memory on the spot to find whole 2 MB pages (Linux's default `defrag=madvise`)
    and the page cache has fragmented it, the first large arrays stall in the kernel: a 1-epoch
    Fashion-MNIST fit took 4.9-11.1 s (2.6-7.8 s of it in the kernel) with huge pages and 3.4 s
    without. Small pages cost a few more page faults per fresh array; a fit allocates its big
    arrays once. The previous setting comes back after the block (numpy's own switch, also read
    from NUMPY_MADVISE_HUGEPAGE at import; a numpy without it is left alone).
    """
    set_huge_pages = huge_page_switch()
    previous = set_huge_pages(False) if set_huge_pages else None
    try:
        yield
    finally:
        if set_huge_pages:
            set_huge_pages(previous)


def huge_page_switch():
    """numpy's switch for huge pages (sets it, returns the previous setting), or None in a numpy without one."""
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):  # numpy 2, numpy 1
        try:
            return getattr(importlib.import_module(module), "_set_madvise_hugepage")
        except (ImportError, AttributeError):
            continue
    return None


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 64 << 20  # allocations below this come from the heap, not a fresh mmap
TRIM_THRESHOLD = 256 << 20  # free heap kept for reuse before it is returned to the system


@functools.cache  # process-wide: once is enough
def keep_freed_memory() -> bool:
    """Let glibc reuse freed activation buffers instead of unmapping and re-faulting them.

    A training step allocates and frees the same few tensors of a few MB each; by default glibc
    serves those with mmap and gives them back on free, so every step page-faults them in again.
    Raising the two thresholds made a 32-member batched step 1.5x faster (14.8 ms -> 10.0 ms).
    Process-wide and harmless elsewhere: only Linux with glibc; returns whether it applied.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
