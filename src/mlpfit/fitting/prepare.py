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
from mlpfit.data.dataset import Dataset, Split, given_split, own_validation, split_indices
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
    if dataset.val_rows is not None:
        split = given_split(len(dataset.X), dataset.val_rows)
    else:
        split = split_indices(len(dataset.X), config.data.val_fraction, config.data.test_fraction, config.train.seed,
                              dataset.fixed_test)
    resolve(config, dataset, split)
    return split


def resolve(config: FitConfig, dataset: Dataset, split: Split) -> None:
    """Every default left open, chosen from the data's size and kind (a sweep does this per setting)."""
    rows = training_rows(dataset, split)
    batch_chosen_here = config.train.batch_size is None
    defaults.resolve(config, rows, dataset.X.shape[1], n_outputs(dataset), dataset.task,
                     images=dataset.image_shape is not None,
                     measured=dataset.table and split.held_out, tabular=getattr(dataset.encoding, "tabular", False),
                     cuda_visible=engines.cuda_visible)
    if batch_chosen_here and config.train.batch_size >= rows:  # full batch: every row, whatever the weights
        config.train.batch_size = max(1, len(split.train))
    if config.train.engine == "numpy":
        check_supported(config)
    if config.train.loss == "bce":
        check_binary_targets(dataset)
    if config.train.loss == "poisson":
        check_count_targets(dataset)


def member_rows(config: FitConfig, split: Split) -> Split:
    """The split an ensemble trains on: each member with its own validation rows where config.data.member_val
    says own (data.dataset.own_validation), else the split as it is."""
    own = config.data.member_val == "own" and config.model.ensemble > 1 and split.held_out and len(split.val)
    return own_validation(split, config.model.ensemble, config.train.seed) if own else split


def training_rows(dataset: Dataset, split: Split) -> int:
    """How many rows the training split counts as: with whole-number weights (counts, scikit-learn's
    sample_weight) their sum, so a row of weight 2 gets the batch size and step budget of two rows."""
    if dataset.weights is None:
        return len(split.train)
    weights = np.asarray(dataset.weights[split.train], dtype=np.float64)
    if not np.all(weights == np.round(weights)):
        return len(split.train)  # weights that are not counts say nothing about the number of rows
    return max(1, int(weights.sum()))


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


def check_count_targets(dataset: Dataset) -> None:
    """``--loss poisson`` models each output as a rate exp(network output): the targets are counts or rates, >= 0."""
    if dataset.task == "classify":
        raise UsageError("--loss poisson needs numeric targets (counts), but this target is a classification: "
                         "drop --loss poisson (classes use cross_entropy)")
    Y = np.asarray(dataset.Y, dtype=np.float64)
    if len(Y) and Y.min() < 0:
        raise UsageError(f"--loss poisson needs targets >= 0 (counts or rates), got {Y.min():g}: use --loss mse")
