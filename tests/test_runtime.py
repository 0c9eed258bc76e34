import sys

import pytest
import torch

from mlpfit.errors import UsageError
from mlpfit.runtime import choose_device, configure, keep_freed_memory


def test_auto_device_is_cpu_without_cuda():
    assert choose_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        assert choose_device("cuda").type == "cuda"
    else:
        with pytest.raises(UsageError, match="--device cpu"):
            choose_device("cuda")


def test_configure_sets_threads_and_seed():
    before = torch.get_num_threads()
    try:
        configure(1, 7)
        a = torch.rand(3)
        configure(1, 7)
        assert torch.get_num_threads() == 1 and torch.equal(a, torch.rand(3))
    finally:
        torch.set_num_threads(before)


def test_freed_memory_is_kept_on_linux():
    assert keep_freed_memory() is sys.platform.startswith("linux")


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
