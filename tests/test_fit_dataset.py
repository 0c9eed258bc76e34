"""fit(config, dataset=...): training on a Dataset already in memory, the path arrays take."""
import numpy as np

from mlpfit.fitting.fit import fit
from mlpfit.runfolder.run import load
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, TrainConfig
from mlpfit.data.dataset import Dataset


def _dataset(n=200):
    X = np.random.default_rng(0).uniform(-1, 1, (n, 2))
    return Dataset("array", X, (X[:, :1] - 2 * X[:, 1:]), ["a", "b"], ["y"])


def test_fit_dataset_trains_resolves_and_saves_nothing():
    config = FitConfig(DataConfig(test_fraction=0.0), ModelConfig(hidden=[]), TrainConfig(epochs=200, lr=0.1))
    result = fit(config, dataset=_dataset(), save=False)
    assert result.run_dir is None and result.config.train.batch_size == 180  # resolved: full batch
    assert len(result.split.test) == 0 and result.summary["metrics"]["test"] is None
    assert result.summary["examples"] == {"train": 180, "val": 20, "test": 0}
    assert result.summary["metrics"]["train"]["r2"][0] > 0.999


def test_fit_dataset_holds_out_a_test_split_when_asked(tmp_path):
    config = FitConfig(DataConfig(test_fraction=0.2), ModelConfig(hidden=[4]), TrainConfig(epochs=3))
    config.run.out = str(tmp_path / "run")
    result = fit(config, dataset=_dataset(), save=True)
    assert len(result.split.test) == 40 and result.summary["metrics"]["test"]["n"] == 40
    assert load(str(tmp_path / "run")).network.inputs == ["a", "b"]
