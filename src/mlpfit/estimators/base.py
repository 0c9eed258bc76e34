"""The shared part of mlpfit's scikit-learn estimators: parameters, the fit path, the fitted attributes.

:class:`MLPEstimator` turns its parameters into a FitConfig, the data into a Dataset (with the
validation rows it chooses: stratified for classes, a share of the weight for weighted rows) and
trains through :func:`mlpfit.fitting.fit.fit`, as ``mlpfit fit`` does; it then records scikit-learn's
fitted attributes. :mod:`mlpfit.estimators` holds the two estimators built on it.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_X_y, validate_data

from mlpfit.config import schema as cfg
from mlpfit.data.dataset import MIN_EXAMPLES_TO_SPLIT, Dataset, given_split
from mlpfit.data.sources.csvfile import Sheet
from mlpfit.data.sources.encoding import Target, TableEncoding, needs_encoding
from mlpfit.errors import UsageError
from mlpfit.estimators.layout import layer_weights, validation_scores
from mlpfit.estimators.params import (
    DEFAULT_VALIDATION_FRACTION,
    SKLEARN_ACTIVATIONS,
    SKLEARN_LOSSES,
    EstimatorValueError,
    auto_epochs,
    dense,
    hidden_sizes,
    sample_weights,
    validated,
    validation_rows,
    value_errors,
    whole_number,
)
from mlpfit.estimators.progress import FunctionBudget, Verbose, warn_if_unconverged
from mlpfit.fitting.build import Start, optimizer_kind
from mlpfit.fitting.fit import fit
from mlpfit.fitting.predicting import rows_from_frame
from mlpfit.fitting.prepare import training_rows

# patience=np.inf (scikit-learn's "never stop early") becomes the largest patience a config takes
NEVER = 1_000_000
FLOATS = (np.float64, np.float32)  # input dtypes kept as they are (float32 trains and predicts in float32)


class MLPEstimator(BaseEstimator):
    """Parameters and the shared fit path; subclasses say how targets become a Dataset.

    Parameters (``None``: mlpfit chooses from the data, as the CLI does):
    hidden: widths, as an int, a sequence, or ``"64,64"`` / ``"32x5"`` / ``"none"``; None: 64,64.
    activation: between layers (tanh when None); output_activation: on the last layer (identity).
    dropout: share of hidden units dropped while training (None: 0; a classifier's, see Classifier).
    ensemble: K ≥ 1 members trained together (init seeds seed..seed+K-1); predictions are their
    mean, and ``Regressor.predict(X, return_std=True)`` adds their spread. None: 3 for the regression
    of a DataFrame with text, dates or holes (a table, as ``mlpfit fit FILE.csv``), else 1.
    epochs: None gives a table of up to 10,000 training rows (with early stopping) 300 epochs and a
    patience of 20, as ``mlpfit fit FILE.csv``; larger ones about 1,500 optimizer steps (ESTIMATOR_STEPS).
    lr, batch_size, optimizer, loss, schedule, patience, engine: as ``mlpfit fit --help`` describes them.
    alpha: L2 penalty, scikit-learn's: 0.5·alpha·Σ‖W‖² / (rows of the batch) added to the loss, on
    the weights of the standardized network (so not the same strength as in an unscaled net); None: 0
    (a multilabel target: see Classifier).
    scale: standardize inputs and regression targets (undone on predict).
    early_stopping: None (default) or True: ``fit`` holds out validation_fraction of the rows (None: 0.1;
    a classifier's stratified by class, weighted rows by their weight) and keeps the epoch that scores best
    there; False trains on every row (below 50 rows, and with L-BFGS, nothing is held out either way).
    partial_fit never holds rows out, and refuses early_stopping=True (scikit-learn's rule).
    warm_start: ``fit`` starts from the previous fit's weights and scalers and runs ``epochs`` more
    (``n_iter_`` counts them; the curves go on).
    seed: fixes init, split and shuffling; a RandomState draws one (scikit-learn's random_state).
    device: auto, cpu or cuda.
    threads: CPU threads (None: 1 for small models; note torch's thread count is process-wide).
    tol: a validation score better by less than this is no improvement for ``patience`` (0: any beyond noise).
    shuffle: reshuffle the rows every epoch (False: minibatches in row order).
    max_fun: L-BFGS stops after this many loss evaluations (ConvergenceWarning).
    verbose: print each epoch's loss (``Iteration N, loss = L``), as scikit-learn's MLP.
    scikit-learn's spellings of activations and losses work too: ``"logistic"``, ``"squared_error"``.
    Float32 X trains and predicts in float32 (coefs_ too); sparse X is made dense (up to 1 GiB).
    """

    _task = "regress"

    def __init__(self, hidden=None, activation=None, output_activation=None, dropout=None, ensemble=None, epochs=None,
                 lr=None, batch_size=None, optimizer=None, loss=None, schedule=None, patience=None, alpha=None,
                 scale=True, early_stopping=None, validation_fraction=None, warm_start=False, seed=0, device=None,
                 threads=None, engine=None, tol=0.0, shuffle=True, max_fun=15000, verbose=False):
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
        self.tol = tol
        self.shuffle = shuffle
        self.max_fun = max_fun
        self.verbose = verbose

    def _config(self, incremental: bool = False, precision: str = "float64", rows: int = 0) -> cfg.FitConfig:
        """The parameters as a validated FitConfig (parameters are checked here, not in __init__).

        ``incremental`` (partial_fit): one epoch at a constant learning rate on every row given.
        The validation rows are chosen by the estimator (:meth:`_validation_rows`), not by the config.
        ``rows``: how many the data have (some are held out from MIN_EXAMPLES_TO_SPLIT on).
        """
        val = DEFAULT_VALIDATION_FRACTION if self.validation_fraction is None else self.validation_fraction
        val = whole_number(val, "validation_fraction")
        if not 0 < val < 0.5:
            raise UsageError(f"validation_fraction must be in (0, 0.5), got {self.validation_fraction!r}: e.g. 0.1")
        if not self._holds_out(incremental):
            val = 0.0
        data = cfg.DataConfig(target="array", task=self._task, val_fraction=val, test_fraction=0.0, scale=bool(self.scale))
        auto = self._automatic(val > 0 and rows >= MIN_EXAMPLES_TO_SPLIT)
        activation = SKLEARN_ACTIVATIONS.get(self.activation, self.activation) or auto.get("activation")
        output_activation = SKLEARN_ACTIVATIONS.get(self.output_activation, self.output_activation)
        model = cfg.ModelConfig(hidden=hidden_sizes(self.hidden), activation=activation,
                                output_activation=output_activation or "identity",
                                dropout=auto.get("dropout") if self.dropout is None else self.dropout,
                                ensemble=self.ensemble)
        train = cfg.TrainConfig(epochs=1 if incremental else self._whole_or_none(self.epochs, "epochs"),
                                batch_size=self._whole_or_none(self.batch_size, "batch_size"),
                                lr=auto.get("lr") if self.lr is None else whole_number(self.lr, "lr"),
                                optimizer=self.optimizer or "adam", loss=self._loss(),
                                schedule="constant" if incremental else self.schedule,
                                patience=self._patience(), seed=self._seed(),
                                alpha=auto.get("alpha", 0.0) if self.alpha is None else whole_number(self.alpha, "alpha"),
                                # alpha is the estimators' penalty (scikit-learn's); no optimizer decay on top:
                                # a small table's 1e-3 took x² + y² (8,000 rows) from R² 0.9999 to 0.998 and
                                # moved breast cancer, iris, wine and diabetes by under 0.004 (3-fold CV)
                                weight_decay=0.0, tol=whole_number(self.tol, "tol"), shuffle=bool(self.shuffle),
                                precision=precision, device=self.device or "auto", threads=self.threads,
                                engine=self.engine or "auto")
        return validated(cfg.FitConfig(data, model, train, cfg.RunConfig()))

    def _automatic(self, held_out: bool) -> dict:
        """Choices for parameters left at None that differ from a fit's usual ones (none here); ``held_out``:
        rows will be held out to pick the epoch."""
        return {}

    @staticmethod
    def _whole_or_none(value, name: str):
        return None if value is None else whole_number(value, name)

    def _holds_out(self, incremental: bool) -> bool:
        """Rows are held out for early stopping: fit with early_stopping not False; never for partial_fit
        or L-BFGS (which, as scikit-learn's, trains on every row)."""
        return not incremental and self.early_stopping is not False and self.optimizer != "lbfgs"

    def _patience(self):
        if self.patience is None:
            return None
        patience = whole_number(self.patience, "patience", positive=True, allow_inf=True)
        return NEVER if patience == float("inf") else int(patience)

    def _seed(self) -> int:
        """``seed``: an int, or (scikit-learn's random_state) a RandomState that draws one; None: 0."""
        if isinstance(self.seed, np.random.RandomState):
            return int(self.seed.randint(np.iinfo(np.int32).max))
        return int(whole_number(self.seed, "seed")) if self.seed is not None else 0

    def _loss(self):
        return SKLEARN_LOSSES.get(self.loss, self.loss)

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        """fit / partial_fit: validate, turn y into targets, train from scratch or from the last fit."""
        with value_errors():
            if incremental and self.early_stopping is True:
                raise EstimatorValueError("partial_fit does not support early_stopping=True: leave early_stopping=None "
                                          "(rows are held out by fit only) or set it False")
            continuing = hasattr(self, "fitted_") and (incremental or bool(self.warm_start))
            encoded = self._encoded(X, y, continuing)
            if encoded is None:
                X, y = validate_data(self, X, y, reset=not continuing, dtype=FLOATS, accept_sparse=("csr", "csc", "coo"),
                                     **self._y_checks)
                X = dense(X)
            else:
                X, y = encoded
            if not continuing:
                self._dtype = X.dtype if X.dtype == np.float32 else np.dtype(np.float64)
            weights = sample_weights(sample_weight, len(X))
            Y, outputs = self._targets(y, continuing, incremental, classes)
            return self._train(X, Y, outputs, weights, incremental, continuing)

    def _validation_rows(self, Y, weights, config) -> np.ndarray:
        """The rows held out (none below MIN_EXAMPLES_TO_SPLIT rows): stratified by class for a classifier,
        a share of the weight for weighted rows."""
        if config.data.val_fraction == 0 or len(Y) < MIN_EXAMPLES_TO_SPLIT:
            return np.zeros(0, dtype=np.int64)
        strata = Y if self._task == "classify" else None
        return validation_rows(len(Y), strata, weights, config.data.val_fraction, config.train.seed)

    def _train(self, X, Y, outputs, weights, incremental: bool, continuing: bool):
        config = self._config(incremental, "float32" if self._dtype == np.float32 else "float64", len(X))
        val_rows = self._validation_rows(Y, weights, config)
        names = getattr(self, "feature_names_in_", None)
        inputs = [str(n) for n in names] if names is not None else [f"x{k + 1}" for k in range(X.shape[1])]
        if getattr(self, "encoding_", None) is not None:  # one input per level of a text column
            inputs = self.encoding_.names
        classes = self.classes_.tolist() if self._task == "classify" else None
        # rows of measurements, as a CSV table's: up to SMALL_TABLE_ROWS they get its epochs and patience
        # (defaults.resolve), which stop soon after the validation loss turns (breast cancer's 3-fold CV:
        # 1,130 epochs in 0.95 s with the step budget's onecycle and patience, 0.09 s this way, same score)
        # a DataFrame encoded as a CSV table is (text, dates, holes) gets the table recipe, as `mlpfit fit` gives it
        encoding = getattr(self, "encoding_", None)
        dataset = Dataset("array", np.asarray(X, dtype=np.float64), Y, inputs, outputs, task=self._task,
                          classes=classes, weights=weights, table=True, val_rows=val_rows, encoding=encoding)
        split = given_split(len(X), val_rows)
        tabular = getattr(encoding, "tabular", False) and split.held_out
        if config.train.epochs is None and not tabular:  # None: a small table's rules (defaults.resolve)
            config.train.epochs = auto_epochs(training_rows(dataset, split), split.held_out, config)
        # partial_fit continues the optimizer's moments, unless the fit resolves another optimizer or engine
        moments = getattr(self, "_optimizer_state", (None, None)) if incremental else (None, None)
        start = Start(self.fitted_, *moments) if continuing else None
        budget = FunctionBudget(int(whole_number(self.max_fun, "max_fun", positive=True))) \
            if self.optimizer == "lbfgs" else None
        callbacks = [c for c in (budget, self._verbose(incremental, continuing, len(val_rows) > 0)) if c is not None]
        result = fit(config, dataset=dataset, save=False, start=start, callbacks=callbacks)
        self._record(result, continuing, incremental)
        if not incremental:
            warn_if_unconverged(result.history, result.config.train.epochs, budget)
        return self

    def _verbose(self, incremental: bool, continuing: bool, held_out: bool):
        if not self.verbose:
            return None
        return Verbose(getattr(self, "n_iter_", 0) if incremental and continuing else 0, held_out)

    def _record(self, result, continuing: bool, incremental: bool) -> None:
        """The fitted attributes, scikit-learn's names and meanings: a warm start's ``n_iter_`` counts its own
        epochs while the curves go on; partial_fit's counts every call."""
        # Predict in float64: float32 sums depend on the batch's size at the 1e-7 level, and
        # scikit-learn (rightly) expects a row's prediction not to depend on its neighbours.
        self.fitted_ = result.fitted.in_float64()
        self._optimizer_state = (result.optimizer_state, optimizer_kind(result.config))
        self.history_ = result.history
        self.summary_ = result.summary
        history, split = result.history, result.split
        before = continuing and hasattr(self, "loss_curve_")
        self.n_iter_ = (self.n_iter_ if before and incremental else 0) + history.epochs
        self.t_ = (self.t_ if before else 0) + len(split.train) * history.epochs  # training rows seen
        self.loss_curve_ = (self.loss_curve_ if before else []) + history.column("train_loss")
        val_targets = None if result.fitted.y_scaler is None else result.fitted.y_scaler.transform(result.dataset.Y[split.val])
        scores = validation_scores(history, result.dataset.task, result.config.train.loss, val_targets) if split.held_out else None
        if scores and history.diverged:  # the epoch judged diverged scores NaN (scikit-learn's MLP ends so)
            scores[-1] = float("nan")
        if scores is not None and before and getattr(self, "validation_scores_", None) is not None:
            scores = self.validation_scores_ + scores
        self.validation_scores_ = scores
        self.best_validation_score_ = float(np.nanmax(scores)) if scores and not np.all(np.isnan(scores)) else \
            (None if scores is None else float("nan"))
        # scikit-learn: with early stopping the best loss is not tracked (None); without, the lowest training loss
        finite = [v for v in self.loss_curve_ if np.isfinite(v)]
        self.best_loss_ = None if split.held_out else (float(min(finite)) if finite else float("nan"))
        self.coefs_, self.intercepts_ = layer_weights(self.fitted_)
        self.coefs_ = [c.astype(self._dtype, copy=False) for c in self.coefs_]
        self.intercepts_ = [b.astype(self._dtype, copy=False) for b in self.intercepts_]
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = len(result.fitted.outputs) if result.dataset.task != "classify" else len(self.classes_)
        self.out_activation_ = self._out_activation(result.config.model.output_activation)
        if result.history.diverged:  # as scikit-learn's MLP, a diverged fit ends with NaN scores, not an error
            first = next(d for d in result.summary["diagnostics"] if d["code"] == "diverged")
            warnings.warn(f"{first['message']}: {first['hint']}".replace("--lr ", "lr="), ConvergenceWarning, stacklevel=5)

    def _out_activation(self, name: str) -> str:
        return name

    def _raw_X(self, X) -> np.ndarray:
        """X checked against what fit saw (feature count and names), as network inputs (float64 or float32)."""
        encoding = getattr(self, "encoding_", None)
        if encoding is None:
            with value_errors():
                return dense(validate_data(self, X, reset=False, dtype=FLOATS, accept_sparse=("csr", "csc", "coo")))
        if not hasattr(X, "columns"):
            raise EstimatorValueError("this estimator was fit on a DataFrame with text or missing values: "
                             "predict from a DataFrame with the same columns")
        return rows_from_frame(X, encoding).X

    def _encoded(self, X, y, continuing: bool):
        """(X as network inputs, y) for a DataFrame with text, dates or missing values, encoded as ``mlpfit fit``
        encodes a CSV table; None for anything else (the plain path).
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
                                                              Target(Y, self._task, names), squash=bool(self.scale))
        self.feature_names_in_ = np.asarray(sheet.header, dtype=object)
        self.n_features_in_ = len(sheet.header)
        return check_X_y(encoded, y, dtype=np.float64, **self._y_checks)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # a seed fixes init, split and shuffling
        tags.input_tags.sparse = True  # made dense (estimators.params.dense), up to a size
        return tags
