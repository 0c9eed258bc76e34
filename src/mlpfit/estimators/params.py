"""What the estimators take before training: their parameters turned into config values, and sample weights."""

from __future__ import annotations

import contextlib
import numbers
import re

import numpy as np
from sklearn.utils import check_array

from mlpfit.config import defaults
from mlpfit.config import schema as cfg
from mlpfit.errors import DataError, FormulaError, MlpfitError, TrainingError, UsageError

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


def auto_epochs(n_train: int, held_out: bool, config: cfg.FitConfig, steps: int = ESTIMATOR_STEPS) -> int | None:
    """Epochs for about ``steps`` optimizer steps over ``n_train`` training rows (weighted: their count);
    None where a fit's own rules decide (L-BFGS; a small table with rows held out)."""

    if config.train.optimizer == "lbfgs":
        return None  # L-BFGS has its own budget in defaults.resolve
    n_train = max(1, n_train)
    if held_out and n_train <= defaults.SMALL_TABLE_ROWS:
        return None  # a small table: its own epochs and patience (defaults.resolve), as a CSV fit gets
    batch = config.train.batch_size or (n_train if n_train <= defaults.FULL_BATCH_UP_TO else defaults.DEFAULT_BATCH)
    per_epoch = -(-n_train // min(batch, n_train))
    return int(min(defaults.MAX_AUTO_EPOCHS, max(10, -(-steps // per_epoch))))


class EstimatorValueError(UsageError, ValueError):
    """Bad data handed to an estimator: a UsageError, and the ValueError scikit-learn's callers expect."""


class EstimatorDataError(DataError, ValueError):
    """A DataError met by an estimator, as the ValueError scikit-learn's callers expect."""


class EstimatorFormulaError(FormulaError, ValueError):
    """A FormulaError met by an estimator (a formula given as a parameter), as a ValueError."""


class EstimatorTrainingError(TrainingError, ValueError):
    """A TrainingError met by an estimator, as a ValueError."""


AS_VALUE_ERROR = {UsageError: EstimatorValueError, DataError: EstimatorDataError, FormulaError: EstimatorFormulaError,
                  TrainingError: EstimatorTrainingError}


@contextlib.contextmanager
def value_errors():
    """mlpfit's errors for bad input leave an estimator as ValueErrors too (scikit-learn's contract), in
    Python's words (``batch_size``, not ``--batch-size``), keeping their mlpfit class as a base."""
    try:
        yield
    except MlpfitError as err:
        if isinstance(err, ValueError):
            raise
        kind = next((v for k, v in AS_VALUE_ERROR.items() if isinstance(err, k)), None)
        if kind is None:
            raise
        raise kind(str(python_words(err))) from None


def whole_number(value, name: str, *, positive: bool = False, allow_inf: bool = False):
    """A parameter that must be a number (NumPy scalars too); ints stay ints, inf may be allowed."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise EstimatorValueError(f"{name} must be a number, got {value!r}")
    value = value.item() if isinstance(value, np.generic) else value
    if value != value or (value == float("inf") and not allow_inf) or (positive and not value > 0):
        raise EstimatorValueError(f"{name} must be a {'positive ' if positive else ''}finite number, got {value!r}")
    return value


# scikit-learn's names for choices mlpfit calls otherwise, so its spellings work here too
SKLEARN_ACTIVATIONS = {"logistic": "sigmoid"}
SKLEARN_LOSSES = {"squared_error": "mse", "log_loss": "cross_entropy"}

# Sparse X is made dense (the engines compute on dense rows) up to this size; larger is refused.
MAX_DENSE_BYTES = 2**30


def dense(X):
    """X as a dense array: a sparse matrix is densified, refused when it would exceed MAX_DENSE_BYTES."""
    import scipy.sparse as sp

    if not sp.issparse(X):
        return X
    size = X.shape[0] * X.shape[1] * X.dtype.itemsize
    if size > MAX_DENSE_BYTES:
        raise EstimatorValueError(f"sparse X of shape {X.shape} would take {size / 2**30:.1f} GiB once dense, over "
                                  f"mlpfit's {MAX_DENSE_BYTES / 2**30:.0f} GiB: reduce its columns (e.g. TruncatedSVD) first")
    return X.toarray()


def validation_rows(n: int, strata: np.ndarray | None, weights: np.ndarray | None, fraction: float,
                    seed: int) -> np.ndarray:
    """Rows to hold out: ``fraction`` of the weight (of the rows, when unweighted) of each stratum (each class of
    a classifier; ``None``: all rows as one), picked in a seeded random order. A stratum of one row stays in
    training and none is held out whole. A row of weight 2 counts as two rows would."""
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata)
    order = np.random.default_rng(seed).permutation(n)
    chosen = []
    for stratum in np.unique(strata):
        rows = order[strata[order] == stratum]
        if len(rows) < 2:
            continue
        if weights is None:
            count = max(1, int(round(fraction * len(rows))))
        else:
            cumulative = np.cumsum(np.asarray(weights, dtype=np.float64)[rows])
            count = int(np.searchsorted(cumulative, fraction * cumulative[-1] * (1 - 1e-9))) + 1
        chosen.append(rows[: min(count, len(rows) - 1)])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def sample_weights(sample_weight, n: int) -> np.ndarray | None:
    """One non-negative weight per row as float64, or None when all are equal (the unweighted fit, exactly)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n, sample_weight, dtype=np.float64)
    w = check_array(sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight")
    if w.shape != (n,):
        raise EstimatorValueError(f"sample_weight has shape {w.shape}, expected ({n},): one weight per row of X")
    if (w < 0).any():
        raise EstimatorValueError(f"sample_weight holds {w.min():g}: weights must be >= 0")
    if not w.sum() > 0:
        raise EstimatorValueError("every sample_weight is zero: give at least one row a positive weight")
    return None if np.all(w == w[0]) else w
