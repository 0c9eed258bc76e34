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
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, check_X_y, column_or_1d, validate_data

from mlpfit.config import schema as cfg
from mlpfit.data.dataset import Dataset
from mlpfit.data.sources.csvfile import Sheet
from mlpfit.data.sources.encoding import Target, TableEncoding, needs_encoding
from mlpfit.errors import UsageError
from mlpfit.estimator_layout import layer_weights, validation_scores
from mlpfit.estimator_params import (DEFAULT_VALIDATION_FRACTION, ESTIMATOR_STEPS, EstimatorValueError,  # noqa: F401
                                     auto_epochs, hidden_sizes, python_words, sample_weights, validated)
from mlpfit.fitting.build import Start, optimizer_kind
from mlpfit.fitting.fit import fit
from mlpfit.fitting.predicting import rows_from_frame


class _MLPEstimator(BaseEstimator):
    """Parameters and the shared fit path; subclasses say how targets become a Dataset.

    Parameters (``None``: mlpfit chooses from the data, as the CLI does):
    hidden: widths, as an int, a sequence, or ``"64,64"`` / ``"32x5"`` / ``"none"``; None: 64,64.
    activation: between layers (tanh when None); output_activation: on the last layer (identity).
    dropout: share of hidden units dropped while training (None: 0).
    ensemble: K ≥ 1 members trained together (init seeds seed..seed+K-1); predictions are their
    mean, and ``Regressor.predict(X, return_std=True)`` adds their spread.
    epochs: None gives a table of up to 10,000 training rows (with early stopping) 300 epochs and a
    patience of 20, as ``mlpfit fit FILE.csv``; larger ones about 1,500 optimizer steps (ESTIMATOR_STEPS).
    lr, batch_size, optimizer, loss, schedule, patience, engine: as ``mlpfit fit --help`` describes them.
    alpha: L2 penalty, scikit-learn's: 0.5·alpha·Σ‖W‖² / (rows of the batch) added to the loss, on
    the weights of the standardized network (so not the same strength as in an unscaled net).
    scale: standardize inputs and regression targets (undone on predict).
    early_stopping: hold out validation_fraction of the rows (None: 0.1) and keep the epoch that
    scores best there; False trains on every row (below 50 rows nothing is held out either way).
    warm_start: ``fit`` starts from the previous fit's weights and scalers instead of a fresh init.
    seed: fixes init, split and shuffling. device: auto, cpu or cuda.
    threads: CPU threads (None: 1 for small models; note torch's thread count is process-wide).
    """

    _task = "regress"

    def __init__(self, hidden=None, activation=None, output_activation=None, dropout=None, ensemble=1, epochs=None,
                 lr=None, batch_size=None, optimizer=None, loss=None, schedule=None, patience=None, alpha=0.0,
                 scale=True, early_stopping=True, validation_fraction=None, warm_start=False, seed=0, device=None,
                 threads=None, engine=None):
        self.hidden = hidden
        self.activation = activation
        self.output_activation = output_activation
        self.dropout = dropout
        self.ensemble = ensemble
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.loss = loss
        self.schedule = schedule
        self.patience = patience
        self.alpha = alpha
        self.scale = scale
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.seed = seed
        self.device = device
        self.threads = threads
        self.engine = engine

    def _config(self, incremental: bool = False) -> cfg.FitConfig:
        """The parameters as a validated FitConfig (parameters are checked here, not in __init__).

        ``incremental`` (partial_fit): one epoch at a constant learning rate on every row given.
        """
        val = DEFAULT_VALIDATION_FRACTION if self.validation_fraction is None else float(self.validation_fraction)
        if not 0 < val < 0.5:
            raise UsageError(f"validation_fraction must be in (0, 0.5), got {self.validation_fraction!r}: e.g. 0.1")
        if incremental or not self.early_stopping:
            val = 0.0
        data = cfg.DataConfig(target="array", task=self._task, val_fraction=val, test_fraction=0.0, scale=bool(self.scale))
        model = cfg.ModelConfig(hidden=hidden_sizes(self.hidden), activation=self.activation,
                                output_activation=self.output_activation or "identity", dropout=self.dropout,
                                ensemble=self.ensemble)
        train = cfg.TrainConfig(epochs=1 if incremental else self.epochs, batch_size=self.batch_size, lr=self.lr,
                                optimizer=self.optimizer or "adam", loss=self._loss(),
                                schedule="constant" if incremental else self.schedule,
                                patience=self.patience, alpha=self.alpha, seed=int(self.seed or 0),
                                # alpha is the estimators' penalty (scikit-learn's); no optimizer decay on top:
                                # a small table's 1e-3 took x² + y² (8,000 rows) from R² 0.9999 to 0.998 and
                                # moved breast cancer, iris, wine and diabetes by under 0.004 (3-fold CV)
                                weight_decay=0.0,
                                device=self.device or "auto", threads=self.threads, engine=self.engine or "auto")
        return validated(cfg.FitConfig(data, model, train, cfg.RunConfig()))

    def _loss(self):
        return self.loss

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        """fit / partial_fit: validate, turn y into targets, train from scratch or from the last fit."""
        continuing = hasattr(self, "fitted_") and (incremental or bool(self.warm_start))
        encoded = self._encoded(X, y, continuing)
        X, y = encoded or validate_data(self, X, y, reset=not continuing, dtype=np.float64, **self._y_checks)
        weights = sample_weights(sample_weight, len(X))
        Y, outputs = self._targets(y, continuing, incremental, classes)
        return self._train(X, Y, outputs, weights, incremental, continuing)

    def _train(self, X, Y, outputs, weights, incremental: bool, continuing: bool):

        config = self._config(incremental)
        if config.train.epochs is None:
            config.train.epochs = auto_epochs(len(X), config)  # None: a small table's rules (defaults.resolve)
        names = getattr(self, "feature_names_in_", None)
        inputs = [str(n) for n in names] if names is not None else [f"x{k + 1}" for k in range(X.shape[1])]
        if getattr(self, "encoding_", None) is not None:  # one input per level of a text column
            inputs = self.encoding_.names
        classes = self.classes_.tolist() if self._task == "classify" else None
        # rows of measurements, as a CSV table's: up to SMALL_TABLE_ROWS they get its epochs and patience
        # (defaults.resolve), which stop soon after the validation loss turns (breast cancer's 3-fold CV:
        # 1,130 epochs in 0.95 s with the step budget's onecycle and patience, 0.09 s this way, same score)
        dataset = Dataset("array", np.asarray(X, dtype=np.float64), Y, inputs, outputs, task=self._task,
                          classes=classes, weights=weights, table=True)
        # partial_fit continues the optimizer's moments, unless the fit resolves another optimizer or engine
        moments = getattr(self, "_optimizer_state", (None, None)) if incremental else (None, None)
        start = Start(self.fitted_, *moments) if continuing else None
        try:
            result = fit(config, dataset=dataset, save=False, start=start)
        except UsageError as err:  # e.g. device="cuda" without a GPU, found only when training starts
            raise python_words(err) from None
        if any(d["severity"] == "error" for d in result.summary["diagnostics"]):
            first = next(d for d in result.summary["diagnostics"] if d["severity"] == "error")
            raise UsageError(f"{first['message']}: {first['hint'].replace('--lr', 'lr=')}")
        self._record(result, continuing)
        return self

    def _record(self, result, continuing: bool) -> None:
        """The fitted attributes, scikit-learn's names and meanings; a continued fit extends the curves."""
        # Predict in float64: float32 sums depend on the batch's size at the 1e-7 level, and
        # scikit-learn (rightly) expects a row's prediction not to depend on its neighbours.

        self.fitted_ = result.fitted.in_float64()
        self._optimizer_state = (result.optimizer_state, optimizer_kind(result.config))
        self.history_ = result.history
        self.summary_ = result.summary
        history, split = result.history, result.split
        before = continuing and hasattr(self, "loss_curve_")
        self.n_iter_ = (self.n_iter_ if before else 0) + history.epochs
        self.t_ = (self.t_ if before else 0) + len(split.train) * history.epochs  # training rows seen
        self.loss_curve_ = (self.loss_curve_ if before else []) + history.column("train_loss")
        val_targets = None if result.fitted.y_scaler is None else result.fitted.y_scaler.transform(result.dataset.Y[split.val])
        scores = validation_scores(history, result.dataset.task, result.config.train.loss, val_targets) if split.held_out else None
        if scores is not None and before and self.validation_scores_ is not None:
            scores = self.validation_scores_ + scores
        self.validation_scores_ = scores
        self.best_validation_score_ = max(scores) if scores else None
        # scikit-learn: with early stopping the best loss is not tracked (None); without, the lowest training loss
        self.best_loss_ = None if split.held_out else float(np.nanmin(self.loss_curve_))
        self.coefs_, self.intercepts_ = layer_weights(self.fitted_)
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = len(result.fitted.outputs) if result.dataset.task != "classify" else len(self.classes_)
        self.out_activation_ = self._out_activation(result.config.model.output_activation)

    def _out_activation(self, name: str) -> str:
        return name

    def _raw_X(self, X) -> np.ndarray:
        """X checked against what fit saw (feature count and names), as float64 network inputs."""
        encoding = getattr(self, "encoding_", None)
        if encoding is None:
            return validate_data(self, X, reset=False, dtype=np.float64)

        if not hasattr(X, "columns"):
            raise UsageError("this estimator was fit on a DataFrame with text or missing values: "
                             "predict from a DataFrame with the same columns")
        return rows_from_frame(X, encoding).X

    def _encoded(self, X, y, continuing: bool):
        """(X as network inputs, y) for a DataFrame with text or missing values, encoded as ``mlpfit fit``
        encodes a CSV table (one-hot text, filled holes); None for anything else (the plain path).
        A continued fit (warm start, partial_fit) applies the first fit's encoding."""
        if continuing:
            if getattr(self, "encoding_", None) is None:
                return None
            return check_X_y(self._raw_X(X), y, dtype=np.float64, **self._y_checks)
        self.encoding_ = None
        if not needs_encoding(X):
            return None
        sheet = Sheet.from_frame(X)
        Y = np.asarray(y)
        Y = (Y.astype(np.float64) if self._task == "regress" else Y).reshape(len(Y), -1)
        names = [f"y{k}" for k in range(Y.shape[1])]
        # The same encoding as `mlpfit fit` on a CSV: many-level text by each level's mean target, dates as numbers.
        self.encoding_, encoded = TableEncoding.fit_transform(sheet, sheet.header, True, (), None,
                                                              Target(Y, self._task, names))
        self.feature_names_in_ = np.asarray(sheet.header, dtype=object)
        self.n_features_in_ = len(sheet.header)
        return check_X_y(encoded, y, dtype=np.float64, **self._y_checks)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # a seed fixes init, split and shuffling
        return tags


class Regressor(RegressorMixin, _MLPEstimator):
    """An MLP regressor: 1-D or 2-D targets, standardized inputs and targets by default.

    Fitted attributes: ``fitted_`` (the trained :class:`~mlpfit.network.Network`), ``history_``,
    ``summary_``, ``n_iter_`` (epochs run, summed over warm starts and partial_fit calls),
    ``loss_curve_`` (training loss per epoch, on the standardized targets), ``t_``,
    ``validation_scores_`` / ``best_validation_score_`` (R² of the held-out rows per epoch; None
    without a held-out split or for losses other than mse), ``best_loss_`` (None with a held-out
    split, as in scikit-learn), ``coefs_`` / ``intercepts_`` (see :mod:`mlpfit.estimator_layout`),
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
            Y = self.fitted_.predict(X)
            return Y[:, 0] if self._y_1d else Y
        if self.fitted_.members < 2:
            raise UsageError(f"return_std=True needs an ensemble, but ensemble={self.ensemble!r}: "
                             "set e.g. ensemble=5 and fit again")
        members = self.fitted_.member_predictions(X)
        mean, std = members.mean(axis=0), members.std(axis=0)
        return (mean[:, 0], std[:, 0]) if self._y_1d else (mean, std)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class Classifier(ClassifierMixin, _MLPEstimator):
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

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch on this batch at a constant learning rate, continuing the previous calls; returns self.

        ``classes``: every label that any batch may hold, required on the first call (as in
        scikit-learn; optional for a multilabel indicator matrix). The input scaler is learned on the
        first call's batch and kept, so make that batch representative. Nothing is held out.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _loss(self):
        if getattr(self, "_multilabel", False):
            if self.loss not in (None, "bce"):
                raise UsageError(f"loss={self.loss!r} cannot fit a multilabel (0/1 indicator) target: "
                                 "leave loss=None (bce, one logistic unit per label)")
            return "bce"
        return self.loss

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
        self._check_labels(labels, incremental)
        return np.searchsorted(self.classes_, y).astype(np.int64), ["label"]

    def _check_labels(self, labels: np.ndarray, incremental: bool) -> None:
        """partial_fit: every label among ``classes_``; warm start: the same classes as before (scikit-learn's rules)."""
        unknown = np.setdiff1d(labels, self.classes_)
        if incremental and len(unknown):
            raise EstimatorValueError(f"y holds labels {unknown.tolist()} not in classes_ {self.classes_.tolist()}: "
                                      "pass every label as classes= on the first partial_fit")
        if not incremental and (len(unknown) or len(labels) != len(self.classes_)):
            raise EstimatorValueError(f"warm_start can only continue with y of the same classes as before: "
                                      f"had {self.classes_.tolist()}, y has {labels.tolist()}")

    def _out_activation(self, name: str) -> str:
        return "logistic" if self._multilabel else "softmax"

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities [n, classes], columns in the order of ``classes_`` (multilabel: each label's
        probability; an ensemble averages its members' probabilities)."""
        check_is_fitted(self, "fitted_")
        X = self._raw_X(X)
        # multilabel: the fitted model's link (logistic, loss bce) makes its predictions probabilities
        return self.fitted_.predict(X) if self._multilabel else self.fitted_.predict_proba(X)

    def decision_function(self, X) -> np.ndarray:
        """Logits [n, classes] (for two classes, the logit margin of class 1 over class 0, [n])."""
        check_is_fitted(self, "fitted_")
        logits = self.fitted_.raw_output(self._raw_X(X))
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
