import sys

from mlpfit.runtime import blas_threads, keep_freed_memory


def test_freed_memory_is_kept_on_linux():
    assert keep_freed_memory() is sys.platform.startswith("linux")


def test_blas_threads_are_limited_inside_and_given_back():
    from threadpoolctl import threadpool_info

    def blas():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas()
    with blas_threads(1):
        inside = blas()
    assert all(n == 1 for n in inside) and blas() == before


def test_a_fit_asks_numpy_for_small_pages_and_gives_the_setting_back():
    from numpy._core.multiarray import _set_madvise_hugepage

    from mlpfit.runtime import without_huge_pages

    before = _set_madvise_hugepage(True)
    try:
        with without_huge_pages():
            inside = _set_madvise_hugepage(False)  # returns the setting in force
        after = _set_madvise_hugepage(True)
    finally:
        _set_madvise_hugepage(before)
    assert inside is False and after is True
