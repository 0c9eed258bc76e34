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


def resolved_ensemble_engine(members: int, hidden=(64, 64)) -> str:
    from mlpfit.config.defaults import resolve
    from mlpfit.config.schema import FitConfig, ModelConfig

    config = FitConfig(model=ModelConfig(hidden=list(hidden), ensemble=members))
    resolve(config, 8000, 2, 1, "regress")
    return config.train.engine


def test_auto_chooses_the_numpy_engine_for_cpu_fits_it_covers_and_torch_for_the_rest():
    from mlpfit.config.defaults import LEAN_OPTIMIZERS
    from mlpfit.engines.flat_optim import OPTIMIZERS

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
