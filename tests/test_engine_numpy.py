"""--engine numpy through the fit path: it trains, leaves the same run folder as torch, and refuses only L-BFGS."""

import csv
import io

import numpy as np
import pytest
import torch

from mlpfit.runfolder import store as runs
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.errors import UsageError
from mlpfit.nn.model import MLP
from mlpfit.fitting.fit import fit
from mlpfit.runfolder.load import load_fitted
from mlpfit.engines import numpy_mlp as numpy_engine
from mlpfit.train.callbacks import DivergenceGuard, EarlyStopping
from mlpfit.train.trainer import Trainer, TrainData


@pytest.fixture(scope="module")
def curve10(tmp_path_factory):
    """Seed 002's ten points with the curve10 recipe (1-5-1 sigmoid, Adam lr 0.05, 5000 epochs)."""
    out = str(tmp_path_factory.mktemp("curve10") / "run")
    fit(FitConfig(DataConfig(target="curve10"), ModelConfig(), TrainConfig(engine="numpy"), RunConfig(out=out)))
    return out


def test_curve10_fits_its_ten_points_below_mse_1e3(curve10):
    summary = runs.read(curve10).summary
    assert summary["metrics"]["train"]["mse"][0] < 1e-3
    assert summary["architecture"]["sizes"] == [1, 5, 1] and summary["architecture"]["activation"] == "sigmoid"
    assert summary["device"] == "cpu"  # NumPy trains on the CPU whatever --device says


def test_run_folder_has_torch_engine_layout(curve10):
    files = runs.read(curve10)
    rows = list(csv.DictReader(io.StringIO(files.history_csv)))
    assert len(rows) == files.summary["epochs"] and set(rows[0]) == {"epoch", "train_loss", "val_loss", "lr", "seconds"}
    assert set(files.state) == {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}
    assert all(t.dtype == torch.float64 for t in files.state.values())
    model = MLP([1, 5, 1], "sigmoid").double()
    model.load_state_dict(files.state)  # raises if names or shapes differ
    assert files.config["train"]["engine"] == "numpy" and files.samples is not None


def test_predict_reads_the_numpy_run(cli, curve10):
    res = cli("predict", curve10, "1.11", "--json")
    assert res.code == 0 and res.json()["predictions"][0][0] == pytest.approx(0.4576, abs=0.05)
    _, fitted, _, _ = load_fitted(curve10)
    assert fitted.predict(np.array([[-10.0]]))[0, 0] == pytest.approx(0.9413, abs=0.05)


def test_explain_reads_the_numpy_run(cli, curve10):
    res = cli("explain", curve10, "--json")
    assert res.code == 0 and res.json()["parameters"] == 16


def test_cli_fit_curve10_numpy_json(cli, tmp_path):
    res = cli("fit", "curve10", "--engine", "numpy", "--epochs", "300", "--json", "--out", str(tmp_path / "r"))
    assert res.code == 0
    summary = res.json()
    assert summary["epochs"] <= 300 and summary["run"] == str(tmp_path / "r")


def test_numpy_engine_learns_a_smooth_function_like_torch():
    def r2(engine):
        config = FitConfig(DataConfig(target="sin(2*x)", samples=600), ModelConfig(hidden=[16, 16]),
                           TrainConfig(epochs=300, engine=engine), RunConfig())
        return fit(config, save=False).summary["metrics"]["test"]["r2"][0]

    assert r2("numpy") > 0.99 and r2("torch") > 0.99


def test_same_seed_same_weights():
    def weights():
        config = FitConfig(DataConfig(target="x**2", samples=100), ModelConfig(hidden=[4]),
                           TrainConfig(epochs=20, engine="numpy", optimizer="sgd", batch_size=16), RunConfig())
        return fit(config, save=False).fitted.model.layers[0].weight.detach().numpy()

    np.testing.assert_array_equal(weights(), weights())


def test_divergence_is_recorded_not_raised():
    config = FitConfig(DataConfig(target="x**2 + y**2", domain=(-14.0, 14.0), samples=200), ModelConfig(hidden=[8]),
                       TrainConfig(epochs=30, engine="numpy", optimizer="sgd", lr=1000.0), RunConfig())
    result = fit(config, save=False)
    assert result.history.diverged
    assert result.summary["diagnostics"][-1]["code"] == "diverged"


def test_lbfgs_is_refused_naming_the_option(cli, tmp_path):
    res = cli("fit", "x**2", "--engine", "numpy", "--optimizer", "lbfgs", "--out", str(tmp_path / "r"))
    assert res.code == 2 and "--optimizer lbfgs" in res.err and "--engine numpy" in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()  # refused before a run folder is made


@pytest.mark.parametrize("option", [{"optimizer": "rmsprop"}, {"optimizer": "radam"}, {"optimizer": "adamw"},
                                    {"loss": "huber"}, {"loss": "mae"}, {"loss": "bce"}])
def test_what_the_engine_implements_is_accepted(option):
    config = FitConfig(DataConfig(), ModelConfig(dropout=0.2), TrainConfig(engine="numpy", **option), RunConfig())
    numpy_engine.check_supported(config, "regress")
    numpy_engine.check_supported(config, "classify")


def test_loop_keeps_the_best_validation_weights_and_stops_early():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, 1))
    engine = numpy_engine.NumpyEngine([1, 4, 1], TrainData(X, X**2, X, X**2), activation="tanh",
                                      output_activation="identity", epochs=2000, batch_size=40, lr=0.05,
                                      optimizer="adam", schedule="constant", seeds=[0])
    history = Trainer(engine, 2000, [DivergenceGuard(), EarlyStopping(5)]).run()
    best = min(history.column("val_loss"))
    assert history.stopped_early and history.epochs < 2000
    assert history.column("val_loss")[history.best_epoch - 1] == pytest.approx(best)
    assert engine.evaluate()["val_loss"][0] == pytest.approx(best)


def test_cli_fits_a_classification_table(cli, tmp_path):
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    lines = [",".join([f"x{i}" for i in range(bunch.data.shape[1])] + ["diagnosis"])]
    lines += [",".join([*(f"{v:.10g}" for v in row), ("malignant", "benign")[t]]) for row, t in zip(bunch.data, bunch.target)]
    (tmp_path / "cancer.csv").write_text("\n".join(lines) + "\n")
    res = cli("fit", str(tmp_path / "cancer.csv"), "--engine", "numpy", "--dropout", "0.1", "--epochs", "60",
              "--json", "--no-plots", "--out", str(tmp_path / "r"))
    assert res.code == 0, res.err
    summary = res.json()
    assert summary["metrics"]["test"]["accuracy"] >= 0.93
    predicted = cli("predict", str(tmp_path / "r"), "--input", str(tmp_path / "cancer.csv"), "--json")
    assert predicted.code == 0, predicted.err
    labels = [row[0] for row in predicted.json()["predictions"]]
    truth = [("malignant", "benign")[t] for t in bunch.target]
    assert np.mean([a == b for a, b in zip(labels, truth)]) >= 0.93  # the saved model predicts as it scored
