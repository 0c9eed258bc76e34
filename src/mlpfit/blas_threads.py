"""NumPy's BLAS thread count, process-wide (no torch here, so a torch-free fit can set it too).

OpenBLAS starts one thread per core by default. On the small matrices of a small MLP a second
thread only adds handing-off, and when another process is busy it is far worse: a 2-64-64-1 fit on
the NumPy engine took 23 s with OpenBLAS's default threads against 1.3 s on one (2 cores, load 2).
"""

from __future__ import annotations


def limit_blas_threads(threads: int) -> None:
    """Every BLAS library loaded so far (numpy's OpenBLAS, MKL) computes on at most ``threads`` threads."""
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency; imported when a fit starts

    threadpool_limits(limits=max(1, int(threads)), user_api="blas")
