"""Checks of the CUDA path, run on a machine with a GPU (`pytest gpu_tests`); CI has none."""

import numpy as np
import torch

from mlpfit import engines
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.engines.torch.device import choose_device
from mlpfit.fitting.fit import fit


def test_cuda_is_visible():
    assert torch.cuda.is_available() and engines.cuda_visible() and choose_device("auto").type == "cuda"


def test_a_network_evaluated_on_the_gpu_agrees_with_numpy(tmp_path):
    config = FitConfig(DataConfig(target="x * exp(x) - 10, atan2(x, 1)", samples=300), ModelConfig(hidden=[16]),
                       TrainConfig(epochs=20, engine="torch", device="cuda"), RunConfig(out=str(tmp_path / "r"), quiet=True))
    network = fit(config).fitted
    on_gpu = engines.on_device(network, "cuda")
    X = np.linspace(-2, 2, 50)[:, None]
    out = on_gpu.predict(X)
    assert out.shape == (50, 2)
    np.testing.assert_allclose(out, network.predict(X), rtol=1e-5, atol=1e-5)
