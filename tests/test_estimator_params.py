"""What the estimators take before training: ValueErrors, NumPy scalars, sparse X, the validation rows."""
import numpy as np
import pytest
import scipy.sparse as sp

from mlpfit.errors import DataError, UsageError
from mlpfit.estimators.params import (
    MAX_DENSE_BYTES,
    EstimatorValueError,
    dense,
    validation_rows,
    value_errors,
    whole_number,
)
from mlpfit.estimators import Classifier, Regressor


def data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, X[:, 0] - X[:, 1]


@pytest.mark.parametrize("params", [dict(hidden=-3), dict(batch_size=0), dict(optimizer="adamm"), dict(alpha=-1.0),
                                    dict(loss="poisson")])
def test_bad_parameters_are_value_errors_and_mlpfit_errors(params):
    X, y = data()
    with pytest.raises(ValueError) as err:
        Regressor(epochs=2, **params).fit(X, y - 5)  # y - 5: negative targets, which poisson refuses
    assert isinstance(err.value, UsageError) and "--" not in str(err.value)  # Python's words, not the CLI's


def test_value_errors_keeps_the_mlpfit_class_and_lets_other_errors_through():
    with pytest.raises(DataError) as err, value_errors():
        raise DataError("a column --target is empty")
    assert isinstance(err.value, ValueError) and str(err.value) == "a column target is empty"
    with pytest.raises(KeyError), value_errors():
        raise KeyError("not ours")


def test_numpy_scalars_are_numbers_and_inf_only_where_allowed():
    assert whole_number(np.int64(0), "alpha") == 0 and isinstance(whole_number(np.float32(0.5), "tol"), float)
    assert whole_number(np.inf, "patience", allow_inf=True) == np.inf
    for bad in (True, "1", np.nan, np.inf):
        with pytest.raises(EstimatorValueError):
            whole_number(bad, "alpha")
    model = Regressor(hidden=4, epochs=3, alpha=np.int64(1), patience=np.inf, seed=np.random.RandomState(3))
    assert model.fit(*data()).n_iter_ == 3


def test_sparse_x_is_made_dense_and_a_huge_one_refused_naming_its_size():
    X, y = data()
    dense_fit = Regressor(hidden=4, epochs=5).fit(X, y)
    sparse_fit = Regressor(hidden=4, epochs=5).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(dense_fit.predict(X), sparse_fit.predict(sp.csc_matrix(X)))
    rows = MAX_DENSE_BYTES // 8 // 1000 + 1
    huge = sp.csr_matrix((np.ones(1), ([0], [0])), shape=(rows, 1000))
    with pytest.raises(ValueError, match=r"GiB once dense"):
        dense(huge)


def test_float32_input_trains_and_predicts_in_float32():
    X, y = data()
    model = Regressor(hidden=4, epochs=5).fit(X.astype(np.float32), y)
    assert {c.dtype for c in model.coefs_ + model.intercepts_} == {np.dtype(np.float32)}
    assert model.predict(X.astype(np.float32)).dtype == np.float32
    assert Regressor(hidden=4, epochs=5).fit(X, y).predict(X).dtype == np.float64


def test_validation_rows_keep_each_class_share_and_leave_singletons_in_training():
    labels = np.repeat([0, 1, 2], [90, 10, 1])
    rows = validation_rows(len(labels), labels, None, 0.1, seed=0)
    assert np.bincount(labels[rows], minlength=3).tolist() == [9, 1, 0]
    assert validation_rows(len(labels), labels, None, 0.1, seed=1).tolist() != rows.tolist()  # the seed draws them


def test_validation_rows_hold_out_a_share_of_the_weight():
    weights = np.r_[np.full(50, 3.0), np.ones(50)]  # the first half counts 3 times: 150 of 200
    rows = validation_rows(100, None, weights, 0.2, seed=0)
    assert weights[rows].sum() == pytest.approx(40, abs=3)  # 20% of the weight, not of the rows
    assert len(validation_rows(100, None, None, 0.2, seed=0)) == 20


def test_partial_fit_refuses_early_stopping_and_other_classes():
    X, y = data()
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        Regressor(early_stopping=True).partial_fit(X, y)
    clf = Classifier(hidden=4).partial_fit(X, y > 0, classes=[False, True])
    with pytest.raises(ValueError, match="differs"):
        clf.partial_fit(X, y > 0, classes=[True, False, 2])
    assert not hasattr(Classifier(optimizer="lbfgs"), "partial_fit")  # L-BFGS takes whole-data steps only
