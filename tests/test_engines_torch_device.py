"""engines.torch.device: where torch trains, and torch's seed and thread count set for training and given back."""

import pytest
import torch

from mlpfit import engines
from mlpfit.engines.torch.device import choose_device, cuda_visible, torch_scope
from mlpfit.errors import UsageError


def test_auto_device_is_cpu_without_cuda():
    assert choose_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_cuda_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        assert choose_device("cuda").type == "cuda"
    else:
        with pytest.raises(UsageError, match="--device cpu"):
            choose_device("cuda")


def test_cuda_visible_agrees_with_torch():
    assert cuda_visible() is torch.cuda.is_available() and engines.cuda_visible() is torch.cuda.is_available()


def test_the_numpy_engine_always_computes_on_the_cpu():
    assert engines.resolve_device("numpy", "auto") == "cpu"


def test_torch_scope_seeds_and_limits_threads_inside_and_gives_both_back():
    before = torch.get_num_threads()
    outside = 2 if before == 1 else 1
    torch.set_num_threads(outside)
    try:
        torch.manual_seed(12345)
        state = torch.get_rng_state()
        with torch_scope(3, 7, torch.device("cpu")):
            a = torch.rand(3)
            assert torch.get_num_threads() == 3 and torch.initial_seed() == 7
        with torch_scope(3, 7, torch.device("cpu")):
            assert torch.equal(a, torch.rand(3))  # the same seed draws the same numbers
        assert torch.get_num_threads() == outside
        assert torch.initial_seed() == 12345 and torch.equal(torch.get_rng_state(), state)
    finally:
        torch.set_num_threads(before)


def test_torch_scope_gives_the_state_back_after_an_error():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        torch.manual_seed(99)
        with pytest.raises(RuntimeError), torch_scope(2, 5, torch.device("cpu")):
            raise RuntimeError("stopped")
        assert torch.get_num_threads() == 1 and torch.initial_seed() == 99
    finally:
        torch.set_num_threads(before)
