"""Process-wide settings, each scoped and restored: BLAS threads and NumPy's huge pages around training, and
glibc's allocator thresholds, which only the command line sets (it owns its process; a library call must
leave the process as it found it)."""

# Deferred imports: threadpoolctl loads when BLAS threads are limited.

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import importlib
import os
import sys


@contextlib.contextmanager
def blas_threads(threads: int):
    """NumPy's BLAS limited to ``threads`` while the NumPy engine trains (or the report draws, a process per
    core), then as it was: OpenBLAS otherwise splits even a 256x64 by 64x64 product over every core, and on
    2 shared cores the hand-off costs more than the product."""
    with blas_controller(tuple(name in sys.modules for name in OWN_BLAS)).limit(limits=threads, user_api="blas"):
        yield


OWN_BLAS = ("torch", "scipy")  # packages that load a BLAS of their own beside NumPy's


@functools.lru_cache(maxsize=4)
def blas_controller(loaded: tuple[bool, ...]):
    """threadpoolctl's view of the loaded thread pools, found once for each set of OWN_BLAS ``loaded``: finding them
    scans every loaded library (10 ms), which a loop of partial_fit calls paid on every call."""
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
    Process-wide and with no way to read the old values back, so only ``mlpfit``'s own process calls it (cli.main),
    never a library call; only Linux with glibc; returns whether it applied.
    """

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
