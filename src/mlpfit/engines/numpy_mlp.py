"""``--engine numpy``: K MLPs trained with mlpfit.scratch's hand-written forward and backward.

No torch here. Member k starts and shuffles exactly as a single NumPy fit with seed ``seed + k``
(one generator each), steps with :func:`mlpfit.scratch.train.train_step`, and follows the torch
engines' habits: the same per-step learning-rate schedule, SGD with momentum 0.9, the mean
training loss of the epoch measured on each batch before its step, per-row weights and the L2
term of mlpfit.nn.losses (written out here in NumPy). Regression (MSE) only.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from mlpfit.errors import UsageError
from mlpfit.scratch.network import backward, forward, init_params, mse_loss
from mlpfit.scratch.optim import OPTIMIZERS, make_optimizer
from mlpfit.scratch.train import batches, train_step
from mlpfit.train.schedules import SCHEDULES
from mlpfit.train.trainer import TrainData

SGD_MOMENTUM = 0.9  # the torch engine's SGD uses momentum 0.9 too (train/optim.py)


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


class NumpyEngine:
    def __init__(self, sizes, data: TrainData, *, activation, output_activation, epochs, batch_size, lr, optimizer,
                 schedule, seeds, alpha=0.0, weight_decay=0.0, initial_params=None, optimizer_state=None,
                 loss="mse", dropout=0.0):
        self.data, self.members = data, len(seeds)
        self.activation, self.output_activation, self.alpha = activation, output_activation, alpha
        self.batch_size = min(batch_size, len(data.X))
        self.rngs = [np.random.default_rng(seed) for seed in seeds]
        self.params = [init_params(sizes, rng) for rng in self.rngs]  # drawn even when replaced: the rngs then shuffle alike
        if initial_params is not None:  # a warm start: an earlier fit's weights, checked against this net's shapes
            check_member_params(initial_params, self.params, "initial weights")
            self.params = [{k: np.array(v, dtype=np.float64) for k, v in p.items()} for p in initial_params]
        options = {"momentum": SGD_MOMENTUM} if optimizer == "sgd" else {}
        if weight_decay:
            options["weight_decay"] = weight_decay
        self.optimizers = [make_optimizer(optimizer, lr, **options) for _ in seeds]
        if optimizer_state is not None:  # partial_fit: the earlier fit's moments, at this fit's lr
            for saved, mine, params in zip(optimizer_state, self.optimizers, self.params):
                check_optimizer_state(saved, vars(mine), params)
                vars(mine).update(copy.deepcopy(saved), lr=lr)
        self.peak_lr = lr
        self.factor = SCHEDULES[schedule]
        self.total_steps = max(1, epochs * math.ceil(len(data.X) / self.batch_size))
        self.steps_done = 0  # optimizer steps so far (the schedule's clock)
        self.active = np.ones(self.members, dtype=bool)
        self.kept = [{k: v.copy() for k, v in p.items()} for p in self.params]
        self.step = 0  # steps done in the running epoch
        self.epoch_rng = [rng.bit_generator.state for rng in self.rngs]
        self.partial_loss = None

    @property
    def lr(self) -> float:
        return self.optimizers[0].lr

    def train_epoch(self, should_stop) -> np.ndarray | None:
        """One pass: every active member steps on its own shuffle of the rows."""
        X, Y, W = self.data.X, self.data.Y, self.data.W
        if not self.step:
            self.epoch_rng = [rng.bit_generator.state for rng in self.rngs]
        else:
            for rng, state in zip(self.rngs, self.epoch_rng):
                rng.bit_generator.state = state  # replay the interrupted epoch's shuffles
        orders = [batches(len(X), self.batch_size, rng) for rng in self.rngs]
        total = self.partial_loss.copy() if self.step else np.zeros(self.members)
        with np.errstate(all="ignore"):  # a diverging run overflows; the divergence guard reports it
            for i in range(self.step, len(orders[0])):
                lr = self.peak_lr * self.factor(self.steps_done, self.total_steps)
                for k in np.flatnonzero(self.active):
                    rows = orders[k][i]
                    self.optimizers[k].lr = lr
                    weight = None if W is None else W[rows]
                    loss, seen = self.train_step(k, X[rows], Y[rows], weight)
                    total[k] += loss * seen
                self.steps_done += 1
                self.step = i + 1
                if should_stop():
                    self.partial_loss = total
                    return None
        self.step, self.partial_loss = 0, None
        return total / (len(X) if W is None else max(W.sum(), 1e-30))

    def train_step(self, k: int, X: np.ndarray, Y: np.ndarray, W: np.ndarray | None) -> tuple[float, float]:
        """One step of member k; returns the batch's loss and the rows (or weight) it averages over."""
        params = self.params[k]
        if W is None and not self.alpha:  # the plain step of mlpfit.scratch, as the lesson writes it
            return train_step(params, self.optimizers[k], X, Y, self.activation, self.output_activation), len(X)
        y, cache = forward(params, X, self.activation, self.output_activation)
        loss, dloss_dy, rows = weighted_mse(y, Y, W)
        grads = backward(params, cache, dloss_dy)
        if self.alpha:  # 0.5·alpha·Σ‖W‖²/rows on weight matrices (mlpfit.nn.losses.l2_penalty)
            weights = [name for name in params if name.endswith(".weight")]
            loss += 0.5 * self.alpha * sum(float((params[n] ** 2).sum()) for n in weights) / rows
            for name in weights:
                grads[name] = grads[name] + self.alpha * params[name] / rows
        self.optimizers[k].step(params, grads)
        return loss, rows

    def evaluate(self) -> dict:
        with np.errstate(all="ignore"):
            losses = [weighted_mse(self.outputs(k, self.data.X_val), self.data.Y_val, self.data.W_val)[0]
                      for k in range(self.members)]
        return {"val_loss": np.array(losses, dtype=np.float64)}

    def optimizer_state(self) -> list[dict]:
        """Each member's optimizer fields, for a later fit that continues this one (``optimizer_state=``)."""
        return [copy.deepcopy(vars(o)) for o in self.optimizers]

    def member_state(self, k: int) -> dict[str, np.ndarray]:
        return {name: value.astype(np.float32) for name, value in self.params[k].items()}

    def outputs(self, k: int, X: np.ndarray) -> np.ndarray:
        return forward(self.params[k], X, self.activation, self.output_activation)[0]

    def freeze(self, frozen: np.ndarray) -> None:
        self.active = ~np.asarray(frozen, dtype=bool)

    def keep(self, members: np.ndarray) -> None:
        for k in np.flatnonzero(members):
            self.kept[k] = {name: value.copy() for name, value in self.params[k].items()}

    def restore(self, members: np.ndarray) -> None:
        for k in np.flatnonzero(members):
            self.params[k] = {name: value.copy() for name, value in self.kept[k].items()}

    def state_dict(self) -> dict:
        return {"params": self.params, "kept": self.kept, "optimizers": [vars(o) for o in self.optimizers],
                "rng": [rng.bit_generator.state for rng in self.rngs], "epoch_rng": self.epoch_rng,
                "active": self.active, "steps_done": self.steps_done, "step": self.step,
                "partial_loss": self.partial_loss}

    def load_state_dict(self, state: dict) -> None:
        for name in ("params", "kept"):
            check_member_params(state[name], self.params, name)
        if len(state["optimizers"]) != self.members:
            raise ValueError(f"{len(state['optimizers'])} optimizer states for {self.members} members")
        for saved, mine, params in zip(state["optimizers"], self.optimizers, self.params):
            check_optimizer_state(saved, vars(mine), params)
        self.params = [{k: np.array(v, dtype=np.float64) for k, v in p.items()} for p in state["params"]]
        self.kept = [{k: np.array(v, dtype=np.float64) for k, v in p.items()} for p in state["kept"]]
        for saved, mine in zip(state["optimizers"], self.optimizers):
            vars(mine).update(saved)
        for rng, saved in zip(self.rngs, state["rng"]):
            rng.bit_generator.state = saved
        self.epoch_rng = list(state["epoch_rng"])
        self.active = np.asarray(state["active"], dtype=bool).reshape(self.members)
        self.steps_done, self.step = int(state["steps_done"]), int(state["step"])
        partial = state["partial_loss"]
        self.partial_loss = None if partial is None else np.asarray(partial, dtype=np.float64).reshape(self.members)


def weighted_mse(y: np.ndarray, t: np.ndarray, w: np.ndarray | None) -> tuple[float, np.ndarray, float]:
    """MSE as the weighted mean over rows of each row's mean squared error, its gradient, and Σw."""
    if w is None:
        return (*mse_loss(y, t), len(y))
    diff = y - t.reshape(y.shape)
    rows = max(float(w.sum()), 1e-30)
    loss = float((w * (diff * diff).mean(axis=1)).sum()) / rows
    return loss, 2.0 * diff * w[:, None] / (rows * diff.shape[1]), rows


def check_member_params(saved, reference: list[dict], what: str) -> None:
    if len(saved) != len(reference):
        raise ValueError(f"{len(saved)} members' {what} for {len(reference)} members")
    for theirs, mine in zip(saved, reference):
        if set(theirs) != set(mine) or any(np.shape(theirs[k]) != mine[k].shape for k in mine):
            raise ValueError(f"{what} do not have the model's names and shapes")


def check_optimizer_state(saved: dict, mine: dict, params: dict) -> None:
    """The saved optimizer has this optimizer's fields, and its per-parameter moments the parameters' shapes."""
    if set(saved) != set(mine):
        raise ValueError(f"optimizer fields {sorted(saved)}, expected {sorted(mine)}")
    for field, value in saved.items():
        if isinstance(value, dict):  # moments or velocities, by parameter name
            for name, moment in value.items():
                if name not in params or np.shape(moment) != params[name].shape:
                    raise ValueError(f"optimizer {field}[{name!r}] does not fit the parameters")
