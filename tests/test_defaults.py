"""Defaults chosen from the data: thread count."""

from mlpfit.config.defaults import default_threads
from mlpfit.nn.sizes import count_parameters


def test_small_models_train_on_one_thread():
    assert default_threads(count_parameters([2, 64, 64, 1]), 256) == 1


def test_large_batched_work_gets_the_second_thread():
    ensemble_32 = count_parameters([2, 32, 32, 1]) * 32
    assert default_threads(ensemble_32, 1600) == 2
    assert default_threads(count_parameters([784, 512, 256, 10]), 256) == 2
