"""The trainer with the torch engine: batching, early stopping, divergence, optimizers."""

import math

import pytest
import torch

from mlpfit.engines.torch.single import TorchEngine
from mlpfit.engines.torch.model import MLP
from mlpfit.train.callbacks import DivergenceGuard, EarlyStopping
from mlpfit.train.schedules import SCHEDULES
from mlpfit.train.trainer import Trainer, TrainData


def data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g) * 2 - 1
    Y = (X**2).sum(dim=1, keepdim=True)
    Y = (Y - Y.mean()) / Y.std()
    return TrainData(X, Y, X[:64], Y[:64])


def make_loop(optimizer="adam", lr=1e-2, epochs=200, batch_size=64, callbacks=(), seed=0):
    torch.manual_seed(seed)
    engine = TorchEngine(MLP([2, 32, 1], "tanh"), data(), epochs=epochs, batch_size=batch_size, lr=lr,
                         optimizer=optimizer, loss="mse", schedule="onecycle", seed=seed)
    return Trainer(engine, epochs, list(callbacks))


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "radam", "sgd", "rmsprop", "lbfgs"])
def test_every_optimizer_reduces_the_loss(optimizer):
    from mlpfit.config.defaults import DEFAULT_LR

    # RAdam's own rectification warm-up makes its first few hundred steps slow: give it more.
    epochs = {"lbfgs": 30, "radam": 300}.get(optimizer, 100)
    history = make_loop(optimizer, DEFAULT_LR[optimizer], epochs=epochs).run()
    losses = history.column("train_loss")
    assert losses[-1] < 0.2 * losses[0], (optimizer, losses[0], losses[-1])


def test_history_has_one_row_per_epoch_with_the_logged_columns():
    history = make_loop(epochs=7).run()
    assert history.epochs == 7 and history.column("epoch") == list(range(1, 8))
    assert all(math.isfinite(r["val_loss"]) and r["lr"] > 0 for r in history.rows)


def test_early_stopping_restores_the_best_weights():
    stopper = EarlyStopping(patience=3)
    loop = make_loop(epochs=300, callbacks=[stopper])
    history = loop.run()
    best = min(history.column("val_loss"))
    assert history.best_epoch == stopper.best_epoch[0] and history.epochs > history.best_epoch
    assert loop.engine.evaluate()["val_loss"][0] == pytest.approx(best, rel=1e-5)


def test_divergence_is_detected_and_stops_training():
    guard = DivergenceGuard()
    history = make_loop(optimizer="sgd", lr=1e4, epochs=50, callbacks=[guard]).run()
    assert history.diverged and history.diverged_at is not None and history.epochs < 50


def test_same_seed_same_weights():
    a, b = make_loop(epochs=5), make_loop(epochs=5)
    a.run(), b.run()
    for p, q in zip(a.engine.model.parameters(), b.engine.model.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_stay_positive_and_end_low(name):
    values = [SCHEDULES[name](step, 100) for step in range(101)]
    assert all(0 < v <= 1.0 for v in values)
    if name != "constant":
        assert values[-1] < 0.01


def test_an_interrupted_epoch_resumes_to_the_same_weights():
    """should_stop mid-epoch leaves a state; a fresh trainer loaded with it finishes like an uninterrupted run."""
    straight = make_loop(epochs=6, callbacks=[DivergenceGuard(), EarlyStopping(3)])
    straight.run()
    stopped = make_loop(epochs=6, callbacks=[DivergenceGuard(), EarlyStopping(3)])
    steps = iter(range(1000))
    stopped.should_stop = lambda: next(steps) == 9  # mid-epoch 3 (4 steps per epoch)
    stopped.run()
    assert stopped.interrupted and stopped.epoch == 3 and stopped.engine.step == 2
    resumed = make_loop(epochs=6, callbacks=[DivergenceGuard(), EarlyStopping(3)])
    resumed.load_state_dict(stopped.state_dict())
    resumed.run()
    for p, q in zip(straight.engine.model.parameters(), resumed.engine.model.parameters()):
        assert torch.equal(p, q)
    assert straight.history.rows == [dict(r, seconds=s["seconds"]) for r, s in zip(resumed.history.rows, straight.history.rows)]


@pytest.mark.parametrize("name", ["onecycle", "twocycle"])
def test_the_torch_engines_step_with_the_schedule_every_engine_uses(name):
    from mlpfit.engines.torch.stacked import StackedEngine
    from mlpfit.engines.torch.stacked_model import EnsembleMLP
    from mlpfit.train.schedules import schedule

    factor = schedule(name, 6, 4)  # 256 rows in batches of 64
    single = TorchEngine(MLP([2, 8, 1], "tanh"), data(), epochs=6, batch_size=64, lr=0.01, optimizer="adam",
                         loss="mse", schedule=name, seed=0)
    stacked = StackedEngine(EnsembleMLP([2, 8, 1], "tanh", "identity", [0, 1]), data(), epochs=6, batch_size=64,
                            lr=0.01, optimizer="adam", loss="mse", schedule=name, seed=0)
    for epoch in range(1, 7):
        single.train_epoch(lambda: False)
        stacked.train_epoch(lambda: False)
        assert single.lr == pytest.approx(0.01 * factor(4 * epoch)) == stacked.lr


def test_a_checkpoint_of_a_fit_that_trained_on_resumes_with_its_extra_epochs():
    from mlpfit.train.callbacks import TrainOn

    def loop():
        rule = TrainOn(r2=0.9999, gain=1e-3, epoch=5, cycle=3, cycles=2, seconds=60.0, outputs=1, variance=1.0)
        return make_loop(epochs=5, callbacks=[rule])

    trained = loop()
    trained.epochs = 8  # one cycle added
    state = trained.state_dict()
    resumed = loop()
    resumed.load_state_dict(state)
    assert resumed.epochs == 8
    state["epochs"] = 12  # more than two cycles of three past five epochs
    with pytest.raises(ValueError, match="12 epochs"):
        loop().load_state_dict(state)
