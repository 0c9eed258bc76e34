"""The fit's summary: scores of members that hold out their own validation rows."""

import numpy as np

from mlpfit.data.dataset import own_validation, split_indices
from mlpfit.fitting.summary import held_out_mean


def test_a_rows_validation_prediction_comes_from_the_members_that_held_it_out():
    values = np.array([[[1.0], [2.0], [3.0]], [[10.0], [20.0], [30.0]], [[100.0], [200.0], [300.0]]])  # [K, n, 1]
    holders = np.array([[True, False, True], [False, False, True], [False, True, False]])
    np.testing.assert_allclose(held_out_mean(values, holders), [[1.0], [200.0], [16.5]])


def test_each_member_is_scored_on_its_own_training_and_validation_rows():
    split = own_validation(split_indices(200, 0.1, 0.1, seed=0), 2, seed=0)
    val, train = split.own_rows("val", 2), split.own_rows("train", 2)
    assert (val.sum(axis=1) == 20).all() and (train.sum(axis=1) == 180 - 20).all()
    assert split.own_rows("test", 2).all()
