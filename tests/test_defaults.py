"""Defaults chosen from the data: thread count and the engine."""

from mlpfit.config.defaults import default_threads
from mlpfit.nn.sizes import count_parameters


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


def test_auto_chooses_the_numpy_engine_for_small_cpu_fits_and_torch_for_the_rest():
    from mlpfit.config.defaults import LEAN_OPTIMIZERS
    from mlpfit.engines.flat_optim import OPTIMIZERS

    assert resolved_engine() == "numpy" and resolved_engine(device="cpu") == "numpy"
    assert resolved_engine(images=True, inputs=784) == "torch"  # images stay on torch
    assert resolved_engine(optimizer="lbfgs") == "torch"  # L-BFGS is torch's alone
    assert resolved_engine(hidden=(1024, 1024)) == "torch"  # work where torch's second thread pays
    assert resolved_engine(engine="torch") == "torch" and resolved_engine(engine="numpy", optimizer="sgd") == "numpy"
    assert set(LEAN_OPTIMIZERS) <= set(OPTIMIZERS)  # auto only picks what the engine implements


def test_an_mnist_sized_net_gets_two_threads():
    assert default_threads(count_parameters([784, 128, 64, 10]), 256) == 2
