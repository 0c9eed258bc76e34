"""Checks of the CUDA path, run on a machine with a GPU (`pytest gpu_tests`); CI has none."""

import torch

from mlpfit.data.sources.formula import parse_formula


def test_cuda_is_visible():
    assert torch.cuda.is_available()


def test_formula_runs_on_the_gpu():
    formula = parse_formula("x * exp(x) - 10, atan2(x, 1), 4")
    out = formula.torch(torch.rand(10, 1, device="cuda"))
    assert out.device.type == "cuda" and out.shape == (10, 3)
