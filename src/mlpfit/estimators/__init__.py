"""scikit-learn estimators: :class:`Regressor` and :class:`Classifier`.

They train through the same engine as ``mlpfit fit`` (:func:`mlpfit.fitting.fit.fit`), so
inputs and regression targets are standardized by default, a validation split drives early
stopping and the best weights are kept. Parameters are named like the CLI options; ``None`` means
mlpfit's automatic choice, resolved at ``fit`` time from the data. Besides scikit-learn's MLP API
(``partial_fit``, ``warm_start``, ``sample_weight``, ``alpha``, multilabel targets, ``coefs_`` …)
they reach mlpfit's own: ``dropout``, ``ensemble`` (with ``predict(X, return_std=True)``), ``engine``.

>>> import numpy as np
>>> from mlpfit import Regressor
>>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
>>> model = Regressor(hidden=16, epochs=300, lr=0.03).fit(X, 3 * X[:, 0] + 1)
>>> model.score(X, 3 * X[:, 0] + 1) > 0.999
True
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from mlpfit.errors import UsageError
from mlpfit.estimators.base import MLPEstimator
from mlpfit.estimators.params import SKLEARN_LOSSES, EstimatorValueError


class Regressor(RegressorMixin, MLPEstimator):
    """An MLP regressor: 1-D or 2-D targets, standardized inputs and targets by default.

    Fitted attributes: ``fitted_`` (the trained :class:`~mlpfit.network.Network`), ``history_``,
    ``summary_``, ``n_iter_`` (epochs run, summed over warm starts and partial_fit calls),
    ``loss_curve_`` (training loss per epoch, on the standardized targets), ``t_``,
    ``validation_scores_`` / ``best_validation_score_`` (R² of the held-out rows per epoch; None
    without a held-out split or for losses other than mse), ``best_loss_`` (None with a held-out
    split, as in scikit-learn), ``coefs_`` / ``intercepts_`` (see :mod:`mlpfit.estimators.layout`),
    ``n_layers_``, ``n_outputs_``, ``out_activation_``, ``n_features_in_`` and, for frames,
    ``feature_names_in_``.

    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(-1, 1, (300, 2))
    >>> Y = np.c_[X[:, 0] + X[:, 1], X[:, 0] - X[:, 1]]
    >>> Regressor(hidden="none", epochs=200).fit(X, Y).predict(X[:2]).shape
    (2, 2)
    """

    _task = "regress"
    _y_checks: ClassVar[dict] = {"multi_output": True, "y_numeric": True}

    def fit(self, X, y, sample_weight=None):
        """Train on X [n, features] and y [n] or [n, outputs] (rows weighted by ``sample_weight``); returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _partial_fit_available(self) -> bool:
        return self.optimizer != "lbfgs"  # L-BFGS takes whole-data steps only (as scikit-learn's)

    @available_if(_partial_fit_available)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on this batch at a constant learning rate, continuing the weights and the optimizer's
        moments of the previous calls; returns self.

        Unlike scikit-learn's MLP (which has no scaler), the input and target scalers are learned on the
        first call's batch and kept: make that batch representative. Nothing is held out (no early stopping).
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _targets(self, y, continuing: bool, incremental: bool, classes):
        if continuing and (y.ndim == 1) != self._y_1d:
            raise EstimatorValueError(f"y is {y.ndim}-D, the earlier fit's was {1 if self._y_1d else 2}-D: keep its shape")
        self._y_1d = y.ndim == 1
        Y = y.reshape(len(y), -1).astype(np.float64)
        return Y, ["y"] if Y.shape[1] == 1 else [f"y{k + 1}" for k in range(Y.shape[1])]

    def predict(self, X, return_std: bool = False):
        """Predictions in the targets' units: [n] when fit on 1-D y, else [n, outputs].

        ``return_std=True`` (an ensemble of K ≥ 2 members) also returns the members' spread, the
        standard deviation of their predictions, shaped like the predictions.
        """
        check_is_fitted(self, "fitted_")
        X = self._raw_X(X)
        if not return_std:
            Y = self.fitted_.predict(X).astype(self._dtype, copy=False)
            return Y[:, 0] if self._y_1d else Y
        if self.fitted_.members < 2:
            raise EstimatorValueError(f"return_std=True needs an ensemble, but ensemble={self.ensemble!r}: "
                                      "set e.g. ensemble=5 and fit again")
        members = self.fitted_.member_predictions(X)
        mean, std = members.mean(axis=0).astype(self._dtype), members.std(axis=0).astype(self._dtype)
        return (mean[:, 0], std[:, 0]) if self._y_1d else (mean, std)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class Classifier(ClassifierMixin, MLPEstimator):
    """An MLP classifier trained with cross-entropy on logits; any hashable labels.

    A 0/1 indicator matrix y [n, labels] is a multilabel target (scikit-learn's meaning): one
    logistic output per label trained by binary cross-entropy (``loss="bce"``), ``predict_proba``
    gives each label's probability and ``predict`` the labels above 0.5; ``classes_`` is then
    ``arange(labels)``. Fitted attributes as :class:`Regressor`'s, with ``validation_scores_`` the
    validation accuracy (None for multilabel targets) and ``classes_``.

    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = Classifier(hidden=16, epochs=100).fit(X, y)
    >>> clf.classes_.tolist(), clf.predict_proba(X[:1]).shape
    ([0, 1, 2], (1, 3))
    """

    _y_checks: ClassVar[dict] = {"multi_output": True}

    @property
    def _task(self) -> str:
        return "regress" if getattr(self, "_multilabel", False) else "classify"

    def fit(self, X, y, sample_weight=None):
        """Train on X [n, features] and labels y [n] (or a 0/1 indicator matrix [n, labels]); returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _partial_fit_available(self) -> bool:
        return self.optimizer != "lbfgs"  # L-BFGS takes whole-data steps only (as scikit-learn's)

    @available_if(_partial_fit_available)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch on this batch at a constant learning rate, continuing the previous calls; returns self.

        ``classes``: every label that any batch may hold, required on the first call (as in
        scikit-learn; optional for a multilabel indicator matrix). The input scaler is learned on the
        first call's batch and kept, so make that batch representative. Nothing is held out.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _automatic(self, held_out: bool) -> dict:
        """A multilabel target's own defaults: make_multilabel_classification's count-like features overfit
        its labels within tens of epochs at lr 0.01; relu units at lr 0.003 with an L2 penalty of 1 hold that
        off (label accuracy over 8 generated sets, 3-fold CV: 0.809 against 0.800 with the usual defaults
        and 0.806 for scikit-learn's MLPClassifier; benchmarks/sklearn_parity.py).

        Classes with rows held out: a validation split of a few dozen rows picks the epoch, and a little
        dropout makes the pick matter less. 3-fold CV unshuffled / shuffled (seeds 1-4): breast cancer
        0.965 -> 0.970 / 0.974 -> 0.975, iris 0.953 -> 0.960 / 0.960 -> 0.962, wine 0.972 / 0.975 both ways,
        digits 0.955 -> 0.956 (seeds 0-2). With nothing held out there is no pick to steady, and weights then
        act exactly as repeated rows (a row's dropout masks would not). L-BFGS (a line search, which needs a
        deterministic loss) keeps the usual defaults."""
        if self.optimizer == "lbfgs":
            return {}
        if getattr(self, "_multilabel", False):
            return {"activation": "relu", "lr": 3e-3, "alpha": 1.0}
        return {"dropout": 0.1} if held_out else {}

    def _loss(self):
        if getattr(self, "_multilabel", False):
            if self.loss not in (None, "bce", "log_loss"):
                raise UsageError(f"loss={self.loss!r} cannot fit a multilabel (0/1 indicator) target: "
                                 "leave loss=None (bce, one logistic unit per label)")
            return "bce"
        return SKLEARN_LOSSES.get(self.loss, self.loss)

    def _targets(self, y, continuing: bool, incremental: bool, classes):
        multilabel = type_of_target(y) == "multilabel-indicator"
        if continuing and multilabel != self._multilabel:
            raise EstimatorValueError("y switches between labels and a multilabel indicator matrix: keep the earlier kind")
        if multilabel:
            self._multilabel, self.classes_ = True, np.arange(y.shape[1])
            self._y_dtype = y.dtype
            return y.astype(np.float64), [f"label{k}" for k in range(y.shape[1])]
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # scikit-learn's DataConversionWarning for a column vector
        if y.ndim != 1:
            raise EstimatorValueError(f"y has shape {y.shape}: give labels [n] or a 0/1 indicator matrix [n, labels]")
        check_classification_targets(y)
        self._multilabel = False
        labels = np.unique(y)
        if not continuing:
            if incremental and classes is None:
                raise EstimatorValueError("classes must be passed on the first call to partial_fit: "
                                          "e.g. classes=np.unique(y_all)")
            self.classes_ = labels if classes is None else np.unique(np.asarray(classes))
        elif incremental and classes is not None and not np.array_equal(self.classes_, np.unique(np.asarray(classes))):
            raise EstimatorValueError(f"classes={np.unique(np.asarray(classes)).tolist()} differs from the first "
                                      f"partial_fit's {self.classes_.tolist()}: pass the same classes, or none")
        self._check_labels(labels, incremental)
        return np.searchsorted(self.classes_, y).astype(np.int64), ["label"]

    def _check_labels(self, labels: np.ndarray, incremental: bool) -> None:
        """partial_fit: every label among ``classes_``; warm start: the same classes as before (scikit-learn's rules)."""
        unknown = np.setdiff1d(labels, self.classes_)
        if incremental and len(unknown):
            raise EstimatorValueError(f"y holds labels {unknown.tolist()} not in classes_ {self.classes_.tolist()}: "
                                      "pass every label as classes= on the first partial_fit")
        if not incremental and (len(unknown) or len(labels) != len(self.classes_)):
            # scikit-learn's words, which its users (and tests) match
            raise EstimatorValueError(f"warm_start can only be used where `y` has the same classes as in the previous "
                                      f"call to fit. Previously got {self.classes_}, `y` has {labels}: "
                                      "fit with warm_start=False to start over")

    def _out_activation(self, name: str) -> str:
        return "logistic" if self._multilabel else "softmax"

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities [n, classes], columns in the order of ``classes_`` (multilabel: each label's
        probability; an ensemble averages its members' probabilities)."""
        check_is_fitted(self, "fitted_")
        X = self._raw_X(X)
        # multilabel: the fitted model's link (logistic, loss bce) makes its predictions probabilities
        proba = self.fitted_.predict(X) if self._multilabel else self.fitted_.predict_proba(X)
        return proba.astype(self._dtype, copy=False)

    def predict_log_proba(self, X) -> np.ndarray:
        """The log of :meth:`predict_proba` (-inf where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def decision_function(self, X) -> np.ndarray:
        """Logits [n, classes] (for two classes, the logit margin of class 1 over class 0, [n])."""
        check_is_fitted(self, "fitted_")
        logits = self.fitted_.raw_output(self._raw_X(X)).astype(self._dtype, copy=False)
        return logits[:, 1] - logits[:, 0] if len(self.classes_) == 2 and not self._multilabel else logits

    def predict(self, X) -> np.ndarray:
        """The most probable label for each row (multilabel: the 0/1 matrix of labels above 0.5)."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ is touched
        if self._multilabel:
            return (proba > 0.5).astype(self._y_dtype)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
