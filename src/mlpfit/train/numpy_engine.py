"""``--engine numpy``: the same fit as the torch loop, with mlpfit.scratch's hand-written backprop.

The training itself is NumPy only (forward, backward and the optimizer step come from
``mlpfit.scratch``). It keeps the torch loop's habits, so a run folder looks the same whichever
engine wrote it: the same learning-rate schedule per step, SGD with momentum 0.9, one history row
per epoch, the best validation weights kept (early stopping), and divergence recorded rather
than raised. The weights end up as float64 tensors in the torch MLP only for saving and predicting.
"""

from __future__ import annotations

import math
import time

import numpy as np

from mlpfit.errors import UsageError
from mlpfit.scratch.network import backward, forward, init_params, mse_loss
from mlpfit.scratch.optim import OPTIMIZERS, make_optimizer
from mlpfit.scratch.train import batches
from mlpfit.train.history import History

SGD_MOMENTUM = 0.9  # the torch engine's SGD uses momentum 0.9 too (train/optim.py)
DIVERGENCE_FACTOR = 1e3  # as DivergenceGuard: a loss 1,000 times its first value has exploded


def check_supported(config, task: str) -> None:
    """Refuse what the NumPy engine does not implement, naming the option and the fix."""
    t = config.train
    if task == "classify":
        raise UsageError("--engine numpy fits regression only (MSE), but this target is a classification: "
                         "drop --engine numpy to use the torch engine")
    if t.optimizer not in OPTIMIZERS:
        raise UsageError(f"--optimizer {t.optimizer} is not available with --engine numpy: "
                         f"use --optimizer {' or --optimizer '.join(OPTIMIZERS)}, or drop --engine numpy")
    if config.model.dropout:
        raise UsageError(f"--dropout {config.model.dropout:g} is not available with --engine numpy: "
                         "drop --dropout (or set it to 0), or drop --engine numpy")
    if t.loss is not None and t.loss != "mse":
        raise UsageError(f"--loss {t.loss} is not available with --engine numpy: "
                         "use --loss mse, or drop --engine numpy")


class NumpyLoop:
    """Train ``params`` on scaled arrays; ``run()`` returns a History like the torch Loop's."""

    def __init__(self, sizes, data, *, activation, output_activation, epochs, batch_size, lr, optimizer,
                 schedule, patience, seed):
        self.X, self.Y, self.X_val, self.Y_val = data
        self.activation, self.output_activation = activation, output_activation
        self.epochs, self.batch_size, self.patience = epochs, min(batch_size, len(self.X)), patience
        self.rng = np.random.default_rng(seed)
        self.params = init_params(sizes, self.rng)
        options = {"momentum": SGD_MOMENTUM} if optimizer == "sgd" else {}
        self.optimizer = make_optimizer(optimizer, lr, **options)
        self.peak_lr = lr
        self.total_steps = epochs * math.ceil(len(self.X) / self.batch_size)
        from mlpfit.train.optim import SCHEDULES  # plain functions of (step, total): no torch in them

        self.factor = SCHEDULES[schedule]
        self.step_count = 0
        self.history = History()
        self.seconds = 0.0

    def run(self) -> History:
        start = time.perf_counter()
        best, best_params, wait, first = math.inf, None, 0, None
        for epoch in range(1, self.epochs + 1):
            train_loss = self.train_epoch()
            val_loss = self.loss(self.X_val, self.Y_val)
            self.history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                                 "lr": self.optimizer.lr, "seconds": time.perf_counter() - start})
            first = first if first is not None or not math.isfinite(train_loss) else max(train_loss, 1e-12)
            if self._diverged(train_loss, val_loss, first):
                self.history.diverged, self.history.diverged_at = True, epoch
                break
            if val_loss < best * (1 - 1e-4) or best_params is None:
                best, best_params, wait = val_loss, {k: v.copy() for k, v in self.params.items()}, 0
                self.history.best_epoch = epoch
            else:
                wait += 1
                if wait >= self.patience:
                    self.history.stopped_early = True
                    break
        if best_params is not None:
            self.params = best_params
        self.seconds = time.perf_counter() - start
        return self.history

    def train_epoch(self) -> float:
        """One pass: forward, loss, backward, step per batch (the lesson's loop, in matrix form)."""
        total = 0.0
        with np.errstate(all="ignore"):  # a diverging run overflows; the divergence check reports it
            for rows in batches(len(self.X), self.batch_size, self.rng):
                self.optimizer.lr = self.peak_lr * self.factor(self.step_count, max(self.total_steps, 1))
                y, cache = forward(self.params, self.X[rows], self.activation, self.output_activation)
                loss, dloss_dy = mse_loss(y, self.Y[rows])
                self.optimizer.step(self.params, backward(self.params, cache, dloss_dy))
                self.step_count += 1
                total += loss * len(rows)
        return total / len(self.X)

    def loss(self, X, Y) -> float:
        with np.errstate(all="ignore"):
            y, _ = forward(self.params, X, self.activation, self.output_activation)
            return mse_loss(y, Y)[0]

    @staticmethod
    def _diverged(train_loss, val_loss, first) -> bool:
        exploded = first is not None and train_loss > DIVERGENCE_FACTOR * first and train_loss > 10
        return not (math.isfinite(train_loss) and math.isfinite(val_loss)) or exploded


def train(fitted, dataset, split, config) -> tuple[History, float]:
    """Fit ``fitted.model``'s shape with NumPy, then put the weights (float64) into the torch model."""
    import torch

    def scaled(index):
        return (fitted.x_scaler.transform(dataset.X[index]).astype(np.float64),
                fitted.y_scaler.transform(dataset.Y[index]).astype(np.float64))

    m, t = config.model, config.train
    loop = NumpyLoop(fitted.model.sizes, (*scaled(split.train), *scaled(split.val)),
                     activation=m.activation, output_activation=m.output_activation, epochs=t.epochs,
                     batch_size=t.batch_size, lr=t.lr, optimizer=t.optimizer, schedule=t.schedule,
                     patience=t.patience, seed=t.seed)
    history = loop.run()
    fitted.model.double()
    fitted.model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in loop.params.items()})
    return history, loop.seconds
