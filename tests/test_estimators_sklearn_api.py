"""The estimators do what scikit-learn's MLP does (issue 20), in the spirit of its own MLP tests:
partial_fit, warm_start, multilabel targets, sample_weight, alpha, coefs_ / intercepts_ and the
fitted curves, plus mlpfit's own ensemble (return_std), dropout and engine. Every fit is small.
"""
import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from mlpfit.errors import UsageError
from mlpfit.estimators import Classifier, Regressor


def wave(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(2 * X[:, 0]) + X[:, 1] ** 2


def forward(coefs, intercepts, X, hidden=np.tanh):
    """scikit-learn's forward pass over coefs_ [in, out] and intercepts_ [out]."""
    h = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        h = h @ W + b
        if i < len(coefs) - 1:
            h = hidden(h)
    return h


# ---------------------------------------------------------------- coefs_ and fitted attributes


def test_coefs_reproduce_predict_through_a_numpy_forward_pass():
    X, y = wave(120)
    model = Regressor(hidden=(8, 6), epochs=60).fit(X * 50 + 3, y * 10 - 4)  # far from unit scale: the scalers matter
    assert [W.shape for W in model.coefs_] == [(2, 8), (8, 6), (6, 1)]
    assert [b.shape for b in model.intercepts_] == [(8,), (6,), (1,)]
    np.testing.assert_allclose(forward(model.coefs_, model.intercepts_, X * 50 + 3)[:, 0], model.predict(X * 50 + 3),
                               rtol=1e-9, atol=1e-9)
    assert model.n_layers_ == 4 and model.n_outputs_ == 1 and model.out_activation_ == "identity"


def test_classifier_coefs_give_the_logits_and_an_ensemble_stacks_its_members():
    X, y = wave(120)
    labels = np.where(y > 0.6, "high", "low")
    clf = Classifier(hidden=6, epochs=40, activation="relu").fit(X, labels)
    logits = forward(clf.coefs_, clf.intercepts_, X, hidden=lambda h: np.maximum(h, 0))
    np.testing.assert_allclose(logits[:, 1] - logits[:, 0], clf.decision_function(X), rtol=1e-9, atol=1e-9)
    assert clf.out_activation_ == "softmax"
    ensemble = Regressor(hidden=5, epochs=30, ensemble=3).fit(X, y)
    assert [W.shape for W in ensemble.coefs_] == [(3, 2, 5), (3, 5, 1)]
    members = forward(ensemble.coefs_, [b[:, None, :] for b in ensemble.intercepts_], X)  # [K, n, 1]
    np.testing.assert_allclose(members.mean(axis=0)[:, 0], ensemble.predict(X), rtol=1e-9, atol=1e-9)


def test_curves_and_best_scores_have_scikit_learns_meaning():
    X, y = wave(200)
    held = Regressor(hidden=8, epochs=40).fit(X, y)  # a validation split: early stopping
    assert held.best_loss_ is None and len(held.validation_scores_) == held.n_iter_ == len(held.loss_curve_)
    assert held.best_validation_score_ == max(held.validation_scores_) > 0.5
    whole = Regressor(hidden=8, epochs=40, early_stopping=False).fit(X, y)
    assert whole.validation_scores_ is None and whole.best_validation_score_ is None
    assert whole.best_loss_ == min(whole.loss_curve_)
    assert whole.t_ == 200 * whole.n_iter_
    clf = Classifier(hidden=8, epochs=40).fit(X, y > 0.6)
    assert all(0 <= s <= 1 for s in clf.validation_scores_) and clf.best_validation_score_ > 0.7


# ---------------------------------------------------------------- sample_weight and alpha


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_a_zero_sample_weight_removes_the_rows_influence(engine):
    X, y = wave(40)  # below 50 rows nothing is held out, so both fits see the same rows
    y[:5] += 3.0  # outliers: with weight 1 they would pull the fit
    weights = np.r_[np.zeros(5), np.ones(35)]
    params = dict(hidden=8, epochs=150, engine=engine)
    weighted = Regressor(**params).fit(X, y, sample_weight=weights)
    dropped = Regressor(**params).fit(X[5:], y[5:])
    plain = Regressor(**params).fit(X, y)
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), rtol=1e-4, atol=1e-4)
    assert np.abs(plain.predict(X) - dropped.predict(X)).max() > 0.1


def test_integer_sample_weights_count_as_repeated_rows_for_classes():
    X, y = wave(30)
    labels = (y > 0.6).astype(int)
    counts = np.arange(30) % 3
    weighted = Classifier(hidden=6, epochs=80).fit(X, labels, sample_weight=counts)
    repeated = Classifier(hidden=6, epochs=80).fit(X.repeat(counts, axis=0), labels.repeat(counts))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("sample_weight, words", [(np.ones(3), "(3,)"), (-np.ones(40), ">= 0"), (np.zeros(40), "zero")])
def test_bad_sample_weights_are_refused_naming_the_problem(sample_weight, words):
    X, y = wave(40)
    with pytest.raises(ValueError, match=None) as err:
        Regressor(epochs=2).fit(X, y, sample_weight=sample_weight)
    assert words in str(err.value) and isinstance(err.value, UsageError)


@pytest.mark.parametrize("engine", ["torch", "numpy"])
def test_alpha_shrinks_the_weights(engine):
    X, y = wave(100)
    norms = [sum(float((W**2).sum()) for W in Regressor(hidden=8, epochs=100, alpha=alpha, engine=engine,
                                                           scale=False).fit(X, y).coefs_)
             for alpha in (0.0, 30.0)]
    assert norms[1] < 0.5 * norms[0]


def test_alpha_must_be_a_non_negative_number():
    with pytest.raises(UsageError, match="alpha"):
        Regressor(alpha=-1.0).fit(*wave(20))


# ---------------------------------------------------------------- ensemble, dropout, engine


def test_return_std_is_larger_far_from_the_data_than_near_it():
    X = np.linspace(-1, 1, 80).reshape(-1, 1)
    model = Regressor(hidden=16, epochs=300, ensemble=5).fit(X, np.sin(3 * X[:, 0]))
    near, far = np.linspace(-1, 1, 41).reshape(-1, 1), np.linspace(3, 5, 21).reshape(-1, 1)
    mean, std = model.predict(np.vstack([near, far, -far]), return_std=True)
    assert mean.shape == std.shape == (83,)
    # the ratio varies with the members' init (3.8-6.5 over seeds on either engine): the mean spread, not one point
    assert std[41:].mean() > 3 * std[:41].mean()
    with pytest.raises(UsageError, match="ensemble"):
        Regressor(hidden=4, epochs=5).fit(X, X[:, 0]).predict(X, return_std=True)


def test_dropout_and_engine_reach_the_fit(monkeypatch):
    from mlpfit.engines.torch import build

    models = []
    real = build.build_torch

    def kept(*args, **kwargs):
        engine = real(*args, **kwargs)
        models.append(engine.model)
        return engine

    monkeypatch.setattr(build, "build_torch", kept)
    X, y = wave(100)
    dropped = Regressor(hidden=16, epochs=20, dropout=0.3, engine="torch").fit(X, y)
    assert [m.dropout for m in models] == [0.3] and dropped.summary_["architecture"]["dropout"] == 0.3
    numpy = Regressor(hidden=8, epochs=20, engine="numpy", optimizer="sgd").fit(X, y)
    assert numpy.summary_["engine"] == "numpy" and numpy.score(X, y) > 0.3
    classes = Classifier(hidden=8, epochs=200, engine="numpy", dropout=0.1).fit(X, y > 0)  # classes, dropout too
    assert classes.summary_["engine"] == "numpy" and classes.score(X, y > 0) > 0.9


# ---------------------------------------------------------------- warm_start and partial_fit


def test_warm_start_continues_where_it_stopped():
    X, y = wave(400)
    Xt, yt = wave(200, seed=1)
    cold_long = Regressor(hidden=16, epochs=200).fit(X, y).score(Xt, yt)
    cold_short = Regressor(hidden=16, epochs=100).fit(X, y).score(Xt, yt)
    warm = Regressor(hidden=16, epochs=100, warm_start=True).fit(X, y)
    scaler = warm.fitted_.x_scaler
    first = warm.n_iter_
    warm.fit(X, y)  # up to 100 more epochs from where it stopped
    assert warm.fitted_.x_scaler is scaler  # the weights' scalers are kept with them
    # scikit-learn's meaning: n_iter_ counts this fit's epochs, the curves go on
    assert warm.n_iter_ <= 100 and len(warm.loss_curve_) == first + warm.n_iter_
    assert warm.score(Xt, yt) >= cold_long > cold_short


def test_warm_start_refuses_other_classes_and_other_shapes():
    X, y = wave(60)
    clf = Classifier(hidden=4, epochs=5, warm_start=True).fit(X, y > 0.6)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X, np.where(y > 0.6, 2, 3))
    model = Regressor(hidden=4, epochs=5, warm_start=True).fit(X, y)
    with pytest.raises(UsageError, match="hidden"):
        model.set_params(hidden=5).fit(X, y)
    assert Regressor(hidden=4, epochs=5).fit(X, y).set_params(hidden=5).fit(X, y).coefs_[0].shape == (2, 5)


def test_partial_fit_over_batches_reaches_the_score_of_one_fit():
    # scikit-learn's test_partial_fit_regression: the same steps as one fit at a constant rate
    X, y = wave(300)
    Xt, yt = wave(200, seed=1)
    one = Regressor(hidden=16, epochs=60, batch_size=100, lr=0.01, schedule="constant", early_stopping=False).fit(X, y)
    model = Regressor(hidden=16, batch_size=100, lr=0.01)
    for _ in range(60):
        for rows in np.split(np.arange(300), 3):
            model.partial_fit(X[rows], y[rows])
    assert model.n_iter_ == 180 and one.score(Xt, yt) > 0.98
    assert model.score(Xt, yt) >= one.score(Xt, yt) - 0.005


def test_partial_fit_learns_the_scaler_on_the_first_batch_and_keeps_it():
    X, y = wave(100)
    model = Regressor(hidden=4).partial_fit(X[:50] * 10, y[:50])
    model.partial_fit(X[50:], y[50:])
    np.testing.assert_allclose(model.fitted_.x_scaler.mean, (X[:50] * 10).mean(axis=0))


@pytest.mark.parametrize("engine, ensemble", [("torch", 1), ("torch", 3), ("numpy", 1), ("numpy", 2)])
def test_partial_fit_continues_on_every_engine(engine, ensemble):
    X, y = wave(60)
    model = Regressor(hidden=8, engine=engine, ensemble=ensemble, optimizer="adam")
    for _ in range(30):
        model.partial_fit(X, y)
    assert model.n_iter_ == 30 and model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
    model.set_params(optimizer="sgd").partial_fit(X, y)  # another optimizer starts its own moments
    assert model.n_iter_ == 31


def test_classifier_partial_fit_needs_the_classes_first_and_keeps_to_them():
    X, y = wave(90)
    labels = np.digitize(y, [0.3, 1.0])  # 0, 1, 2
    with pytest.raises(ValueError, match="classes"):
        Classifier(hidden=4).partial_fit(X, labels)
    clf = Classifier(hidden=8, lr=0.02)
    for _ in range(40):
        for rows in np.split(np.arange(90), 3):
            clf.partial_fit(X[rows], labels[rows], classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2] and clf.score(X, labels) > 0.8
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:5], np.full(5, 7))


# ---------------------------------------------------------------- multilabel


def test_multilabel_scores_at_least_scikit_learns_mlp():
    X, Y = make_multilabel_classification(n_samples=1000, n_features=20, n_classes=5, random_state=0)
    train, test = slice(0, 800), slice(800, None)
    ours = Classifier().fit(X[train], Y[train])
    with pytest.warns(ConvergenceWarning):  # scikit-learn's defaults stop at max_iter=200
        theirs = MLPClassifier(random_state=0).fit(X[train], Y[train])
    proba = ours.predict_proba(X[test])
    assert proba.shape == (200, 5) and ours.classes_.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(ours.predict(X[test]), (proba > 0.5).astype(int))
    assert ours.out_activation_ == "logistic"
    assert ours.score(X[test], Y[test]) >= theirs.score(X[test], Y[test])  # every label right: 0.37 vs 0.345
    assert (ours.predict(X[test]) == Y[test]).mean() >= (theirs.predict(X[test]) == Y[test]).mean()


def test_multilabel_refuses_a_loss_that_is_not_per_label():
    X, Y = make_multilabel_classification(n_samples=40, n_classes=3, random_state=0)
    with pytest.raises(UsageError, match="bce"):
        Classifier(loss="mse", epochs=2).fit(X, Y)
