"""What the estimators take before training: their parameters turned into config values, and sample weights.

Kept apart from mlpfit.estimators (the classes) so each stays short; the names are re-exported there.
"""

from __future__ import annotations

import numbers
import re

import numpy as np
from sklearn.utils import check_array

from mlpfit.config import defaults
from mlpfit.config import schema as cfg
from mlpfit.data.dataset import MIN_EXAMPLES_TO_SPLIT
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

    if config.train.optimizer == "lbfgs":
        return None  # L-BFGS has its own budget in defaults.resolve
    held_out = n >= MIN_EXAMPLES_TO_SPLIT and config.data.val_fraction > 0
    n_train = n - max(1, round(n * config.data.val_fraction)) if held_out else n
    if held_out and n_train <= defaults.SMALL_TABLE_ROWS:
        return None  # a small table: its own epochs and patience (defaults.resolve), as a CSV fit gets
    batch = config.train.batch_size or (n_train if n_train <= defaults.FULL_BATCH_UP_TO else defaults.DEFAULT_BATCH)
    per_epoch = -(-n_train // min(batch, n_train))
    return int(min(defaults.MAX_AUTO_EPOCHS, max(10, -(-steps // per_epoch))))


class EstimatorValueError(UsageError, ValueError):
    """Bad data handed to an estimator: a UsageError, and the ValueError scikit-learn's callers expect."""


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
