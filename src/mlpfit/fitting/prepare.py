"""Preparation shared by every fit, sweep and estimator: data in, config resolved, split made.

``fit``, ``sweep`` and the estimators call these two functions and nothing else to get from a
config to data ready for training, so a default or a check applies to all of them at once.
"""

from __future__ import annotations

import numpy as np

from mlpfit import engines
from mlpfit.config import defaults
from mlpfit.config.schema import FitConfig, validate
from mlpfit.data.checks import check_dataset
from mlpfit.data.dataset import Dataset, Split, split_indices
from mlpfit.data.sources import load_data, prepare as apply_example
from mlpfit.engines.numpy.engine import check_supported
from mlpfit.errors import UsageError


def load_dataset(config: FitConfig) -> Dataset:
    """Validate, apply the example's settings, and read or sample the data (``config`` in place)."""
    validate(config)
    apply_example(config)
    defaults.resolve_data_defaults(config.data)
    return load_data(config)


def prepare(config: FitConfig, dataset: Dataset) -> Split:
    """Check the data, split it with the seed and resolve every default left open (``config`` in place).

    A test fraction of 0 holds nothing out for testing (estimators are scored by their caller).
    """
    validate(config)
    check_dataset(dataset)
    split = split_indices(len(dataset.X), config.data.val_fraction, config.data.test_fraction, config.train.seed,
                          dataset.fixed_test)
    resolve(config, dataset, split)
    return split


def resolve(config: FitConfig, dataset: Dataset, split: Split) -> None:
    """Every default left open, chosen from the data's size and kind (a sweep does this per setting)."""
    defaults.resolve(config, len(split.train), dataset.X.shape[1], n_outputs(dataset), dataset.task,
                     images=dataset.image_shape is not None,
                     measured=dataset.table and split.held_out, cuda_visible=engines.cuda_visible)
    if config.train.engine == "numpy":
        check_supported(config)
    if config.train.loss == "bce":
        check_binary_targets(dataset)


def check_binary_targets(dataset: Dataset) -> None:
    """``--loss bce`` compares each output's logistic unit with a 0/1 target (multilabel)."""
    if dataset.task == "classify":
        raise UsageError("--loss bce needs 0/1 target columns, but this target is a classification: "
                         "drop --loss bce (classes use cross_entropy)")
    Y = np.asarray(dataset.Y, dtype=np.float64)
    if len(Y) and (Y.min() < 0 or Y.max() > 1):
        raise UsageError(f"--loss bce needs targets in [0, 1] (0/1 labels), got values from {Y.min():g} to {Y.max():g}: "
                         "use --loss mse for other targets")


def n_outputs(dataset: Dataset) -> int:
    """Output units of the network: one per class, or one per target column."""
    return len(dataset.classes) if dataset.task == "classify" else dataset.Y.shape[1]
