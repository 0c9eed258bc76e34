"""Defaults chosen from the data: thread count, the engine and the schedule."""

import pytest

from mlpfit.config.defaults import default_threads
from mlpfit.network.sizes import count_parameters


def test_small_models_train_on_one_thread():
    assert default_threads(count_parameters([2, 64, 64, 1]), 256) == 1


def test_large_batched_work_gets_the_second_thread():
    ensemble_32 = count_parameters([2, 32, 32, 1]) * 32
    assert default_threads(ensemble_32, 1600) == 2
    assert default_threads(count_parameters([784, 512, 256, 10]), 256) == 2


def resolved_engine(hidden=(64, 64), inputs=2, rows=8000, images=False, **train):
    from mlpfit.config.defaults import resolve
    from mlpfit.config.schema import FitConfig, ModelConfig, TrainConfig

    config = FitConfig(model=ModelConfig(hidden=list(hidden)), train=TrainConfig(**train))
    resolve(config, rows, inputs, 1, "regress", images=images)
    return config.train.engine


def resolved_ensemble_engine(members: int, hidden=(64, 64)) -> str:
    from mlpfit.config.defaults import resolve
    from mlpfit.config.schema import FitConfig, ModelConfig

    config = FitConfig(model=ModelConfig(hidden=list(hidden), ensemble=members))
    resolve(config, 8000, 2, 1, "regress")
    return config.train.engine


def test_auto_chooses_the_numpy_engine_for_cpu_fits_it_covers_and_torch_for_the_rest():
    from mlpfit.config.defaults import LEAN_OPTIMIZERS
    from mlpfit.engines.numpy.optim import OPTIMIZERS

    assert resolved_engine() == "numpy" and resolved_engine(device="cpu") == "numpy"
    assert resolved_engine(images=True, inputs=784, rows=48000) == "numpy"  # 2x faster steps than torch's there
    assert resolved_engine(hidden=(1024, 1024)) == "numpy"  # wide: as fast, and no torch import
    assert resolved_engine(optimizer="lbfgs") == "torch"  # L-BFGS is torch's alone
    assert resolved_ensemble_engine(4) == "numpy"  # small members: stepped one after another
    assert resolved_ensemble_engine(32, hidden=(256, 256)) == "torch"  # torch steps big members as one product
    assert resolved_engine(engine="torch") == "torch" and resolved_engine(engine="numpy", optimizer="sgd") == "numpy"
    assert set(LEAN_OPTIMIZERS) <= set(OPTIMIZERS)  # auto only picks what the engine implements


def test_an_mnist_sized_net_gets_two_threads():
    assert default_threads(count_parameters([784, 128, 64, 10]), 256) == 2


def resolved_train(task="regress", images=False, measured=False, **train):
    from mlpfit.config.defaults import resolve
    from mlpfit.config.schema import FitConfig, TrainConfig

    config = FitConfig(train=TrainConfig(**train))
    resolve(config, 8000, 784 if images else 2, 1, task, images=images, measured=measured)
    return config.train


def test_a_regression_with_the_budget_chosen_here_trains_two_cycles_and_may_settle():
    from mlpfit.config.defaults import SETTLE_R2

    t = resolved_train()
    assert (t.schedule, t.settle, t.epochs) == ("twocycle", SETTLE_R2, 188)
    assert resolved_train(settle=0.0).settle == 0.0  # --settle 0: always the whole budget
    assert resolved_train(schedule="onecycle").settle == 0.0  # one cycle: nothing to settle after


def test_one_cycle_where_the_epochs_were_given_or_another_rule_chose_them():
    assert resolved_train(epochs=50).schedule == "onecycle"  # --epochs N: N epochs of the usual schedule
    assert resolved_train(task="classify", loss="cross_entropy").schedule == "onecycle"
    assert resolved_train(task="classify", images=True).schedule == "onecycle"
    assert resolved_train(measured=True).schedule == "onecycle"  # small tables: 300 epochs and patience 20
    assert resolved_train(optimizer="lbfgs").schedule == "onecycle"


@pytest.mark.parametrize("train", [dict(task="classify", settle=0.99), dict(schedule="onecycle", settle=0.99),
                                   dict(loss="huber", settle=0.99)])
def test_settle_is_refused_where_it_means_nothing(train):
    from mlpfit.errors import UsageError

    with pytest.raises(UsageError, match="--settle 0.99 .*drop --settle"):
        resolved_train(**train)


def test_the_default_budget_trains_on_only_where_it_can_and_says_how_far():
    from mlpfit.config.defaults import TRAIN_ON_CYCLES
    from mlpfit.errors import UsageError

    assert resolved_train().extend == TRAIN_ON_CYCLES
    assert resolved_train(epochs=50).extend == 0  # --epochs N: exactly N
    assert resolved_train(measured=True).extend == 0
    with pytest.raises(UsageError, match="--extend 3 .*drop --extend"):
        resolved_train(task="classify", loss="cross_entropy", extend=3)


def test_sin_40x_reaches_test_r2_0999_on_the_first_try(tmp_path):
    """Was: R² 0.787 with 'underfit: train longer (--epochs 752)'; the default now trains on while the
    validation R² still rises, within its cycles and time cap."""
    from mlpfit.api import build_config
    from mlpfit.fitting.fit import fit

    result = fit(build_config("sin(40*x)", {"domain": (-1, 1), "plots": False, "threads": 1}), save=False)
    assert min(result.summary["metrics"]["test"]["r2"]) >= 0.999, result.summary["metrics"]["test"]
    assert result.history.extra_cycles > 0
    assert "underfit" not in {d["code"] for d in result.summary["diagnostics"]}


def test_a_numpy_ensemble_splits_its_members_over_two_threads():
    from mlpfit.config.defaults import MEMBER_THREADS
    from mlpfit.config.schema import FitConfig, ModelConfig, TrainConfig
    from mlpfit.config.defaults import resolve

    config = FitConfig(model=ModelConfig(hidden=[32, 32], ensemble=32), train=TrainConfig(device="cpu"))
    resolve(config, 1600, 2, 1, "regress")
    assert (config.train.engine, config.train.threads) == ("numpy", MEMBER_THREADS)
    given = FitConfig(model=ModelConfig(hidden=[32, 32], ensemble=32), train=TrainConfig(device="cpu", threads=1))
    resolve(given, 1600, 2, 1, "regress")
    assert given.train.threads == 1  # --threads 1 (a busy machine) is kept


@pytest.mark.parametrize("rows, task, epochs", [
    (800, "regress", 125),  # concrete's members: 500 steps of 4 batches
    (3_000, "classify", 125),  # mlc_churn: 1,500 steps of 12 batches
    (8_000, "classify", 100),  # 100 epochs of 32 batches: 3,200 steps, under the 3,500 where the fewest stop
    (12_960, "classify", 49),  # letters: 100 epochs were 5,100 steps; its wider net's fewest stop at 2,500
    (100_000, "classify", 6),  # a large table: 2,500 steps, not 100 epochs of 391
    (100_000, "regress", 6),
])
def test_a_tables_budget_stops_growing_with_its_rows(rows, task, epochs):
    from mlpfit.config.defaults import TABLE_MOST_STEPS, TABLE_WIDE_FROM, TABLE_WIDE_MOST_STEPS, resolve
    from mlpfit.config.schema import FitConfig

    config = FitConfig()
    resolve(config, rows, 20, 1, task, measured=True, tabular=True)
    assert config.train.epochs == epochs
    most = TABLE_WIDE_MOST_STEPS if rows >= TABLE_WIDE_FROM else TABLE_MOST_STEPS
    assert epochs >= 100 or epochs * -(-rows // config.train.batch_size) <= most


@pytest.mark.parametrize("rows, task, hidden, units", [
    (600, "regress", [64, 64], 0),  # a small regression's five members are narrower
    (3_000, "regress", [128, 128], 0), (9_999, "regress", [128, 128], 0), (10_000, "regress", [256, 128], 0),
    (3_000, "classify", [160, 64, 64], 8),  # 20 inputs x 8 units of their own, then two shared layers of 64
    (9_999, "classify", [160, 64, 64], 8), (10_000, "classify", [256, 128], 0), (100_000, "classify", [256, 128], 0),
])
def test_a_tables_net_follows_its_size_and_task(rows, task, hidden, units):
    from mlpfit.config.defaults import resolve
    from mlpfit.config.schema import FitConfig

    config = FitConfig()
    resolve(config, rows, 20, 26 if task == "classify" else 1, task, measured=True, tabular=True)
    assert config.model.hidden == hidden and config.model.input_units == units


@pytest.mark.parametrize("rows, task, members", [
    (600, "regress", 5), (999, "regress", 5),  # sacramento's, concrete's training rows: five members of 64x64
    (1_000, "regress", 3), (50_000, "regress", 3),  # more rows: three
    (600, "classify", 1),  # classes: one net
])
def test_a_tables_members_follow_its_rows_and_task(rows, task, members):
    from mlpfit.config.defaults import resolve
    from mlpfit.config.schema import FitConfig

    config = FitConfig()
    resolve(config, rows, 20, 3 if task == "classify" else 1, task, measured=True, tabular=True)
    assert config.model.ensemble == members
    given = FitConfig()
    given.model.ensemble = 2
    resolve(given, rows, 20, 3 if task == "classify" else 1, task, measured=True, tabular=True)
    assert given.model.ensemble == 2


def test_a_wide_class_table_keeps_a_plain_first_layer():
    from mlpfit.config.defaults import TABLE_INPUT_UNITS_UP_TO, resolve
    from mlpfit.config.schema import FitConfig

    config = FitConfig()
    resolve(config, 3_000, TABLE_INPUT_UNITS_UP_TO + 1, 10, "classify", measured=True, tabular=True)
    assert config.model.hidden == [128, 128] and config.model.input_units == 0


def test_given_input_units_come_first_once_and_a_given_width_has_none():
    from mlpfit.config.defaults import resolve
    from mlpfit.config.schema import FitConfig

    config = FitConfig()
    config.model.hidden, config.model.input_units = [32], 4
    resolve(config, 500, 5, 1, "regress")
    assert config.model.hidden == [20, 32]
    resolve(config, 500, 5, 1, "regress")  # a resumed fit resolves its saved config again
    assert config.model.hidden == [20, 32]
    config = FitConfig()
    config.model.hidden = [64, 64]
    resolve(config, 3_000, 20, 2, "classify", measured=True, tabular=True)
    assert config.model.hidden == [64, 64] and config.model.input_units == 0
    config = FitConfig()
    resolve(config, 500, 2, 1, "regress")  # a formula: a plain first layer
    assert config.model.hidden == [64, 64] and config.model.input_units == 0


def test_a_given_width_is_kept_on_a_large_table():
    from mlpfit.config.defaults import resolve
    from mlpfit.config.schema import FitConfig

    config = FitConfig()
    config.model.hidden = [32]
    resolve(config, 50_000, 20, 1, "regress", measured=True, tabular=True)
    assert config.model.hidden == [32]
