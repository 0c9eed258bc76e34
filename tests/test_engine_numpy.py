"""--engine numpy through the fit path: it trains, leaves the same run folder as torch, and refuses only L-BFGS."""

import csv
import io
import threading

import numpy as np
import pytest
import torch

from mlpfit.runfolder import store as runs
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.engines.torch.model import MLP
from mlpfit.fitting.fit import fit
from mlpfit.runfolder.run import load_network
from mlpfit.engines.numpy import engine as numpy_engine, optim as numpy_optim, threads as numpy_threads
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
    assert all(t.dtype == np.float32 for t in files.state.values())  # what the torch engine saves too
    model = MLP([1, 5, 1], "sigmoid")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in files.state.items()})  # raises if names or shapes differ
    assert files.config["train"]["engine"] == "numpy" and files.samples is not None


def test_predict_reads_the_numpy_run(cli, curve10):
    res = cli("predict", curve10, "1.11", "--json")
    assert res.code == 0 and res.json()["predictions"][0][0] == pytest.approx(0.4576, abs=0.05)
    fitted, _ = load_network(curve10)
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
        return fit(config, save=False).fitted.weights[0]

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
    numpy_engine.check_supported(config)  # for regression and classes alike


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


# ---------------------------------------------------------------- the engine itself


def small_engine(seeds=(0, 1), *, X=None, Y=None, W=None, loss="mse", sizes=None, **options):
    """An engine on a small weighted problem, with everything that has state switched on."""
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (90, 2)) if X is None else X
    Y = np.sin(3 * X[:, :1]) + X[:, 1:] ** 2 if Y is None else Y
    W = rng.uniform(0.2, 2.0, len(X)) if W is None else W
    settings = dict(activation="tanh", output_activation="identity", epochs=4, batch_size=16, lr=0.01,
                    optimizer="adam", schedule="onecycle", dropout=0.2, alpha=1e-3, weight_decay=1e-4)
    settings.update(options)
    data = TrainData(X, Y, X[:30], Y[:30], W, W[:30])
    return numpy_engine.NumpyEngine(sizes or [X.shape[1], 12, 12, np.shape(Y)[1] if np.ndim(Y) > 1 else 3],
                                    data, seeds=list(seeds), loss=loss, **settings)


def stop_after(steps):
    count = iter(range(steps, 0, -1))
    return lambda: next(count, 0) == 1


def test_checkpoint_mid_epoch_resumes_bit_identically():
    from mlpfit.runfolder.checkpoint import pack, unpack

    straight = small_engine()
    losses = [straight.train_epoch(lambda: False) for _ in range(3)]
    first = small_engine()
    first.train_epoch(lambda: False)
    assert first.train_epoch(stop_after(3)) is None  # interrupted after 3 of the epoch's 6 steps
    arrays = {}
    packed = pack(first.state_dict(), arrays)  # as the checkpoint file stores it: plain JSON + arrays
    resumed = small_engine()
    resumed.load_state_dict(unpack(packed, arrays))
    again = [resumed.train_epoch(lambda: False) for _ in range(2)]
    np.testing.assert_array_equal(again[0], losses[1])
    np.testing.assert_array_equal(again[1], losses[2])
    np.testing.assert_array_equal(resumed.params, straight.params)
    for name, value in straight.optimizer_state()[1].items():
        np.testing.assert_array_equal(resumed.optimizer_state()[1][name], value)


def test_a_twocycle_fit_interrupted_in_its_second_cycle_resumes_bit_identically():
    """The rate restarts after epoch 2 of 6 (train.schedules); a checkpoint taken in epoch 4 holds
    everything the restart, the patience counted from the peak and the settle rule need."""
    from mlpfit.runfolder.checkpoint import pack, unpack
    from mlpfit.train.callbacks import DivergenceGuard, EarlyStopping, Settle
    from mlpfit.train.trainer import Trainer

    def trainer():
        engine = small_engine(epochs=6, schedule="twocycle")
        return Trainer(engine, 6, [DivergenceGuard(), EarlyStopping(2), Settle(0.999999, 2, 3, 1.0)])

    straight = trainer()
    straight.run()
    first = trainer()
    steps = iter(range(1000))
    first.should_stop = lambda: next(steps) == 20  # epoch 4 (6 steps an epoch), after the restart
    first.run()
    assert first.interrupted and first.epoch == 4
    arrays = {}
    packed = pack(first.state_dict(), arrays)
    resumed = trainer()
    resumed.load_state_dict(unpack(packed, arrays))
    resumed.run()
    lrs = straight.history.column("lr")
    assert lrs[2] > lrs[1] and lrs[1] < lrs[0]  # annealed by the first cycle's end, then warming up again
    np.testing.assert_array_equal(resumed.engine.params, straight.engine.params)
    assert [r["val_loss"] for r in resumed.history.rows] == [r["val_loss"] for r in straight.history.rows]


def test_same_seed_same_model_and_member_k_trains_like_seed_plus_k():
    pair, alone, again = small_engine([3, 4]), small_engine([4]), small_engine([3, 4])
    for engine in (pair, alone, again):
        for _ in range(2):
            engine.train_epoch(lambda: False)
    np.testing.assert_array_equal(pair.params, again.params)
    for name, value in alone.member_state(0).items():
        np.testing.assert_array_equal(pair.member_state(1)[name], value)
    assert not np.array_equal(pair.params[0], pair.params[1])


def test_member_state_has_torchs_names_and_warm_starts_an_engine():
    engine = small_engine([0])
    engine.train_epoch(lambda: False)
    state = engine.member_state(0)
    assert list(state) == list(MLP([2, 12, 12, 1]).state_dict()) and state["layers.1.weight"].shape == (12, 12)
    assert all(v.dtype == np.float32 for v in state.values())
    state["layers.0.bias"][0] = 123.0  # a copy: the engine's weights stay
    assert engine.member_state(0)["layers.0.bias"][0] != 123.0
    warm = small_engine([7], initial_params=[engine.member_state(0)])
    np.testing.assert_array_equal(warm.params, engine.params)
    with pytest.raises(ValueError):
        small_engine([7, 8], initial_params=[engine.member_state(0)])  # one member's weights for two
    with pytest.raises(ValueError):
        small_engine([7], initial_params=[{**state, "layers.2.weight": np.zeros((2, 12))}])


def test_optimizer_state_continues_a_fit():
    engine = small_engine([0], dropout=0.0)
    engine.train_epoch(lambda: False)
    moments = engine.optimizer_state()
    later = small_engine([0], dropout=0.0, initial_params=[engine.member_state(0)], optimizer_state=moments)
    assert later.optimizer.t == engine.optimizer.t > 0
    np.testing.assert_array_equal(later.optimizer.exp_avg_sq, engine.optimizer.exp_avg_sq)
    with pytest.raises(ValueError):
        small_engine([0], optimizer_state=[{**moments[0], "exp_avg": np.zeros(3)}])


def bad_states():
    def edit(change):
        engine = small_engine()
        engine.train_epoch(stop_after(2))
        state = engine.state_dict()
        change(state)
        return state

    yield edit(lambda s: s.__setitem__("params", s["params"][:, :-1]))  # wrong shape
    yield edit(lambda s: s.__setitem__("params", s["params"][:1]))  # wrong member count
    yield edit(lambda s: s.__setitem__("kept", "weights"))
    yield edit(lambda s: s.__setitem__("optimizers", s["optimizers"][:1]))
    yield edit(lambda s: s["optimizers"][0].__setitem__("exp_avg", np.zeros(5)))
    yield edit(lambda s: s["rng"].__setitem__(0, {"bit_generator": "MT19937"}))
    yield edit(lambda s: s["dropout_rng"].__setitem__(1, None))
    yield edit(lambda s: s["epoch_rng"].pop())
    yield edit(lambda s: s.__setitem__("active", [True]))
    yield edit(lambda s: s.__setitem__("step", 10**6))
    yield edit(lambda s: s.__setitem__("step", -1))
    yield edit(lambda s: s.__setitem__("steps_done", 1.5))
    yield edit(lambda s: s.__setitem__("partial_loss", np.zeros(3)))
    yield edit(lambda s: s.__setitem__("partial_loss", None))  # mid-epoch without its loss so far
    yield edit(lambda s: s.pop("dropout_rng"))
    yield ["not", "a", "state"]


@pytest.mark.parametrize("state", list(bad_states()))
def test_a_bad_state_is_a_value_error_and_changes_nothing(state):
    engine = small_engine()
    before = engine.params.copy()
    with pytest.raises(ValueError):
        engine.load_state_dict(state)
    np.testing.assert_array_equal(engine.params, before)


def test_fits_x2_plus_y2_to_r2_0_9999_on_held_out_points():
    config = FitConfig(DataConfig(target="x**2 + y**2", domain=(-14.0, 14.0), samples=2000),
                       ModelConfig(hidden=[64, 64], activation="tanh"),
                       TrainConfig(engine="numpy", optimizer="adam", schedule="onecycle", epochs=150, batch_size=64,
                                   lr=3e-3), RunConfig())
    result = fit(config, save=False)
    assert result.summary["metrics"]["test"]["r2"][0] >= 0.9999


def two_moons(n, seed):
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    X = np.stack([np.cos(angle) + label, np.sin(angle) * (1 - 2 * label) + 0.5 * label], axis=1)
    return X + rng.normal(0, 0.1, X.shape), label


@pytest.mark.parametrize("loss", ["cross_entropy", "bce"])
def test_classifies_two_moons(loss):
    X, label = two_moons(600, 0)
    X_test, label_test = two_moons(400, 1)
    Y = label if loss == "cross_entropy" else label[:, None].astype(float)
    engine = small_engine([0], X=X, Y=Y, W=np.ones(len(X)), loss=loss, sizes=[2, 16, 16, 2 if loss == "cross_entropy" else 1],
                          epochs=60, batch_size=32, lr=0.01, dropout=0.1, alpha=0.0, weight_decay=0.0)
    for _ in range(60):
        engine.train_epoch(lambda: False)
    out = engine.outputs(0, X_test)
    predicted = out.argmax(axis=1) if loss == "cross_entropy" else (out[:, 0] > 0).astype(int)
    assert (predicted == label_test).mean() >= 0.97
    scores = engine.evaluate()
    if loss == "cross_entropy":  # accuracy on the validation rows, as torch_single.evaluate counts it
        val = engine.outputs(0, X[:30]).argmax(axis=1)
        assert scores["val_accuracy"][0] == pytest.approx((val == label[:30]).mean())
        logits = torch.as_tensor(engine.outputs(0, X[:30]), dtype=torch.float64)
        expected = torch.nn.functional.cross_entropy(logits, torch.as_tensor(label[:30]))
        assert scores["val_loss"][0] == pytest.approx(float(expected), rel=1e-5)


def test_members_step_together_one_product_per_layer_whatever_their_number(monkeypatch):
    """Was: member after member (K products per layer a step): 32 members cost 8.7 s against 0.32 s for one
    fit. The number of matrix products a step takes must not grow with the members."""
    counted = []
    matmul = np.matmul

    def counting(*args, **kwargs):
        counted.append(1)
        return matmul(*args, **kwargs)

    calls = {}
    for members in (1, 8):
        engine = small_engine(list(range(members)), dropout=0.0)
        engine.train_epoch(lambda: False)  # workspaces made
        monkeypatch.setattr(np, "matmul", counting)
        counted.clear()
        engine.train_epoch(lambda: False)
        monkeypatch.setattr(np, "matmul", matmul)
        calls[members] = len(counted)
    assert calls[8] == calls[1] > 0


@pytest.mark.parametrize("optimizer", list(numpy_optim.OPTIMIZERS))
@pytest.mark.parametrize("threads", [2, 3])
def test_members_split_over_threads_train_exactly_as_on_one(optimizer, threads):
    """Each thread steps its own members' gradients and optimizer rows (their moments are views of the whole's)."""
    one, split = (small_engine(list(range(5)), threads=n, optimizer=optimizer) for n in (1, threads))
    assert len(split.groups) == threads
    for engine in (one, split):
        for _ in range(2):
            engine.train_epoch(lambda: False)
    np.testing.assert_array_equal(one.params, split.params)
    for k in range(5):
        for name, value in one.optimizer_state()[k].items():
            np.testing.assert_array_equal(split.optimizer_state()[k][name], value)


def test_a_trainer_holds_the_member_threads_across_epochs_and_leaves_none_behind(monkeypatch):
    """Threads started once a fit, not once an epoch (a start cost 100-400 µs of a 6 ms epoch); evaluate's
    groups use them too and give the one-thread engine's scores."""
    started = []
    pool_class = numpy_threads.concurrent.futures.ThreadPoolExecutor

    def counting(*args, **kwargs):
        started.append(1)
        return pool_class(*args, **kwargs)

    monkeypatch.setattr(numpy_threads.concurrent.futures, "ThreadPoolExecutor", counting)
    before = threading.active_count()
    one, split = (small_engine(list(range(5)), threads=n) for n in (1, 2))
    histories = [Trainer(engine, 3).run() for engine in (one, split)]
    assert len(started) == 1 and split.pool is None
    assert threading.active_count() == before
    np.testing.assert_array_equal(one.params, split.params)
    assert histories[0].column("val_loss") == histories[1].column("val_loss")
    np.testing.assert_array_equal(one.evaluate()["val_loss"], split.evaluate()["val_loss"])


def test_a_stopped_member_keeps_its_weights_and_moments_while_the_others_train():
    engine = small_engine([0, 1, 2])
    engine.train_epoch(lambda: False)
    engine.freeze(np.array([False, True, False]))
    before, moments = engine.params[1].copy(), engine.optimizer_state()[1]
    engine.train_epoch(lambda: False)
    np.testing.assert_array_equal(engine.params[1], before)
    after = engine.optimizer_state()[1]
    assert after["t"] == moments["t"] and np.array_equal(after["exp_avg"], moments["exp_avg"])
    assert engine.optimizer_state()[0]["t"] > moments["t"]  # the others went on
