"""The rules that end training (fitting.stopping): early stopping counts patience from the learning
rate's peak and keeps the best weights of the whole run; a twocycle fit settles after its first cycle
when every output's validation R² is high enough; fits and sweeps build the same rules."""

import math

import numpy as np
import pytest

from mlpfit.config.schema import DataConfig, FitConfig, TrainConfig
from mlpfit.data.dataset import Split
from mlpfit.data.scaling import Standardizer
from mlpfit.fitting.stopping import ERROR_RATE_FROM_ROWS, monitor, settle_rule, stopping_rules, weighted_variance
from mlpfit.train.callbacks import EarlyStopping, Settle
from mlpfit.train.history import History


class FakeTrainer:
    """What the callbacks read and call: running members, the engine's keep, the history's rates."""

    def __init__(self, members=1):
        self.members, self.running = members, np.ones(members, dtype=bool)
        self.kept_at = []
        self.history = History()
        outer = self
        self.engine = type("Engine", (), {"keep": lambda self, members: outer.kept_at.append(members.copy())})()

    def stop_members(self, members):
        self.running &= ~np.asarray(members, dtype=bool)

    def epoch(self, callback, epoch, lr, *val_losses):
        logs = {"epoch": epoch, "train_loss": 0.0, "val_loss": float(np.mean(val_losses)), "lr": lr, "seconds": 0.0,
                "member_val_loss": np.array(val_losses, dtype=float)}
        self.history.append(logs)
        callback.on_epoch_end(self, logs)


def test_patience_does_not_count_while_the_rate_rises():
    stopper, trainer = EarlyStopping(patience=2), FakeTrainer()
    trainer.epoch(stopper, 1, 0.1, 1.0)
    for epoch, lr in enumerate([0.2, 0.3, 0.4, 0.5], start=2):  # warming up: the loss rises, nobody waits
        trainer.epoch(stopper, epoch, lr, 1.0 + epoch)
    assert trainer.running.all() and stopper.wait[0] == 0
    trainer.epoch(stopper, 6, 0.45, 4.0)  # past the peak: the cycle's best starts here
    trainer.epoch(stopper, 7, 0.40, 4.5)
    assert trainer.running.all() and stopper.wait[0] == 1
    trainer.epoch(stopper, 8, 0.35, 4.6)
    assert not trainer.running.any() and stopper.stopped[0]
    assert stopper.best_epoch[0] == 1 and stopper.best[0] == 1.0  # the weights kept are the run's best


def test_a_second_cycle_is_judged_against_its_own_best_and_kept_only_when_it_beats_the_first():
    stopper, trainer = EarlyStopping(patience=3), FakeTrainer()
    for epoch, (lr, loss) in enumerate([(0.5, 1.0), (0.3, 0.5), (0.1, 0.1)], start=1):  # first cycle
        trainer.epoch(stopper, epoch, lr, loss)
    for epoch, (lr, loss) in enumerate([(0.4, 0.3), (0.8, 0.9), (0.6, 0.5), (0.4, 0.3), (0.2, 0.2),
                                        (0.1, 0.15), (0.05, 0.08)], start=4):
        trainer.epoch(stopper, epoch, lr, loss)
    assert trainer.running.all()  # four epochs above the first cycle's 0.1, yet improving on its own
    assert stopper.best_epoch[0] == 10 and stopper.best[0] == 0.08


def test_a_checkpoint_from_before_cycles_loads_with_its_best_as_the_cycles():
    stopper = EarlyStopping(patience=3)
    state = {"best": [0.5], "best_loss": [0.5], "best_epoch": [4], "wait": [1], "stopped": [False]}
    stopper.load_state_dict(state, 1)
    assert stopper.cycle_best.tolist() == [0.5] and stopper.wait.tolist() == [1]


def test_settle_stops_the_members_whose_every_output_is_good_enough_at_its_epoch_only():
    settle, trainer = Settle(r2=0.999, epoch=3, outputs=2, variance=1.0), FakeTrainer(members=3)
    settle.on_train_begin(trainer)
    trainer.epoch(settle, 2, 0.01, 1e-6, 1e-6, 1e-6)  # not the first cycle's end: nothing happens
    assert trainer.running.all()
    # 2 outputs: a mean loss of 4e-4 may be one output's 8e-4 (R² 0.9992); 6e-4 may be 1.2e-3 (0.9988)
    trainer.epoch(settle, 3, 0.0001, 4e-4, 6e-4, math.nan)
    assert trainer.running.tolist() == [False, True, True] and settle.settled.tolist() == [True, False, False]
    settle.on_train_end(trainer)
    assert trainer.history.settled is False  # not every member settled
    trainer.running[:] = True
    trainer.epoch(settle, 4, 0.01, 1e-9, 1e-9, 1e-9)  # later epochs are the second cycle's: never settled there
    assert trainer.running.all()


def test_a_settled_fit_says_so_in_its_history():
    settle, trainer = Settle(r2=0.9999, epoch=1, outputs=1, variance=2.0), FakeTrainer()
    trainer.epoch(settle, 1, 0.001, 1.5e-4)  # R² = 1 - 1.5e-4 / 2 = 0.999925
    settle.on_train_end(trainer)
    assert trainer.history.settled and History.from_state({"rows": trainer.history.rows, **trainer.history.meta()}).settled


def test_a_validation_set_without_variance_never_settles():
    settle, trainer = Settle(r2=0.5, epoch=1, outputs=1, variance=0.0), FakeTrainer()
    trainer.epoch(settle, 1, 0.001, 0.0)
    assert trainer.running.all()


class FakeDataset:
    def __init__(self, Y, weights=None):
        self.Y, self.weights = Y, weights


def config(**train) -> FitConfig:
    return FitConfig(DataConfig(target="x"), train=TrainConfig(epochs=10, patience=4, **train))


def test_the_settle_rule_measures_the_validation_outputs_in_scaled_units():
    rng = np.random.default_rng(0)
    Y = np.column_stack([rng.normal(0, 10, 200), rng.normal(5, 1, 200)])
    split = Split(np.arange(100), np.arange(100, 200), np.arange(0), held_out=True)
    scaler = Standardizer.fit(Y[:100])
    rule = settle_rule(config(schedule="twocycle", settle=0.999), FakeDataset(Y), split, scaler)
    scaled = scaler.transform(Y[100:])
    assert rule.epoch == 4 and rule.outputs == 2 and rule.r2 == 0.999
    assert rule.variance == pytest.approx(min(scaled[:, 0].var(), scaled[:, 1].var()))


@pytest.mark.parametrize("train", [dict(schedule="onecycle", settle=0.999), dict(schedule="twocycle", settle=0.0)])
def test_no_settle_rule_without_two_cycles_and_a_threshold(train):
    Y = np.arange(20.0)[:, None]
    split = Split(np.arange(10), np.arange(10, 20), np.arange(0), held_out=True)
    assert settle_rule(config(**train), FakeDataset(Y), split, Standardizer.fit(Y)) is None
    rules = stopping_rules(config(**train), FakeDataset(Y), split, Standardizer.fit(Y))
    assert [type(cb).__name__ for cb in rules.callbacks] == ["DivergenceGuard", "EarlyStopping"]


def test_weighted_variance_weighs_rows_as_the_validation_loss_does():
    values = np.array([[0.0], [1.0], [1.0], [1.0]])
    assert weighted_variance(values, None)[0] == pytest.approx(0.1875)
    assert weighted_variance(values, np.array([3.0, 1.0, 1.0, 1.0]))[0] == pytest.approx(0.25)
    assert weighted_variance(values, np.zeros(4))[0] == pytest.approx(0.1875)  # no weight at all: unweighted


def test_classes_stop_on_error_rate_only_with_enough_validation_rows():
    # a few dozen rows' error rate moves in steps of 2-3% and can hit 0 by luck at epoch 2
    classes = FitConfig(train=TrainConfig(loss="cross_entropy"))
    assert monitor(classes, ERROR_RATE_FROM_ROWS) == "val_error"
    assert monitor(classes, 360) == "val_error"  # mlc_churn's validation rows: its loss kept epoch 10 of 116
    assert monitor(classes, 38) == "val_loss"
    assert monitor(FitConfig(train=TrainConfig(loss="mse")), 10_000) == "val_loss"


def test_tol_asks_patience_for_an_improvement_larger_than_it():
    class Run:
        running, members = np.ones(1, dtype=bool), 1
        history = History()
        stopped = None

        class engine:  # noqa: N801
            keep = restore = freeze = staticmethod(lambda members: None)

        def stop_members(self, members):
            self.stopped = members

    for tol, stops in ((0.0, False), (0.05, True)):
        run, rule = Run(), EarlyStopping(patience=3, tol=tol)
        rule.on_train_begin(run)
        for epoch, loss in enumerate([1.0, 0.99, 0.98, 0.97, 0.96], 1):  # steady gains of 0.01
            rule.on_epoch_end(run, {"epoch": epoch, "member_val_loss": np.array([loss])})
        assert (run.stopped is not None) == stops


# ---------------------------------------------------------------- training on (Settle's mirror)


def train_on(**options):
    from mlpfit.train.callbacks import TrainOn

    settings = dict(r2=0.9999, gain=1e-3, epoch=5, cycle=3, cycles=2, seconds=60.0, outputs=1, variance=1.0)
    rule = TrainOn(**{**settings, **options})
    rule.reset(2)
    return rule


def run_epochs(rule, trainer, losses_by_epoch, seconds=0.0):
    trainer.epochs = rule.epoch
    for epoch, losses in enumerate(losses_by_epoch, 1):
        if epoch > trainer.epochs or not trainer.running.any():
            break
        logs = {"epoch": epoch, "seconds": seconds, "member_val_loss": np.array(losses, dtype=float)}
        rule.on_epoch_end(trainer, logs)


def test_train_on_adds_cycles_while_a_member_still_gains_and_stops_the_others():
    """Was: the fit ended with its budget (sin(40x) at R² 0.787) although every cycle still gained."""
    rule, trainer = train_on(), FakeTrainer(members=2)
    # member 0 keeps improving a lot; member 1 gains under 1e-3 of R² over the second cycle (epochs 3-5)
    losses = [[0.5, 0.01], [0.4, 0.01], [0.3, 0.0100], [0.2, 0.0099], [0.1, 0.0098], [0.05, 0.0098],
              [0.03, 0.0098], [0.02, 0.0098], [0.015, 0.0098], [0.012, 0.0098], [0.011, 0.0098]]
    run_epochs(rule, trainer, losses)
    assert trainer.epochs == 5 + 2 * 3  # two more cycles of three epochs: its most
    assert rule.extra[0] == 2 and trainer.running.tolist() == [True, False]  # member 1 ended with the budget


def test_train_on_ends_a_fit_that_stopped_gaining_or_is_good_enough():
    for losses in ([[0.1, 0.1]] * 5,  # no gain over the second cycle
                   [[0.5, 0.5], [0.4, 0.4], [0.3, 0.3], [0.2, 0.2], [5e-5, 5e-5]]):  # R² 0.99995: enough
        rule, trainer = train_on(), FakeTrainer(members=2)
        run_epochs(rule, trainer, losses)
        assert trainer.epochs == 5 and rule.extra[0] == 0


def test_no_cycle_begins_after_the_time_cap():
    rule, trainer = train_on(seconds=10.0), FakeTrainer(members=2)
    run_epochs(rule, trainer, [[0.5, 0.5], [0.4, 0.4], [0.3, 0.3], [0.2, 0.2], [0.1, 0.1]], seconds=11.0)
    assert trainer.epochs == 5 and rule.extra[0] == 0
