"""``--engine numpy``: K MLPs trained on the CPU without torch, each over one flat float32 buffer.

The network is mlpfit.engines.numpy.net (scratch's chain rule, with preallocated buffers), the
optimizers mlpfit.engines.numpy.optim (torch.optim's formulas), the losses flat_losses (those of
mlpfit.engines.torch.losses). The engine follows the torch engines' habits: the same per-step learning-rate
schedule, the mean training loss of the epoch measured on each batch before its step, per-row
weights and the L2 term ``0.5·alpha·Σ‖W‖²/rows`` on weight matrices.

Member k draws its initial weights, shuffles and dropout masks from its own generators seeded
with ``seed + k``, so it trains exactly like a single fit with that seed; the same seed gives the
same model on the CPU, bit for bit. Parameters of all members are one [K, P] array (row k is
member k's flat vector); ``member_state(k)`` gives them under torch's names.
"""

from __future__ import annotations

import math

import numpy as np

from mlpfit.engines.numpy import state as check
from mlpfit.engines.numpy.losses import LOSSES, batch_loss, row_losses
from mlpfit.engines.numpy.net import FlatMLP
from mlpfit.engines.numpy.optim import OPTIMIZERS, make_optimizer
from mlpfit.errors import UsageError
from mlpfit.scratch.network import init_params
from mlpfit.scratch.train import batches
from mlpfit.train.schedules import schedule as lr_schedule
from mlpfit.train.trainer import TrainData

DTYPE = np.float32
DROPOUT_STREAM = 1  # member k's dropout generator: SeedSequence([seed + k, 1]), apart from its shuffles


def check_supported(config) -> None:
    """Refuse what the NumPy engine does not implement, naming the option and the fix."""
    t = config.train
    if t.optimizer not in OPTIMIZERS:
        raise UsageError(f"--optimizer {t.optimizer} is not available with --engine numpy: "
                         f"use --optimizer {' or --optimizer '.join(OPTIMIZERS)}, or drop --engine numpy")
    if t.loss is not None and t.loss not in LOSSES:
        raise UsageError(f"--loss {t.loss} is not available with --engine numpy: "
                         f"use --loss {' or --loss '.join(LOSSES)}, or drop --engine numpy")


class NumpyEngine:
    device = "cpu"

    def __init__(self, sizes, data: TrainData, *, activation, output_activation, epochs, batch_size, lr, optimizer,
                 schedule, seeds, loss="mse", dropout=0.0, alpha=0.0, weight_decay=0.0, initial_params=None,
                 optimizer_state=None, shuffle=True, dtype=DTYPE):
        self.dtype = np.dtype(dtype)  # float32; float64 for the estimators' float64 data (scikit-learn's precision)
        self.shuffle = shuffle  # False: every epoch takes the batches in row order
        self.net = FlatMLP(sizes, activation, output_activation, dropout, self.dtype)
        layout = self.net.layout
        self.members, self.loss_name, self.alpha = len(seeds), loss, float(alpha)
        X, T, self.W = training_arrays(data.X, data.Y, data.W, loss, self.net.sizes, self.dtype)
        self.rows = whole_rows(X, T, self.dtype)
        self.X, self.T = self.split_row(self.rows)
        self.X_val, self.T_val, self.W_val = training_arrays(data.X_val, data.Y_val, data.W_val, loss, self.net.sizes,
                                                                  self.dtype)
        self.classes_val = np.asarray(data.Y_val).reshape(-1) if loss == "cross_entropy" else None
        self.batch_size = max(1, min(batch_size, len(self.X)))
        self.rngs = [np.random.default_rng(seed) for seed in seeds]
        self.dropout_rngs = [np.random.default_rng([seed, DROPOUT_STREAM]) for seed in seeds]
        self.params = np.empty((self.members, layout.size), self.dtype)  # row k: member k's flat parameters
        for k, rng in enumerate(self.rngs):  # drawn even when replaced: the rngs then shuffle alike
            layout.from_dict(init_params(self.net.sizes, rng), self.params[k])
        if initial_params is not None:  # a warm start: an earlier fit's weights, checked against this net's shapes
            for k, p in enumerate(check.member_list(initial_params, self.members, "members' initial weights")):
                layout.from_dict(p, self.params[k], "initial weights")
        self.layers = [layout.views(row) for row in self.params]
        self.grad = np.zeros(layout.size, self.dtype)
        self.grad_layers = layout.views(self.grad)
        self.weight_mask = layout.weight_mask.astype(self.dtype)  # the L2 term's entries
        self.l2_buffer = np.empty(layout.size, self.dtype)
        self.optimizer_name, self.weight_decay = optimizer, weight_decay
        self.optimizers = self.fresh_optimizers()
        if optimizer_state is not None:  # partial_fit: the earlier fit's moments (this fit's schedule)
            self.optimizers = self.loaded_optimizers(optimizer_state)
        self.steps_per_epoch = math.ceil(len(self.X) / self.batch_size)
        # one peak rate per member: a sweep's batch trains settings that differ in lr together
        self.peak_lrs = np.broadcast_to(np.asarray(lr, dtype=np.float64), (self.members,)).copy()
        self.factor = lr_schedule(schedule, epochs, self.steps_per_epoch)
        self.steps_done = 0  # optimizer steps so far (the schedule's clock)
        self.active = np.ones(self.members, dtype=bool)
        self.kept = self.params.copy()
        self.step = 0  # steps done in the running epoch
        self.epoch_rng = [rng.bit_generator.state for rng in self.rngs]
        self.partial_loss = None
        self.gathered = {}  # batch size -> the buffer a batch's rows are copied into

    @property
    def lr(self) -> float:
        """The learning rate of the next step (the first member's, as a torch scheduler reports it)."""
        return float(self.peak_lrs[0]) * self.factor(self.steps_done)

    def fresh_optimizers(self) -> list:
        return [make_optimizer(self.optimizer_name, self.params.shape[1], self.dtype, self.weight_decay)
                for _ in range(self.members)]

    def loaded_optimizers(self, saved) -> list:
        """New optimizers holding ``saved`` moments; all are checked before any is used."""
        optimizers = self.fresh_optimizers()
        for optimizer, state in zip(optimizers, check.member_list(saved, self.members, "optimizer states")):
            optimizer.load_state_dict(state)
        return optimizers

    def member_state(self, k: int) -> dict[str, np.ndarray]:
        """Member k's weights under torch's names ("layers.{i}.weight" [out, in], "layers.{i}.bias"), copies in the engine's dtype."""
        return self.net.layout.to_dict(self.params[k])

    def network_state(self, stacked: bool) -> dict[str, np.ndarray]:
        """Every member's weights as one state: ``layers.*`` for a single net, ``members.layers.*`` stacked
        ``[K, ...]`` for members (the names a torch model of the same shape has)."""
        states = [self.member_state(k) for k in range(self.members)]
        if not stacked:
            return states[0]
        return {name.replace("layers.", "members.layers.", 1): np.stack([s[name] for s in states]) for name in states[0]}

    # ------------------------------------------------------------------ training

    def train_epoch(self, should_stop) -> np.ndarray | None:
        """One pass: every active member steps on its own shuffle of the rows."""
        if not self.step:
            self.epoch_rng = [rng.bit_generator.state for rng in self.rngs]
        else:
            for rng, state in zip(self.rngs, self.epoch_rng):
                rng.bit_generator.state = state  # replay the interrupted epoch's shuffles
        full = self.batch_size >= len(self.X)
        orders = None if full else [self.batches(rng) for rng in self.rngs]
        total = self.partial_loss.copy() if self.step else np.zeros(self.members)
        members = np.flatnonzero(self.active).tolist()  # the trainer freezes members between epochs only
        with np.errstate(all="ignore"):  # a diverging run overflows; the divergence guard reports it
            for i in range(self.step, self.steps_per_epoch):
                factor = self.factor(self.steps_done)
                for k in members:
                    loss, rows = self.train_step(k, None if full else orders[k][i], self.peak_lrs[k] * factor)
                    total[k] += loss * rows
                self.steps_done += 1
                self.step = i + 1
                if should_stop():
                    self.partial_loss = total
                    return None
        self.step, self.partial_loss = 0, None
        return total / (len(self.X) if self.W is None else max(self.W.sum(), 1e-30))

    def batches(self, rng) -> list[np.ndarray]:
        """One epoch's row indices per batch: a fresh shuffle, or the rows in order (shuffle=False)."""
        if self.shuffle:
            return batches(len(self.X), self.batch_size, rng)
        order = np.arange(len(self.X))
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def batch(self, rows: np.ndarray | None):
        """The batch's inputs, targets, per-row scale (weight / Σ weights, or None) and row count (or Σ weights)."""
        if rows is None:
            X, T, W = self.X, self.T, self.W
        else:
            buffer = self.gathered.get(len(rows))
            if buffer is None:
                buffer = self.gathered[len(rows)] = np.empty((len(rows), self.rows.shape[1]), self.dtype)
            # mode="clip": the rows are valid indices, and "raise" would copy through a temporary first
            X, T = self.split_row(np.take(self.rows, rows, axis=0, out=buffer, mode="clip"))
            W = None if self.W is None else self.W[rows]
        if W is None:
            return X, T, None, len(X)
        total = max(float(W.sum()), 1e-30)
        return X, T, (W / total)[:, None], total

    def split_row(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(inputs with their column of ones, targets): views into an array of whole rows."""
        width = self.net.sizes[0] + 1
        return rows[:, :width], rows[:, width:]

    def train_step(self, k: int, rows: np.ndarray | None, lr: float) -> tuple[float, float]:
        """One step of member k on ``rows`` (None: all); returns the batch's loss and the rows (or weight) it averages over."""
        X, T, scale, total = self.batch(rows)
        net, layers = self.net, self.layers[k]
        y = net.forward(layers, X, self.dropout_rngs[k] if net.dropout else None)
        loss = batch_loss(self.loss_name, y, T, net.output_grad(), net.loss_elements(), scale)
        net.backward(layers, self.grad_layers)
        if self.alpha:
            loss += self.add_l2(self.params[k], total)
        self.optimizers[k].step(self.params[k], self.grad, lr)
        return loss, total

    def add_l2(self, params: np.ndarray, rows: float) -> float:
        """0.5·alpha·Σ‖W‖²/rows on weight matrices (mlpfit.engines.torch.losses.l2_penalty): its value; its gradient into grad."""
        weights = np.multiply(params, self.weight_mask, out=self.l2_buffer)
        squares = float(np.dot(weights, params))
        weights *= self.alpha / rows
        self.grad += weights
        return 0.5 * self.alpha * squares / rows

    def evaluate(self) -> dict:
        """Each member's validation loss (and accuracy for classes), as the torch engine computes them."""
        total = len(self.X_val) if self.W_val is None else max(float(self.W_val.sum()), 1e-30)
        weight = 1.0 if self.W_val is None else self.W_val
        losses, hits = np.zeros(self.members), np.zeros(self.members)
        with np.errstate(all="ignore"):
            for k in range(self.members):
                y = self.net.predict(self.layers[k], self.X_val)
                losses[k] = float((row_losses(self.loss_name, y, self.T_val) * weight).sum()) / total
                if self.classes_val is not None:
                    hits[k] = float(((y.argmax(axis=1) == self.classes_val) * weight).sum()) / total
        scores = {"val_loss": losses}
        if self.classes_val is not None:
            scores["val_accuracy"] = hits
        return scores

    def outputs(self, k: int, X: np.ndarray) -> np.ndarray:
        """Member k's outputs (logits for classes) for inputs X, float32."""
        return self.net.predict(self.layers[k], X)

    def optimizer_state(self) -> list[dict]:
        """Each member's optimizer moments, for a later fit that continues this one (``optimizer_state=``)."""
        return [optimizer.state_dict() for optimizer in self.optimizers]

    # ------------------------------------------------------------------ the trainer's bookkeeping

    def freeze(self, frozen: np.ndarray) -> None:
        self.active = ~np.asarray(frozen, dtype=bool)

    def keep(self, members: np.ndarray) -> None:
        members = np.asarray(members, dtype=bool)
        self.kept[members] = self.params[members]

    def restore(self, members: np.ndarray) -> None:
        members = np.asarray(members, dtype=bool)
        self.params[members] = self.kept[members]  # in place: the layer views stay valid

    def state_dict(self) -> dict:
        return {"params": self.params.copy(), "kept": self.kept.copy(), "optimizers": self.optimizer_state(),
                "rng": [rng.bit_generator.state for rng in self.rngs], "epoch_rng": list(self.epoch_rng),
                "dropout_rng": [rng.bit_generator.state for rng in self.dropout_rngs],
                "active": self.active.copy(), "steps_done": self.steps_done, "step": self.step,
                "partial_loss": None if self.partial_loss is None else self.partial_loss.copy()}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a checkpoint; every part is checked before any is taken (ValueError if wrong)."""
        K, shape = self.members, self.params.shape
        params = check.numeric_array(check.field(state, "params"), shape, "parameters")
        kept = check.numeric_array(check.field(state, "kept"), shape, "kept parameters")
        optimizers = self.loaded_optimizers(check.field(state, "optimizers"))
        rngs = {name: [check.rng_state(s, f"{name}[{k}]") for k, s in
                       enumerate(check.member_list(check.field(state, name), K, f"{name} states"))]
                for name in ("rng", "epoch_rng", "dropout_rng")}
        active = check.numeric_array(check.field(state, "active"), (K,), "active members", bool)
        steps_done = check.count(check.field(state, "steps_done"), "steps done")
        step = check.count(check.field(state, "step"), "step in the epoch", self.steps_per_epoch + 1)
        partial = check.field(state, "partial_loss")
        partial = None if partial is None else check.numeric_array(partial, (K,), "partial loss", np.float64)
        if step and partial is None:
            raise ValueError(f"step {step} of an epoch without its partial loss")
        self.params[...], self.kept[...] = params, kept
        self.optimizers = optimizers
        for generators, name in ((self.rngs, "rng"), (self.dropout_rngs, "dropout_rng")):
            for rng, saved in zip(generators, rngs[name]):
                rng.bit_generator.state = saved
        self.epoch_rng = rngs["epoch_rng"]
        self.active, self.steps_done, self.step, self.partial_loss = active, steps_done, step, partial


def training_arrays(X, Y, W, loss: str, sizes: list[int], dtype=DTYPE):
    """Inputs and targets as C-contiguous ``dtype`` [n, columns] (class indices one-hot), weights float64 or None.
    Inputs already in ``dtype`` (scaled pixels in float32) are not copied."""
    X = np.asarray(X)
    X = np.ascontiguousarray(X.reshape(len(X), -1), dtype=dtype)
    outputs = sizes[-1]
    if loss == "cross_entropy":
        classes = np.asarray(Y).reshape(-1).astype(np.int64)
        if len(classes) and (classes.min() < 0 or classes.max() >= outputs):
            raise ValueError(f"class indices from {classes.min()} to {classes.max()} for {outputs} outputs")
        T = np.zeros((len(classes), outputs), dtype)
        T[np.arange(len(classes)), classes] = 1.0
    else:
        T = np.ascontiguousarray(np.asarray(Y).reshape(len(X), outputs), dtype=dtype)
    return X, T, None if W is None else np.asarray(W, dtype=np.float64).reshape(len(X))


def whole_rows(X: np.ndarray, T: np.ndarray, dtype=DTYPE) -> np.ndarray:
    """One array of rows [inputs, 1, targets]: the column of ones is the first layer's bias, and a
    batch is one gather. Filled in place (Fashion-MNIST's rows are 190 MB: no concatenated copies)."""
    inputs = X.shape[1]
    rows = np.empty((len(X), inputs + 1 + T.shape[1]), dtype)
    rows[:, :inputs] = X
    rows[:, inputs] = 1.0
    rows[:, inputs + 1 :] = T
    return rows


def member_params(state: dict, members: int, stacked: bool) -> list[dict]:
    """Saved weights (torch's names, ``members.`` first when stacked) as the engine's per-member parameter dicts
    (the inverse of :meth:`NumpyEngine.network_state`)."""
    arrays = {k: np.asarray(v) for k, v in state.items()}
    if not stacked:
        return [arrays] * members
    return [{k.replace("members.layers.", "layers.", 1): v[i] for k, v in arrays.items()} for i in range(members)]
