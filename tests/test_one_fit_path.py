"""Every kind of fit goes down one path: ensembles and the NumPy engine get what a single torch fit gets
(plots, report, diagnostics, explain, the same stopping rule, Ctrl-C checkpoints and exact resume)."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.fitting.fit import fit, resume_fit
from mlpfit.fitting.stopping import monitor
from mlpfit.interrupt import Interrupted
from mlpfit.runfolder import checkpoint
from mlpfit.train.callbacks import Callback, EarlyStopping

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_linear_ensemble_fits_and_reads_back_as_the_mean_equation(cli, tmp_path):
    """Was: AttributeError, 'EnsembleMLP' has no 'layers' (exit 1)."""
    out = str(tmp_path / "run")
    res = cli("fit", "x1 + x2", "--domain", "0:1", "--hidden", "none", "--ensemble", "2", "--out", out, "--json")
    assert res.code == 0, res.err
    summary = res.json()
    assert summary["equations"][0].startswith("y = 1.0000·x1 + 1.0000·x2")
    spread = summary["coefficient_spread"][0]
    assert set(spread["weights"]) == {"x1", "x2"} and all(v < 1e-3 for v in spread["weights"].values())


def test_explain_reads_an_ensemble_run_in_text_and_json(cli, tmp_path):
    """Was: KeyError 'layers.0.weight' (exit 1)."""
    out = str(tmp_path / "run")
    assert cli("fit", "x1 + x2", "--domain", "0:1", "--hidden", "none", "--ensemble", "3", "--out", out, "--quiet").code == 0
    text = cli("explain", out)
    assert text.code == 0, text.err
    assert "y = 1.0000·x1 + 1.0000·x2" in text.out
    info = cli("explain", out, "--json").json()
    assert info["members"] == 3 and info["coefficient_spread"][0]["output"] == "x1 + x2"

    nonlinear = str(tmp_path / "nonlinear")
    assert cli("fit", "x*y", "--samples", "400", "--hidden", "8", "--epochs", "20", "--ensemble", "2",
               "--out", nonlinear, "--quiet").code == 0
    info = cli("explain", nonlinear, "--json").json()
    assert info["members"] == 2 and info["weights"] and info["layers"][0]["in"] == 2


def test_an_ensemble_run_has_plots_report_and_diagnostics(cli, tmp_path):
    out = tmp_path / "run"
    res = cli("fit", "x**2 + y**2", "--domain", "-3:3", "--samples", "600", "--hidden", "16",
              "--activation", "identity", "--epochs", "30", "--ensemble", "2", "--out", str(out), "--json")
    assert res.code == 0, res.err
    codes = {d["code"] for d in res.json()["diagnostics"]}
    assert "nonlinear_target" in codes  # the tutorial's linear-net pitfall, found for ensembles too
    assert (out / "report.html").is_file() and (out / "loss.png").is_file() and (out / "fit.png").is_file()
    assert "ensemble of 2 members" not in res.out  # --json: the object only
    text = cli("fit", "x1 + x2", "--samples", "300", "--hidden", "4", "--epochs", "5", "--ensemble", "2",
               "--out", str(tmp_path / "text"))
    assert "ensemble of 2 members (mean prediction above)" in text.out


def _config(out, **model):
    return FitConfig(DataConfig(target="x**2 + y", samples=600), ModelConfig(hidden=[16], **model),
                     TrainConfig(epochs=6, batch_size=50, threads=1), RunConfig(out=str(out), quiet=True))


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_dropout_is_honoured_by_an_ensemble(tmp_path, engine):
    """Was: silently ignored yet recorded in config.json."""
    def config(out, **model):
        c = _config(out, ensemble=2, **model)
        c.train.engine = engine
        return c

    fit(config(tmp_path / "a"))
    dropped = fit(config(tmp_path / "b", dropout=0.5))
    assert dropped.summary["architecture"]["dropout"] == 0.5 and dropped.summary["engine"] == engine
    a = load_file(str(tmp_path / "a" / "model.safetensors"))
    b = load_file(str(tmp_path / "b" / "model.safetensors"))
    assert not torch.equal(a["members.layers.0.weight"], b["members.layers.0.weight"])
    assert json.load(open(tmp_path / "b" / "config.json"))["model"]["dropout"] == 0.5


def test_ensemble_classifiers_stop_on_validation_error_like_single_ones():
    config = FitConfig(DataConfig(target="digits"), ModelConfig(ensemble=3), TrainConfig(loss="cross_entropy"))
    assert monitor(config) == "val_error"
    stopper = EarlyStopping(3, monitor="val_error")
    stopper.reset(2)

    class Trainer:  # the minimum the callback reads
        running = np.array([True, True])
        engine = type("E", (), {"keep": lambda self, members: None})()
        history = type("H", (), {"rows": []})()  # no learning rates logged: never warming up

        def stop_members(self, members):
            self.running &= ~members

    trainer = Trainer()
    stopper.on_epoch_end(trainer, {"epoch": 1, "member_val_loss": np.array([1.0, 1.0]),
                                   "member_val_accuracy": np.array([0.5, 0.5])})
    # member 0: accuracy up, loss up (kept: accuracy is what counts); member 1: accuracy same, loss up (not kept)
    stopper.on_epoch_end(trainer, {"epoch": 2, "member_val_loss": np.array([2.0, 2.0]),
                                   "member_val_accuracy": np.array([0.6, 0.5])})
    assert stopper.best_epoch.tolist() == [2, 1]


class SignalAt(Callback):
    """Sends this process a real SIGINT at the end of one epoch, as Ctrl-C would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, logs):
        if logs["epoch"] == self.epoch:
            signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("model, train", [
    ({"ensemble": 3, "dropout": 0.1}, {"engine": "torch"}),
    ({}, {"engine": "torch"}),
    ({"ensemble": 3, "dropout": 0.1}, {"engine": "numpy"}),
    ({}, {"engine": "numpy"}),
    ({"ensemble": 2}, {"engine": "numpy"}),
])
def test_ctrl_c_saves_a_checkpoint_and_resume_matches_an_uninterrupted_fit(tmp_path, model, train):
    """Was: an ensemble or NumPy fit saved nothing on Ctrl-C, and --resume could not continue it."""
    def config(out):
        c = _config(out, **model)
        for key, value in train.items():
            setattr(c.train, key, value)
        return c

    straight = fit(config(tmp_path / "a"))
    with pytest.raises(Interrupted):
        fit(config(tmp_path / "b"), callbacks=[SignalAt(2)])
    assert checkpoint.exists(str(tmp_path / "b"))
    resumed = resume_fit(str(tmp_path / "b"))
    for a, b in zip(straight.fitted.state_arrays().values(), resumed.fitted.state_arrays().values()):
        assert np.array_equal(a, b)
    assert resumed.history.epochs == straight.history.epochs
    assert not checkpoint.exists(str(tmp_path / "b")) and os.path.isfile(tmp_path / "b" / "manifest.json")


def test_a_sweep_scores_on_the_split_and_defaults_of_its_refit():
    """Was: no fixed test split and no image defaults for the settings a sweep scored."""
    from mlpfit.fitting.prepare import load_dataset, prepare
    from mlpfit.fitting.sweeping.batch import load_shared, resolved

    base = FitConfig(DataConfig(target="digits"), train=TrainConfig(epochs=2))
    shared = load_shared(base)
    refit = FitConfig(DataConfig(target="digits"), train=TrainConfig(epochs=2, lr=3e-3))
    split = prepare(refit, load_dataset(refit))
    assert np.array_equal(shared.split.train, split.train) and np.array_equal(shared.split.test, split.test)
    setting = resolved(shared, {"lr": 3e-3})
    assert setting.model.hidden == refit.model.hidden == [512, 256]  # the image recipe, as the refit gets
    assert setting.model.dropout == refit.model.dropout == 0.2
