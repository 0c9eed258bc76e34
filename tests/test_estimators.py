"""mlpfit.Regressor and mlpfit.Classifier as scikit-learn estimators.

The done-criteria of issue 7 are tests here: check_estimator, breast cancer by cross-validation,
a grid search in a Pipeline on diabetes, and x² + y² from 10,000 points with one layer of 64.
check_estimator runs ~50 fits, so it gets a small epoch budget.
"""
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_estimator,
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
)

from mlpfit.config import schema as cfg
from mlpfit.errors import MlpfitError, UsageError
from mlpfit.estimators import Classifier, Regressor
from mlpfit.estimators.params import ESTIMATOR_STEPS, auto_epochs, hidden_sizes


@pytest.mark.parametrize("estimator", [Regressor(epochs=100), Classifier(epochs=100)], ids=["Regressor", "Classifier"])
def test_check_estimator_passes(estimator):
    results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert len(results) > 40
    assert failed == []
    weight_checks = [r["status"] for r in results if r["check_name"].startswith("check_sample_weight")]
    assert len(weight_checks) >= 5 and set(weight_checks) == {"passed"}


@pytest.mark.parametrize("estimator", [Regressor(), Classifier()], ids=["Regressor", "Classifier"])
@pytest.mark.parametrize("check", [check_sample_weight_equivalence_on_dense_data, check_sample_weight_equivalence_on_sparse_data])
def test_sample_weights_act_as_repeated_rows_with_the_defaults(estimator, check):
    # scikit-learn's check at rtol 1e-7: weights 0-4 against rows removed or repeated 0-4 times
    check(type(estimator).__name__, estimator)


def test_breast_cancer_cross_validation_is_within_a_percent_of_scikit_learns_scaled_mlp():
    X, y = load_breast_cancer(return_X_y=True)
    ours = cross_val_score(Classifier(), X, y, cv=3).mean()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(random_state=0)), X, y, cv=3).mean()
    assert ours >= 0.95 and ours >= theirs - 0.01  # 0.970 against 0.975


def test_grid_search_over_hidden_in_a_pipeline_on_diabetes():
    X, y = load_diabetes(return_X_y=True)
    search = GridSearchCV(make_pipeline(StandardScaler(), Regressor()), {"regressor__hidden": [8, (32,), "16,16"]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["regressor__hidden"] in (8, (32,), "16,16")
    assert cross_val_score(search.best_estimator_, X, y, cv=3).mean() >= 0.40


def test_paraboloid_with_one_layer_of_64_reaches_r2_0_999():
    rng = np.random.default_rng(0)
    X = rng.uniform(-14, 14, (10_000, 2))
    y = (X**2).sum(axis=1)
    model = Regressor(hidden=64).fit(X[:8000], y[:8000])
    assert model.score(X[8000:], y[8000:]) >= 0.999
    assert model.summary_["epochs"] <= 300  # 7,200 training rows: a small table's epochs ...
    assert model._config().train.weight_decay == 0.0  # ... without its weight decay (R² 0.998 with it)


def test_same_seed_same_predictions_other_seed_differs():
    X, y = load_diabetes(return_X_y=True)
    first = Regressor(hidden=8, epochs=30, seed=3).fit(X, y).predict(X)
    again = Regressor(hidden=8, epochs=30, seed=3).fit(X, y).predict(X)
    other = Regressor(hidden=8, epochs=30, seed=4).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_regressor_keeps_the_shape_of_y():
    X = np.random.default_rng(1).uniform(-1, 1, (120, 3))
    one = Regressor(hidden="none", epochs=20).fit(X, X.sum(axis=1))
    two = Regressor(hidden="none", epochs=20).fit(X, np.c_[X.sum(axis=1), X[:, 0]])
    assert one.predict(X).shape == (120,)
    assert two.predict(X).shape == (120, 2)
    assert two.fitted_.outputs == ["y1", "y2"]


def test_targets_are_scaled_by_default():
    X = np.random.default_rng(2).uniform(-1, 1, (200, 1))
    y = 1e6 * X[:, 0] + 5e6  # far from unit scale: unscaled, the output layer cannot reach it
    model = Regressor(hidden="none", epochs=300, lr=0.1).fit(X, y)
    assert model.fitted_.y_scaler.std[0] > 1e5
    assert model.score(X, y) > 0.999


def test_frames_give_feature_names_and_are_checked_on_predict():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Regressor(hidden=4, epochs=10).fit(X, y)
    assert list(model.feature_names_in_) == list(X.columns)
    assert model.fitted_.inputs == list(X.columns)
    assert model.n_features_in_ == 10
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X.rename(columns={"age": "AGE"}))


def test_classifier_with_string_labels_and_probabilities():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = Classifier(hidden=16, epochs=150).fit(X, labels)
    proba = clf.predict_proba(X)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.score(X, labels) > 0.9
    assert clf.decision_function(X).shape == (150, 3)


def test_params_round_trip_through_get_set_and_clone():
    model = Regressor(hidden=(32, 32), activation="relu", lr=3e-3, seed=7)
    assert model.get_params()["hidden"] == (32, 32)
    model.set_params(hidden="8x2", patience=5)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.hidden == "8x2" and copy.patience == 5
    assert not hasattr(copy, "fitted_")


@pytest.mark.parametrize("params, words", [
    ({"hidden": -3}, "-3"),
    ({"hidden": "abc"}, "'abc'"),
    ({"hidden": [1.5]}, "1.5"),
    ({"activation": "relux"}, "relu"),
    ({"validation_fraction": 0.7}, "0.7"),
    ({"lr": -1.0}, "-1.0"),
])
def test_bad_parameters_fail_at_fit_with_the_value_named(params, words):
    model = Regressor(**params)  # scikit-learn: __init__ only stores, fit validates
    with pytest.raises(UsageError, match=None) as err:
        model.fit(np.zeros((10, 1)), np.zeros(10))
    assert isinstance(err.value, MlpfitError)
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("given, widths", [(None, None), (64, [64]), ((32, 16), [32, 16]), ("32x2", [32, 32]),
                                           ("none", []), ([], []), (np.int64(5), [5])])
def test_hidden_sizes_accepts_ints_sequences_and_cli_strings(given, widths):
    assert hidden_sizes(given) == widths


def test_auto_epochs_follow_the_step_budget_above_a_small_table():
    config = cfg.FitConfig()
    # 18,000 training rows in batches of 256 → 71 steps per epoch.
    assert auto_epochs(18_000, True, config) == -(-ESTIMATOR_STEPS // 71)
    assert auto_epochs(270, True, config) is None  # a small table: defaults.resolve's 300 epochs and patience 20
    assert auto_epochs(300, False, config) == ESTIMATOR_STEPS  # nothing held out: full batch, one step per epoch
    config.train.optimizer = "lbfgs"
    assert auto_epochs(300, False, config) is None


def test_weights_of_two_act_as_repeated_rows_in_the_scalers_and_the_step_budget():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 5, (120, 2))
    y = X[:, 0] * X[:, 1] + 4
    counts = np.where(np.arange(120) % 3 == 0, 2, 1)  # 160 rows counted: the budget and batch of 160 rows
    params = dict(hidden=8, early_stopping=False)
    weighted = Regressor(**params).fit(X, y, sample_weight=counts)
    repeated = Regressor(**params).fit(X.repeat(counts, axis=0), y.repeat(counts))
    np.testing.assert_allclose(weighted.fitted_.x_scaler.mean, repeated.fitted_.x_scaler.mean, rtol=1e-12)
    np.testing.assert_allclose(weighted.fitted_.y_scaler.std, repeated.fitted_.y_scaler.std, rtol=1e-12)
    assert weighted.n_iter_ == repeated.n_iter_
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-6, atol=1e-6)


def test_a_frames_regression_gets_the_tables_ensemble_and_plain_arrays_one_net():
    import pandas as pd

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"size": rng.uniform(0, 1, 400), "kind": rng.choice(["a", "b", "c"], 400)})
    y = 3 * X["size"] + (X["kind"] == "b") + rng.normal(0, 0.1, 400)
    table = Regressor(epochs=20, seed=0).fit(X, y)
    assert table.fitted_.members == 5  # as `mlpfit fit table.csv` of 400 rows: members with their own validation rows
    mean, spread = table.predict(X.head(5), return_std=True)
    assert mean.shape == spread.shape == (5,) and (spread > 0).all()
    plain = Regressor(epochs=20, seed=0).fit(np.c_[X["size"], X["kind"] == "b"], y)
    assert plain.fitted_.members == 1


def test_a_pipeline_takes_a_frame_of_mixed_types_without_a_column_transformer():
    import pandas as pd
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"size": rng.uniform(0, 1, 300), "kind": rng.choice(["a", "b", "c"], 300)})
    y = np.where(X["kind"] == "a", X["size"] > 0.5, X["kind"] == "b")
    X.loc[7, "size"] = np.nan
    pipe = make_pipeline(Classifier(hidden=16, epochs=150))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.9
    pipe.fit(X, y)
    clf = pipe[-1]
    assert clf.feature_names_in_.tolist() == ["size", "kind"] and clf.n_features_in_ == 2
    assert clf.predict(X[["kind", "size"]].head(20)).tolist() == clf.predict(X.head(20)).tolist()
    with pytest.raises(UsageError, match="predict from a DataFrame"):
        clf.predict(np.zeros((2, 2)))
    refit = Classifier(hidden=4, epochs=2).fit(np.c_[X["size"].fillna(0), X["kind"] == "a"], y)
    assert getattr(refit, "encoding_", None) is None and refit.n_features_in_ == 2
