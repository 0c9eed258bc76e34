"""Splitting rows: the members of an ensemble each with their own validation rows."""

import numpy as np

from mlpfit.data.dataset import own_validation, split_indices


def test_members_hold_out_their_own_rows_and_together_train_on_every_non_test_row():
    split = split_indices(1000, 0.1, 0.1, seed=3)
    own = own_validation(split, 3, seed=3)
    np.testing.assert_array_equal(own.test, split.test)
    np.testing.assert_array_equal(own.train, np.union1d(split.train, split.val))
    assert own.member_val.shape == (3, len(split.val))
    assert len(np.unique(own.member_val)) == 3 * len(split.val)  # no row in two members' validation sets
    np.testing.assert_array_equal(own.val, np.unique(own.member_val))
    assert not np.isin(own.member_val, own.test).any()
    masks = ~own.own_rows("train", 3)  # each member's validation rows among the non-test rows
    assert masks.shape == (3, len(own.train)) and (masks.sum(axis=1) == len(split.val)).all()
    np.testing.assert_array_equal(own_validation(split, 3, seed=3).member_val, own.member_val)  # the seed fixes them
    assert not np.array_equal(own_validation(split, 3, seed=4).member_val, own.member_val)


def test_more_members_than_the_rows_hold_wrap_round_evenly():
    split = split_indices(100, 0.2, 0.1, seed=0)
    own = own_validation(split, 8, seed=0)  # 8 x 18 validation rows from 90
    counts = np.bincount(own.member_val.ravel(), minlength=100)[own.train]
    assert counts.max() - counts.min() <= 1 and counts.min() >= 1
    assert all(len(np.unique(rows)) == len(rows) for rows in own.member_val)
