"""The batched ensemble on a GPU: every member at once (no CPU chunking), same answers as the CPU."""

import numpy as np
import torch

from mlpfit import engines
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.fitting.fit import fit
from mlpfit.runfolder.run import load_network


def test_ensemble_fits_and_predicts_on_the_gpu(tmp_path):
    runs = {}
    for device in ("cpu", "cuda"):
        config = FitConfig(DataConfig(target="x**2 + y**2", samples=300), ModelConfig(hidden=[8], ensemble=3),
                           TrainConfig(epochs=20, device=device, engine="torch"),
                           RunConfig(out=str(tmp_path / device), quiet=True))
        runs[device] = fit(config)
    assert runs["cuda"].summary["device"].startswith("cuda")
    network, _ = load_network(runs["cuda"].run_dir)
    fitted = engines.on_device(network, "cuda")
    assert fitted.device.startswith("cuda") and fitted.stacked and fitted.members == 3
    X = np.array([[0.1, 0.2], [-0.5, 0.7]])
    assert fitted.predict_std(X).shape == (2, 1)
    np.testing.assert_allclose(fitted.predict(X), network.predict(X), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fitted.predict(X), runs["cpu"].fitted.predict(X), rtol=1e-2, atol=1e-2)
    assert torch.cuda.is_available()
