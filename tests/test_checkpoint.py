"""Checkpoints: packing without pickle, exact resume of the loop, atomic saves, refusal of bad files."""

import json
import math
import os
import signal

import pytest
import torch

import numpy as np

from mlpfit.config.schema import DataConfig, FitConfig, RunConfig, TrainConfig
from mlpfit.engines.numpy.engine import NumpyEngine
from mlpfit.engines.torch.single import TorchEngine
from mlpfit.engines.torch.stacked import StackedEngine
from mlpfit.errors import RunFolderError
from mlpfit.fitting import interruptible
from mlpfit.fitting.fit import fit, resume_fit
from mlpfit.interrupt import Interrupted
from mlpfit.engines.torch.model import MLP
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.runfolder import checkpoint
from mlpfit.train.callbacks import Callback, DivergenceGuard, EarlyStopping
from mlpfit.train.trainer import Trainer, TrainData


def test_pack_round_trips_int_keys_tuples_arrays_and_infinities():
    state = {"state": {0: {"step": np.array(3.0, dtype=np.float32), "exp_avg": np.arange(4.0, dtype=np.float32)}},
             "groups": [{"betas": (0.9, 0.999), "lr": 0.01, "params": [0, 1]}], "best": math.inf, "none": None}
    tensors = {}
    packed = json.loads(json.dumps(checkpoint.pack(state, tensors)))
    back = checkpoint.unpack(packed, tensors)
    assert list(back["state"]) == [0] and back["groups"][0]["betas"] == (0.9, 0.999)
    assert np.array_equal(back["state"][0]["exp_avg"], np.arange(4.0)) and back["best"] == math.inf
    assert back["state"][0]["step"].shape == () and back["state"][0]["exp_avg"].dtype == np.float32
    assert "__items__" in packed["state"]


def test_pack_refuses_objects_json_cannot_hold():
    with pytest.raises(TypeError, match="object"):
        checkpoint.pack({"x": object()}, {})


# ---------------------------------------------------------------- the loop resumes exactly


def _data(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g) * 2 - 1
    Y = (X ** 2).sum(1, keepdim=True)
    return TrainData(X[:250], Y[:250], X[250:], Y[250:])


def _loop(optimizer="adam", batch_size=32, epochs=6, patience=50, engine="torch"):
    """A trainer of one engine kind on the same small problem: "torch", "stacked" (3 members, per-member lr)
    or "numpy" (2 members)."""
    torch.manual_seed(0)
    common = dict(epochs=epochs, batch_size=batch_size, optimizer=optimizer, schedule="onecycle")
    if engine == "torch":
        made = TorchEngine(MLP([2, 16, 1], "tanh"), _data(), lr=0.01, loss="mse", seed=0, **common)
    elif engine == "stacked":
        model = EnsembleMLP([2, 16, 1], "tanh", seeds=[0, 1, 2], dropout=0.1)
        made = StackedEngine(model, _data(), lr=[0.01, 0.02, 0.005], loss="mse", seed=0, **common)
    else:
        data = _data()
        arrays = TrainData(*(t.double().numpy() for t in (data.X, data.Y, data.X_val, data.Y_val)))
        made = NumpyEngine([2, 16, 1], arrays, activation="tanh", output_activation="identity", lr=0.01,
                           seeds=[0, 1], **common)
    return Trainer(made, epochs, [DivergenceGuard(), EarlyStopping(patience)])


def _weights(trainer) -> list:
    engine = trainer.engine
    if isinstance(engine, NumpyEngine):
        return [torch.from_numpy(v) for k in range(engine.members) for v in engine.member_state(k).values()]
    return list(engine.model.state_dict().values())


def _stop_after(steps):
    count = {"n": 0}

    def should_stop():
        count["n"] += 1
        return count["n"] == steps

    return should_stop


def _interrupted_then_resumed(tmp_path, stop_at, **kw):
    first = _loop(**kw)
    first.should_stop = _stop_after(stop_at)
    first.run()
    assert first.interrupted
    checkpoint.save(str(tmp_path), {"config": {"note": "cfg"}, "trainer": first.state_dict()})
    torch.manual_seed(123)  # a fresh process would not share the global RNG state
    second = _loop(**kw)
    interruptible.restore(second, checkpoint.load(str(tmp_path)), "RUN/checkpoint")
    second.run()
    return second


@pytest.mark.parametrize("kw, stop_at", [
    ({}, 20),                                  # mid-epoch minibatches (8 per epoch)
    ({}, 16),                                  # exactly at an epoch's end
    ({"batch_size": 1000}, 3),                 # full batch
    ({"optimizer": "lbfgs", "epochs": 3}, 2),  # L-BFGS: its history of curvature pairs
    ({"patience": 2, "epochs": 20}, 52),       # early stopping state (wait is 1 here): best weights, wait
    ({"engine": "stacked"}, 20),               # an ensemble: per-member lr, dropout masks, kept weights
    ({"engine": "stacked", "patience": 2, "epochs": 20}, 52),
    ({"engine": "numpy"}, 20),                 # the NumPy engine: its generators and Adam moments
    ({"engine": "numpy", "optimizer": "sgd", "batch_size": 1000}, 3),
])
def test_resumed_loop_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, kw, stop_at):
    straight = _loop(**kw)
    straight.run()
    resumed = _interrupted_then_resumed(tmp_path, stop_at, **kw)
    for i, (a, b) in enumerate(zip(_weights(straight), _weights(resumed))):
        assert torch.equal(a, b), i
    assert [r["train_loss"] for r in resumed.history.rows] == [r["train_loss"] for r in straight.history.rows]
    assert (resumed.history.best_epoch, resumed.history.stopped_early) == (straight.history.best_epoch, straight.history.stopped_early)


def test_early_stopping_really_stopped_in_the_patience_case(tmp_path):
    resumed = _interrupted_then_resumed(tmp_path, 52, patience=2, epochs=20)
    assert resumed.history.stopped_early and resumed.history.epochs == 7


# ---------------------------------------------------------------- files: atomic, verified


def _saved(tmp_path, value=1.0):
    return checkpoint.save(str(tmp_path), {"config": {"v": value}, "w": np.full(3, value, dtype=np.float32),
                                           "a": np.full(2, value)})


def test_a_crash_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    _saved(tmp_path, 1.0)
    real_replace = os.replace

    def failing_replace(src, dst):
        if dst.endswith("manifest.json"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        _saved(tmp_path, 2.0)
    monkeypatch.undo()
    state = checkpoint.load(str(tmp_path))
    assert state["config"] == {"v": 1.0} and np.array_equal(state["w"], np.full(3, 1.0))
    assert isinstance(state["a"], np.ndarray) and state["a"].tolist() == [1.0, 1.0]  # NumPy stays NumPy


def test_a_second_save_replaces_the_first_and_leaves_no_stale_files(tmp_path):
    _saved(tmp_path, 1.0)
    _saved(tmp_path, 2.0)
    assert checkpoint.load(str(tmp_path))["config"] == {"v": 2.0}
    assert len(os.listdir(checkpoint.folder(str(tmp_path)))) == 3


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_every_damaged_checkpoint_file_is_refused_naming_it(tmp_path, damage):
    for i in range(3):  # the manifest, the JSON state, the tensors (names carry a content hash)
        run = tmp_path / str(i)
        folder = _saved(run)
        name = sorted(os.listdir(folder))[i]
        path = os.path.join(folder, name)
        data = open(path, "rb").read()
        if damage == "delete":
            os.unlink(path)
        else:
            damaged = data[: len(data) // 2] if damage == "truncate" else data[:10] + bytes([data[10] ^ 0xFF]) + data[11:]
            open(path, "wb").write(damaged)
        with pytest.raises(RunFolderError) as err:
            checkpoint.load(str(run))
        assert name in str(err.value) and "\n" not in str(err.value)


def test_a_newer_checkpoint_format_is_refused(tmp_path):
    folder = _saved(tmp_path)
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    manifest["version"] = checkpoint.FORMAT_VERSION + 1
    json.dump(manifest, open(os.path.join(folder, "manifest.json"), "w"))
    with pytest.raises(RunFolderError, match="upgrade mlpfit"):
        checkpoint.load(str(tmp_path))


def test_a_finished_run_has_nothing_to_resume(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(RunFolderError, match="finished, nothing to resume"):
        checkpoint.load(str(tmp_path))


# ---------------------------------------------------------------- through the pipeline


class SignalAt(Callback):
    """Sends this process a real signal at the end of one epoch, as Ctrl-C would."""

    def __init__(self, epoch, sig=signal.SIGINT):
        self.epoch, self.sig = epoch, sig

    def on_epoch_end(self, trainer, logs):
        if logs["epoch"] == self.epoch:
            signal.raise_signal(self.sig)


def _config(out):
    return FitConfig(data=DataConfig(target="x**2 + y", samples=600),
                     train=TrainConfig(epochs=6, batch_size=50, threads=1), run=RunConfig(out=str(out), quiet=True))


def test_pipeline_saves_on_a_signal_and_resume_fit_matches_a_straight_fit(tmp_path):
    straight = fit(_config(tmp_path / "a"))
    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN when run in the background
    with pytest.raises(Interrupted) as err:
        fit(_config(tmp_path / "b"), callbacks=[SignalAt(2)])
    assert err.value.exit_code == 130 and "mlpfit fit --resume" in str(err.value)
    assert checkpoint.exists(str(tmp_path / "b"))
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored
    resumed = resume_fit(str(tmp_path / "b"), "x**2 + y")
    for a, b in zip(straight.fitted.state_arrays().values(), resumed.fitted.state_arrays().values()):
        assert np.array_equal(a, b)
    assert resumed.config.train.epochs == 6 and resumed.history.epochs == 6
    seconds = resumed.history.column("seconds")
    assert seconds == sorted(seconds) and resumed.summary["seconds"] >= seconds[-1] - 1e-3  # time adds up across the resume
    assert not checkpoint.exists(str(tmp_path / "b"))  # the finished run needs it no more


def test_resume_refuses_a_different_target(tmp_path):
    with pytest.raises(Interrupted):
        fit(_config(tmp_path), callbacks=[SignalAt(1)])
    with pytest.raises(Exception, match="differs from the checkpoint"):
        resume_fit(str(tmp_path), "sin(x)")


def _stopped_state(engine="torch") -> dict:
    trainer = _loop(engine=engine)
    trainer.should_stop = _stop_after(3)
    trainer.run()
    return {"trainer": trainer.state_dict()}


def _refused(state, engine="torch"):
    with pytest.raises(RunFolderError, match="does not fit this model") as err:
        interruptible.restore(_loop(engine=engine), state, "RUN/checkpoint")
    assert "\n" not in str(err.value) and "RUN/checkpoint" in str(err.value)
    return str(err.value)


def test_a_checkpoint_that_does_not_fit_the_model_is_refused_in_one_line():
    state = _stopped_state()
    state["trainer"]["engine"]["model"] = {"layers.0.weight": np.zeros((5, 5), dtype=np.float32)}
    _refused(state)


@pytest.mark.parametrize("shape", [(16,), (15, 2)])
def test_optimizer_moments_of_the_wrong_shape_are_refused_not_stepped_on(shape):
    """A fused Adam stepping on a moment of the wrong shape crashed the process (exit 139) or broadcast silently."""
    state = _stopped_state()
    moments = state["trainer"]["engine"]["optimizer"]["state"][0]
    moments["exp_avg_sq"] = np.zeros(shape, dtype=np.float32)
    assert "exp_avg_sq" in _refused(state)


@pytest.mark.parametrize("engine, edit", [
    ("stacked", lambda e: e["optimizer"]["moments"][0].__setitem__(1, np.zeros((3, 16), dtype=np.float32))),
    ("stacked", lambda e: e.__setitem__("kept", e["kept"][:-1])),
    ("numpy", lambda e: e["optimizers"][0].__setitem__("exp_avg", np.zeros(16))),
    ("numpy", lambda e: e.__setitem__("params", e["params"][:1])),
    ("torch", lambda e: e.__setitem__("epoch_rng", np.zeros(3, dtype=np.uint8))),
])
def test_every_engine_checks_its_saved_state_against_the_model(engine, edit):
    state = _stopped_state(engine)
    edit(state["trainer"]["engine"])
    _refused(state, engine)


@pytest.mark.parametrize("edit", [
    lambda t: t.__setitem__("epoch", 10**9),
    lambda t: t.__setitem__("running", [True, False]),
    lambda t: t["callbacks"]["EarlyStopping"].__setitem__("wait", [1, 2, 3]),
    lambda t: t["callbacks"].pop("DivergenceGuard"),
    lambda t: t["history"].__setitem__("rows", [{"epoch": "one"}]),
])
def test_the_trainer_checks_its_own_saved_state(edit):
    state = _stopped_state()
    edit(state["trainer"])
    _refused(state)


def test_the_cli_resumes_with_the_same_target_given(tmp_path, capsys):
    from mlpfit.cli import main as cli

    straight = fit(_config(tmp_path / "a"))
    with pytest.raises(Interrupted):
        fit(_config(tmp_path / "b"), callbacks=[SignalAt(3)])
    with pytest.raises(SystemExit) as done:
        cli.main(["fit", "x**2 + y", "--resume", str(tmp_path / "b"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert done.value.code == 0 and out["epochs"] == 6 and out["run"] == str(tmp_path / "b")
    assert out["metrics"]["test"] == straight.summary["metrics"]["test"]


def test_a_torch_engines_state_is_numpy_and_keeps_its_0_d_values_through_a_checkpoint(tmp_path):
    state = _stopped_state()
    engine = state["trainer"]["engine"]
    assert isinstance(engine["model"]["layers.0.weight"], np.ndarray)  # no tensor leaves the engine
    checkpoint.save(str(tmp_path), state)
    back = checkpoint.load(str(tmp_path))["trainer"]["engine"]
    assert back["optimizer"]["state"][0]["step"].shape == engine["optimizer"]["state"][0]["step"].shape == ()
