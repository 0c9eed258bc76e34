"""Learning-rate schedules: one cycle, two cycles that restart on an epoch's first step, and the
step → factor function every engine uses."""

import pytest

from mlpfit.train.schedules import FIRST_CYCLE, SCHEDULES, first_cycle_epochs, onecycle, schedule


@pytest.mark.parametrize("name", ["onecycle", "cosine", "constant"])
def test_single_cycle_schedules_are_their_shape_over_all_steps(name):
    factor = schedule(name, 10, 7)
    assert [factor(step) for step in range(71)] == [SCHEDULES[name](step, 70) for step in range(71)]
    assert first_cycle_epochs(name, 10) is None


def test_twocycle_restarts_on_the_first_step_of_the_epoch_after_its_first_cycle():
    epochs, per_epoch = 188, 32
    restart = first_cycle_epochs("twocycle", epochs)
    assert restart == round(FIRST_CYCLE * epochs) == 75
    factor = schedule("twocycle", epochs, per_epoch)
    split = restart * per_epoch
    first = [factor(step) for step in range(split)]
    second = [factor(step) for step in range(split, epochs * per_epoch)]
    assert first == [onecycle(step, split) for step in range(split)]
    assert second == [onecycle(step, epochs * per_epoch - split) for step in range(len(second))]
    assert first[-1] < 0.001 and second[0] == pytest.approx(0.04)  # annealed, then warming up again
    assert max(second) == pytest.approx(1.0, abs=1e-3) and second[-1] < 0.001


@pytest.mark.parametrize("epochs", [2, 3, 5, 10, 1000])
def test_twocycle_leaves_at_least_an_epoch_to_each_cycle(epochs):
    restart = first_cycle_epochs("twocycle", epochs)
    assert 1 <= restart <= epochs - 1


def test_one_epoch_of_twocycle_is_one_cycle():
    assert first_cycle_epochs("twocycle", 1) is None
    factor = schedule("twocycle", 1, 20)
    assert [factor(step) for step in range(20)] == [onecycle(step, 20) for step in range(20)]


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_step_of_every_schedule_is_a_positive_factor_at_most_one(name):
    factor = schedule(name, 9, 5)
    assert all(0 < factor(step) <= 1.0 for step in range(46))


def test_after_its_epochs_twocycle_repeats_its_second_cycle():
    """A fit that trains on (train.callbacks.TrainOn) gets whole cycles of the second one's length."""
    factor = schedule("twocycle", 10, 4)
    second = [factor(step) for step in range(16, 40)]
    assert [factor(step) for step in range(40, 64)] == second == [factor(step) for step in range(64, 88)]
