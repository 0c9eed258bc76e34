"""What the estimators say while and after they train: verbose lines, max_fun, ConvergenceWarning, NaN on divergence."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from mlpfit.estimators.progress import FunctionBudget, still_improving
from mlpfit.estimators import Classifier, Regressor
from mlpfit.train.history import History


def history(val_losses, **meta):
    h = History()
    for epoch, loss in enumerate(val_losses, 1):
        h.append({"epoch": epoch, "train_loss": loss, "val_loss": loss, "lr": 0.01, "seconds": 0.0})
    for key, value in meta.items():
        setattr(h, key, value)
    return h


def test_still_improving_means_the_budget_ended_while_the_loss_fell_materially():
    falling = history(np.linspace(1.0, 0.1, 30))
    assert still_improving(falling, 30)
    assert not still_improving(falling, 40)  # stopped before its budget
    assert not still_improving(history(np.linspace(1.0, 0.1, 30), stopped_early=True), 30)
    flat_end = history(np.r_[np.linspace(1.0, 0.1, 20), np.full(10, 0.1)])
    assert not still_improving(flat_end, 30)  # the last third gained nothing
    memorized = history(np.r_[np.geomspace(1.0, 1e-9, 20), np.geomspace(1e-9, 1e-10, 10)])
    assert not still_improving(memorized, 30)  # a fall of 1e-9 out of 1 is not material


def test_a_short_budget_warns_and_an_early_stop_does_not():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    with pytest.warns(ConvergenceWarning, match="epochs=5"):
        Regressor(hidden=8, epochs=5).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = Regressor(hidden=8, epochs=3000, patience=5, tol=0.01).fit(X, y)  # tol: stops once gains are small
    assert model.n_iter_ < 3000


def test_verbose_prints_each_epoch_and_partial_fit_counts_on(capsys):
    X = np.array([[3.0, 2.0], [1.0, 6.0]])
    model = Classifier(hidden=2, epochs=2, verbose=True).fit(X, [1, 0])
    model.partial_fit(X, [1, 0])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Iteration 1", "Iteration 2", "Iteration 3"]


class Counting:
    def __init__(self, evaluations):
        self.evaluations = evaluations

    def function_evaluations(self):
        return self.evaluations


class Trainer:
    def __init__(self, evaluations):
        self.engine, self.stop_training = Counting(evaluations), False


def test_function_budget_stops_at_max_fun():
    budget = FunctionBudget(10)
    below, at = Trainer(9), Trainer(10)
    budget.on_epoch_end(below, {})
    assert not below.stop_training and not budget.reached
    budget.on_epoch_end(at, {})
    assert at.stop_training and budget.reached


def test_max_fun_ends_an_lbfgs_fit_with_a_warning():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (100, 3))
    with pytest.warns(ConvergenceWarning, match="max_fun=5"):
        model = Regressor(hidden=16, optimizer="lbfgs", epochs=50, max_fun=5).fit(X, np.sin(3 * X).sum(axis=1))
    assert model.n_iter_ == 1  # one L-BFGS epoch evaluates the loss more than 5 times


def test_a_diverging_fit_ends_with_a_nan_score_and_a_warning_not_an_error():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (150, 4))
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model = Regressor(hidden=64, activation="identity", optimizer="sgd", lr=5.0, schedule="constant",
                          epochs=20).fit(X, X @ np.arange(1, 5))
    assert np.isnan(model.validation_scores_[-1]) and np.isfinite(model.predict(X)).all()  # the best epoch's weights
