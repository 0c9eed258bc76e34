"""What the estimators say while and after they train, as scikit-learn's MLP says it.

``verbose`` prints each epoch's loss (and validation score); ``max_fun`` ends an L-BFGS fit once it
has evaluated the loss that many times; a fit whose budget ran out while its validation loss was
still falling warns with scikit-learn's ConvergenceWarning, so a caller knows more epochs would help.
"""

from __future__ import annotations

import math
import warnings

from sklearn.exceptions import ConvergenceWarning

from mlpfit.train.callbacks import Callback

# "Still improving": over the last third of the epochs the validation loss fell by more than this share of
# its whole fall. A fit that memorizes ten rows (loss 4e-3 to 6e-11) or reached its floor early stays quiet;
# iris stopped after 10 or 20 epochs (still 0.8-40% of the fall in the last third) warns.
STILL_IMPROVING = 0.005


class Verbose(Callback):
    """scikit-learn's lines: ``Iteration N, loss = L`` per epoch, then ``Validation score: S`` when rows are held out."""

    def __init__(self, first_iteration: int, held_out: bool):
        self.first, self.held_out = first_iteration, held_out

    def on_epoch_end(self, trainer, logs):
        print(f"Iteration {self.first + logs['epoch']}, loss = {logs['train_loss']:.8f}")
        if self.held_out:
            print(f"Validation loss: {logs['val_loss']:.8f}")


class FunctionBudget(Callback):
    """End the fit once L-BFGS has evaluated the loss ``max_fun`` times (scikit-learn's max_fun)."""

    def __init__(self, max_fun: int):
        self.max_fun, self.reached = max_fun, False

    def on_epoch_end(self, trainer, logs):
        evaluations = getattr(trainer.engine, "function_evaluations", lambda: 0)()
        if evaluations >= self.max_fun:
            self.reached = trainer.stop_training = True


def still_improving(history, epochs: int) -> bool:
    """The fit ran every epoch of its budget and its validation loss still fell materially in the last third."""
    if history.epochs < epochs or history.stopped_early or history.settled or history.diverged or epochs < 2:
        return False
    losses = [v for v in history.column("val_loss") if math.isfinite(v)]
    if len(losses) < 2:
        return False
    window = max(1, len(losses) // 3)
    before, lowest = losses[-1 - window], min(losses)
    fall = max(losses) - lowest
    return fall > 0 and before - min(losses[-window:]) > STILL_IMPROVING * fall


def warn_if_unconverged(history, epochs: int, budget: FunctionBudget | None) -> None:
    if budget is not None and budget.reached:
        warnings.warn(f"L-BFGS reached max_fun={budget.max_fun} loss evaluations before it converged: "
                      "raise max_fun or epochs", ConvergenceWarning, stacklevel=5)
    elif still_improving(history, epochs):
        warnings.warn(f"the budget of epochs={epochs} ended while the validation loss was still falling: "
                      "raise epochs (or warm_start=True and fit again)", ConvergenceWarning, stacklevel=5)
