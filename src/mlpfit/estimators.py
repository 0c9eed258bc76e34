"""scikit-learn estimators: :class:`Regressor` and :class:`Classifier`.

They train through the same engine as ``mlpfit fit`` (:func:`mlpfit.fitting.fit.fit`), so
inputs and regression targets are standardized by default, a validation split drives early
stopping and the best weights are kept. Parameters are named like the CLI options; ``None`` means
mlpfit's automatic choice, resolved at ``fit`` time from the data.

>>> import numpy as np
>>> from mlpfit import Regressor
>>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
>>> model = Regressor(hidden=16, epochs=300, lr=0.03).fit(X, 3 * X[:, 0] + 1)
>>> model.score(X, 3 * X[:, 0] + 1) > 0.999
True
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from mlpfit.config import schema as cfg
from mlpfit.errors import MlpfitError, UsageError

# Estimators score themselves through their caller (cross-validation); only a validation split
# for early stopping is held out.
DEFAULT_VALIDATION_FRACTION = 0.1
# Optimizer steps when epochs=None. The CLI's 6,000 (defaults.TARGET_STEPS) aims at R² 0.9999 for
# a picture; estimators are refit many times in a search. On x² + y² (10,000 points, one layer of
# 64, seeds 0-2) one-cycle Adam reached test R² ≥ 0.9989 in 1,200 steps, ≥ 0.9994 in 1,500 and
# ≥ 0.9997 in 2,000: 1,500 keeps a margin over 0.999 at a quarter of the CLI's time.
ESTIMATOR_STEPS = 1_500


def hidden_sizes(hidden) -> list[int] | None:
    """``None``, an int, a sequence of ints, or a CLI string (``"64,64"``, ``"32x5"``, ``"none"``) → widths."""
    if hidden is None:
        return None
    if isinstance(hidden, str):
        return cfg.parse_hidden(hidden)
    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        hidden = [hidden]
    try:
        sizes = [int(h) for h in hidden]
        if any(int(h) != h for h in hidden):
            raise ValueError
    except (TypeError, ValueError):
        raise UsageError(f"hidden={hidden!r} is not a list of layer widths: use e.g. 64, (64, 64), '32x5' or 'none'") from None
    if any(size <= 0 for size in sizes):
        raise UsageError(f"hidden sizes must be > 0, got {min(sizes)} in hidden={hidden!r}: use e.g. 64 or (64, 64)")
    return cfg.parse_hidden(",".join(map(str, sizes))) if sizes else []


def python_words(err: MlpfitError) -> MlpfitError:
    """The same error (same class) in Python's words: the CLI's ``--batch-size`` becomes ``batch_size``."""
    return type(err)(re.sub(r"--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", "_"), str(err)))


def validated(config: cfg.FitConfig) -> cfg.FitConfig:
    """cfg.validate, its messages naming the keyword arguments rather than the CLI options."""
    try:
        return cfg.validate(config)
    except UsageError as err:
        raise python_words(err) from None


def auto_epochs(n: int, config: cfg.FitConfig, steps: int = ESTIMATOR_STEPS) -> int | None:
    """Epochs for about ``steps`` optimizer steps, with the split and batch rules of a fit."""
    from mlpfit.config import defaults
    from mlpfit.data.dataset import MIN_EXAMPLES_TO_SPLIT

    if config.train.optimizer == "lbfgs":
        return None  # L-BFGS has its own budget in defaults.resolve
    n_train = n if n < MIN_EXAMPLES_TO_SPLIT else n - max(1, round(n * config.data.val_fraction))
    batch = config.train.batch_size or (n_train if n_train <= defaults.FULL_BATCH_UP_TO else defaults.DEFAULT_BATCH)
    per_epoch = -(-n_train // min(batch, n_train))
    return int(min(defaults.MAX_AUTO_EPOCHS, max(10, -(-steps // per_epoch))))


class _MLPEstimator(BaseEstimator):
    """Parameters and the shared fit path; subclasses say how targets become a Dataset.

    Parameters (``None``: mlpfit chooses from the data, as the CLI does):
    hidden: widths, as an int, a sequence, or ``"64,64"`` / ``"32x5"`` / ``"none"``; None: 64,64.
    activation: between layers (tanh when None); output_activation: on the last layer (identity).
    epochs: None gives about 1,500 optimizer steps (ESTIMATOR_STEPS), at most 3,000 epochs.
    lr, batch_size, optimizer, loss, schedule, patience: as ``mlpfit fit --help`` describes them.
    scale: standardize inputs and regression targets (undone on predict).
    validation_fraction: held out for early stopping, in (0, 0.5); None: 0.1. Below 50 rows
    nothing is held out. seed: fixes init, split and shuffling. device: auto, cpu or cuda.
    threads: CPU threads (None: 1 for small models; note torch's thread count is process-wide).
    """

    _task = "regress"

    def __init__(self, hidden=None, activation=None, output_activation=None, epochs=None, lr=None,
                 batch_size=None, optimizer=None, loss=None, schedule=None, patience=None, scale=True,
                 validation_fraction=None, seed=0, device=None, threads=None):
        self.hidden = hidden
        self.activation = activation
        self.output_activation = output_activation
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.loss = loss
        self.schedule = schedule
        self.patience = patience
        self.scale = scale
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.device = device
        self.threads = threads

    def _config(self) -> cfg.FitConfig:
        """The parameters as a validated FitConfig (parameters are checked here, not in __init__)."""
        val = DEFAULT_VALIDATION_FRACTION if self.validation_fraction is None else float(self.validation_fraction)
        if not 0 < val < 0.5:
            raise UsageError(f"validation_fraction must be in (0, 0.5), got {self.validation_fraction!r}: e.g. 0.1")
        data = cfg.DataConfig(target="array", task=self._task, val_fraction=val, test_fraction=0.0, scale=bool(self.scale))
        model = cfg.ModelConfig(hidden=hidden_sizes(self.hidden), activation=self.activation,
                                output_activation=self.output_activation or "identity")
        train = cfg.TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                                optimizer=self.optimizer or "adam", loss=self.loss,
                                schedule=self.schedule or "onecycle", patience=self.patience,
                                seed=int(self.seed or 0), device=self.device or "auto", threads=self.threads)
        return validated(cfg.FitConfig(data, model, train, cfg.RunConfig()))

    def _train(self, X: np.ndarray, Y: np.ndarray, outputs: list[str], classes=None):
        from mlpfit.data.dataset import Dataset
        from mlpfit.fitting.fit import fit

        config = self._config()
        if config.train.epochs is None:
            config.train.epochs = auto_epochs(len(X), config)
        names = getattr(self, "feature_names_in_", None)
        inputs = [str(n) for n in names] if names is not None else [f"x{k + 1}" for k in range(X.shape[1])]
        if self.encoding_ is not None:  # one input per level of a text column
            inputs = self.encoding_.names
        dataset = Dataset("array", np.asarray(X, dtype=np.float64), Y, inputs, outputs, task=self._task, classes=classes)
        try:
            result = fit(config, dataset=dataset, save=False)
        except UsageError as err:  # e.g. device="cuda" without a GPU, found only when training starts
            raise python_words(err) from None
        if any(d["severity"] == "error" for d in result.summary["diagnostics"]):
            first = next(d for d in result.summary["diagnostics"] if d["severity"] == "error")
            raise UsageError(f"{first['message']}: {first['hint'].replace('--lr', 'lr=')}")
        # Predict in float64: float32 sums depend on the batch's size at the 1e-7 level, and
        # scikit-learn (rightly) expects a row's prediction not to depend on its neighbours.
        self.fitted_ = dataclasses.replace(result.fitted, model=result.fitted.model.double())
        self.history_ = result.history
        self.summary_ = result.summary
        self.n_iter_ = result.history.epochs
        self.loss_curve_ = result.history.column("train_loss")
        return self

    def _raw_X(self, X) -> np.ndarray:
        """X checked against what fit saw (feature count and names), as float64 network inputs."""
        encoding = getattr(self, "encoding_", None)
        if encoding is None:
            return validate_data(self, X, reset=False, dtype=np.float64)
        from mlpfit.fitting.predicting import rows_from_frame

        if not hasattr(X, "columns"):
            raise UsageError("this estimator was fit on a DataFrame with text or missing values: "
                             "predict from a DataFrame with the same columns")
        return rows_from_frame(X, encoding).X

    def _encoded(self, X, y):
        """(X as network inputs, y) for a DataFrame with text or missing values, encoded as ``mlpfit fit``
        encodes a CSV table (one-hot text, filled holes); None for anything else (the plain path)."""
        from sklearn.utils.validation import check_X_y
        from mlpfit.data.sources.encoding import needs_encoding

        self.encoding_ = None
        if not needs_encoding(X):
            return None
        from mlpfit.data.sources.csvfile import Sheet
        from mlpfit.data.sources.encoding import TableEncoding

        sheet = Sheet.from_frame(X)
        self.encoding_ = TableEncoding.fit(sheet, sheet.header, impute=True)
        self.feature_names_in_ = np.asarray(sheet.header, dtype=object)
        self.n_features_in_ = len(sheet.header)
        return check_X_y(self.encoding_.transform(sheet).X, y, multi_output=True, y_numeric=self._task == "regress",
                         dtype=np.float64 if self._task == "regress" else None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # a seed fixes init, split and shuffling
        return tags


class Regressor(RegressorMixin, _MLPEstimator):
    """An MLP regressor: 1-D or 2-D targets, standardized inputs and targets by default.

    Fitted attributes: ``fitted_`` (the :class:`~mlpfit.nn.fitted.FittedModel`), ``history_``,
    ``summary_``, ``n_iter_`` (epochs run), ``loss_curve_``, ``n_features_in_`` and, for frames,
    ``feature_names_in_``.

    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(-1, 1, (300, 2))
    >>> Y = np.c_[X[:, 0] + X[:, 1], X[:, 0] - X[:, 1]]
    >>> Regressor(hidden="none", epochs=200).fit(X, Y).predict(X[:2]).shape
    (2, 2)
    """

    _task = "regress"

    def fit(self, X, y):
        """Train on X [n, features] (a DataFrame may hold text and missing values) and y [n] or [n, outputs]."""
        X, y = self._encoded(X, y) or validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        self._y_1d = y.ndim == 1
        Y = y.reshape(len(y), -1).astype(np.float64)
        outputs = ["y"] if Y.shape[1] == 1 else [f"y{k + 1}" for k in range(Y.shape[1])]
        return self._train(X, Y, outputs)

    def predict(self, X) -> np.ndarray:
        """Predictions in the targets' units: [n] when fit on 1-D y, else [n, outputs]."""
        check_is_fitted(self, "fitted_")
        Y = self.fitted_.predict(self._raw_X(X))
        return Y[:, 0] if self._y_1d else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class Classifier(ClassifierMixin, _MLPEstimator):
    """An MLP classifier trained with cross-entropy on logits; any hashable labels.

    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = Classifier(hidden=16, epochs=100).fit(X, y)
    >>> clf.classes_.tolist(), clf.predict_proba(X[:1]).shape
    ([0, 1, 2], (1, 3))
    """

    _task = "classify"

    def fit(self, X, y):
        """Train on X [n, features] (a DataFrame may hold text and missing values) and labels y [n]."""
        X, y = self._encoded(X, y) or validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, index = np.unique(y, return_inverse=True)
        return self._train(X, index.astype(np.int64), ["label"], classes=self.classes_.tolist())

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities [n, classes], columns in the order of ``classes_``."""
        check_is_fitted(self, "fitted_")
        return self.fitted_.predict_proba(self._raw_X(X))

    def decision_function(self, X) -> np.ndarray:
        """Logits [n, classes] (for two classes, the logit margin of class 1 over class 0, [n])."""
        check_is_fitted(self, "fitted_")
        logits = self.fitted_.raw_output(self._raw_X(X))
        return logits[:, 1] - logits[:, 0] if len(self.classes_) == 2 else logits

    def predict(self, X) -> np.ndarray:
        """The most probable label for each row."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ is touched
        return self.classes_[proba.argmax(axis=1)]
