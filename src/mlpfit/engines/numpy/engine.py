"""``--engine numpy``: K MLPs trained on the CPU without torch, each over one flat float32 buffer.

The network is mlpfit.engines.numpy.net (scratch's chain rule, with preallocated buffers), the
optimizers mlpfit.engines.numpy.optim (torch.optim's formulas), the losses flat_losses (those of
mlpfit.engines.torch.losses). The engine follows the torch engines' habits: the same per-step learning-rate
schedule, the mean training loss of the epoch measured on each batch before its step, per-row
weights and the L2 term ``0.5·alpha·Σ‖W‖²/rows`` on weight matrices.

Member k draws its initial weights, shuffles and dropout masks from its own generators seeded
with ``seed + k``, so it starts and trains like a single fit with that seed; the same seed gives the
same model on the CPU, bit for bit. Parameters of all members are one [K, P] array (row k is
member k's flat vector); ``member_state(k)`` gives them under torch's names. All members take each
step together: one gather of their batches, one batched product per layer, one optimizer update.
With two threads the members form two groups, each stepped by whichever thread is free, in the epochs
where that is faster than one group on one thread (mlpfit.engines.numpy.threads); the results are the same.
A member the trainer stopped (early stopping) is computed with the others but keeps its weights and
moments: they are put back after every step.
"""

from __future__ import annotations

import contextlib
import math
import time

import numpy as np

from mlpfit.engines.blocks import block_start, input_blocks
from mlpfit.engines.numpy import state as check
from mlpfit.engines.numpy.losses import LOSSES, batch_loss, row_losses
from mlpfit.engines.numpy.net import FlatMLP
from mlpfit.engines.numpy.optim import OPTIMIZERS, make_optimizer
from mlpfit.engines.numpy.threads import SplitChooser, member_threads, side_by_side
from mlpfit.errors import UsageError
from mlpfit.scratch.network import init_params
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
                 optimizer_state=None, shuffle=True, dtype=DTYPE, threads=1, input_units=0):
        self.dtype = np.dtype(dtype)  # float32; float64 for the estimators' float64 data (scikit-learn's precision)
        self.shuffle = shuffle  # False: every epoch takes the batches in row order
        self.net = FlatMLP(sizes, activation, output_activation, dropout, self.dtype)
        self.threads = max(1, min(int(threads), len(seeds)))  # members split over this many threads
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
        blocks = input_blocks(self.net.sizes, input_units)
        self.block_mask = None if blocks is None else blocks.astype(self.dtype)  # first-layer weights that learn
        for k, rng in enumerate(self.rngs):  # drawn even when replaced: the rngs then shuffle alike
            layout.from_dict(init_params(self.net.sizes, rng), self.params[k])
            if blocks is not None:
                weight, bias, _ = layout.views(self.params[k])[0]
                weight[...], bias[...] = block_start(blocks, rng)
        if initial_params is not None:  # a warm start: an earlier fit's weights, checked against this net's shapes
            for k, p in enumerate(check.member_list(initial_params, self.members, "members' initial weights")):
                layout.from_dict(p, self.params[k], "initial weights")
        self.layers = layout.views(self.params)  # [K, out, in] per layer: every member in one product
        self.grad = np.zeros_like(self.params)
        self.grad_layers = layout.views(self.grad)
        self.weight_mask = layout.weight_mask.astype(self.dtype)  # the L2 term's entries
        self.l2_buffer = np.empty_like(self.params)
        self.optimizer_name, self.weight_decay = optimizer, weight_decay
        self.optimizer = self.fresh_optimizer()
        if optimizer_state is not None:  # partial_fit: the earlier fit's moments (this fit's schedule)
            self.optimizer = self.loaded_optimizer(optimizer_state)
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
        self.parts = (None, [])  # (the optimizer, its part for each group): see optimizer_parts
        self.pool = None  # the member threads while hold_threads keeps them, else None
        self.whole = [(slice(0, self.members), self.net, self.layers, self.grad_layers)]  # every member in one group
        self.groups = self.member_groups(sizes, activation, output_activation, dropout)
        self.chooser = SplitChooser()  # whether an epoch splits the members over the threads
        self.split = False  # the last epoch did

    def member_groups(self, sizes, activation, output_activation, dropout) -> list[tuple]:
        """(members, net, layers, gradient layers) per thread: contiguous slices of the members, each with its
        own workspaces; NumPy lets go of the GIL inside every product and elementwise call, so the slices'
        steps (their gradients and their optimizer updates) run on separate cores."""
        if self.threads == 1:
            return self.whole
        bounds = np.linspace(0, self.members, self.threads + 1).round().astype(int)
        layout = self.net.layout
        return [(slice(a, b), FlatMLP(sizes, activation, output_activation, dropout, self.dtype),
                 layout.views(self.params[a:b]), layout.views(self.grad[a:b])) for a, b in zip(bounds, bounds[1:])]

    @property
    def lr(self) -> float:
        """The learning rate of the next step (the first member's, as a torch scheduler reports it)."""
        return float(self.peak_lrs[0]) * self.factor(self.steps_done)

    def fresh_optimizer(self):
        """One optimizer over the [K, P] parameters: every member's update in the same few calls."""
        return make_optimizer(self.optimizer_name, self.params.shape, self.dtype, self.weight_decay)

    def loaded_optimizer(self, saved):
        """A new optimizer holding ``saved`` per-member moments; all are checked before any is used."""
        optimizer = self.fresh_optimizer()
        optimizer.load_member_states(check.member_list(saved, self.members, "optimizer states"))
        return optimizer

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
        """One pass: every member steps on its own shuffle of the rows, all members in each step."""
        if not self.step:
            self.epoch_rng = [rng.bit_generator.state for rng in self.rngs]
        else:
            for rng, state in zip(self.rngs, self.epoch_rng):
                rng.bit_generator.state = state  # replay the interrupted epoch's shuffles
        full = self.batch_size >= len(self.X)
        total = self.partial_loss.copy() if self.step else np.zeros(self.members)
        frozen = np.flatnonzero(~self.active)  # the trainer freezes members between epochs only
        with np.errstate(all="ignore"), self.member_pool() as pool:
            # errstate: a diverging run overflows; the divergence guard reports it
            self.split = pool is not None and self.chooser.split()
            pool = pool if self.split else None  # no pool: every member in one group, in this thread
            orders = None if full else self.epoch_orders(pool)
            start, first = time.perf_counter(), self.step
            for i in range(self.step, self.steps_per_epoch):
                rows = None if full else orders[:, i * self.batch_size : (i + 1) * self.batch_size]
                saved = self.frozen_state(frozen)
                lrs = self.peak_lrs[:, None] * self.factor(self.steps_done)  # [K, 1]: each member's rate
                loss, weight = self.train_step(rows, lrs, pool)
                total += loss * weight
                if saved is not None:
                    self.put_frozen_state(frozen, saved)
                self.steps_done += 1
                self.step = i + 1
                if should_stop():
                    self.partial_loss = total
                    return None
            if self.threads > 1:
                self.chooser.record(self.split, (time.perf_counter() - start) / max(1, self.steps_per_epoch - first))
        self.step, self.partial_loss = 0, None
        total[frozen] = 0.0  # a frozen member's epoch loss is not its own (it did not train)
        return total / (len(self.X) if self.W is None else np.maximum(self.W.sum(axis=-1), 1e-30))

    @contextlib.contextmanager
    def hold_threads(self):
        """Keep the member threads from one epoch to the next while the block runs (the trainer holds them
        around its epochs): threads start once a fit instead of once an epoch, and evaluate uses them too."""
        if self.pool is not None or self.threads == 1:
            yield
            return
        with member_threads(self.threads) as pool:
            self.pool = pool
            try:
                yield
            finally:
                self.pool = None

    def member_pool(self):
        """The held member threads, or threads for this epoch alone."""
        return contextlib.nullcontext(self.pool) if self.pool is not None else member_threads(self.threads)

    def frozen_state(self, frozen: np.ndarray):
        """Copies of the stopped members' weights and moments (None when every member trains)."""
        if not len(frozen):
            return None
        return self.params[frozen].copy(), self.optimizer.rows(frozen)

    def put_frozen_state(self, frozen: np.ndarray, saved) -> None:
        params, moments = saved
        self.params[frozen] = params  # in place: the layer views stay valid
        self.optimizer.put_rows(frozen, moments)

    def epoch_orders(self, pool=None) -> np.ndarray:
        """[K, n]: each member's row order this epoch (scratch.train.batches' shuffle, or the rows in order with
        shuffle=False), cut into batches by columns. ``pool``: the groups shuffle their members' rows side by side."""
        n = len(self.X)
        if not self.shuffle:
            return np.broadcast_to(np.arange(n), (self.members, n))
        orders = np.empty((self.members, n), np.int64)
        orders[:] = np.arange(n)

        def shuffle(group):  # rng.permutation(n) is arange(n) shuffled in place: the same orders, no copies
            for k in range(self.members)[group[0]]:
                self.rngs[k].shuffle(orders[k])

        side_by_side(pool, shuffle, self.groups if pool is not None else self.whole)
        return orders

    def batch(self, rows: np.ndarray | None):
        """The batch's inputs, targets, per-row scale (weight / Σ weights, or None) and row count (or Σ weights
        per member). ``rows``: None (every row, shared by all members) or [K, b], each member's own rows."""
        if rows is None:
            X, T, W = self.X, self.T, self.W
        else:
            buffer = self.gathered.get(rows.shape)
            if buffer is None:
                buffer = self.gathered[rows.shape] = np.empty((*rows.shape, self.rows.shape[1]), self.dtype)
            # mode="clip": the rows are valid indices, and "raise" would copy through a temporary first
            X, T = self.split_row(np.take(self.rows, rows, axis=0, out=buffer, mode="clip"))
            W = None if self.W is None else self.W[rows] if self.W.ndim == 1 else np.take_along_axis(self.W, rows, 1)
        if W is None:
            return X, T, None, np.full(self.members, float(X.shape[-2]))
        total = np.maximum(W.sum(axis=-1, keepdims=True), 1e-30)  # [1] shared rows, [K, 1] each member's
        return X, T, (W / total)[..., None], np.broadcast_to(total[..., 0], (self.members,)).astype(np.float64)

    def split_row(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(inputs with their column of ones, targets): views into an array of whole rows."""
        width = self.net.sizes[0] + 1
        return rows[..., :width], rows[..., width:]

    def train_step(self, rows: np.ndarray | None, lr, pool=None) -> tuple[np.ndarray, np.ndarray]:
        """One step of every member on ``rows`` (None: all) at rates ``lr`` ([K, 1]); returns each member's batch
        loss and the rows (or weight) it averages over. ``pool``: threads that step the member groups side by side
        (None: every member in one group, in this thread)."""
        X, T, scale, total = self.batch(rows)
        if pool is None:
            return self.group_step(self.whole[0], self.optimizer, X, T, scale, total, lr), total
        steps = list(zip(self.groups, self.optimizer_parts()))
        losses = side_by_side(pool, lambda step: self.group_step(*step, X, T, scale, total, lr), steps)
        return np.concatenate(losses), total

    def optimizer_parts(self) -> list:
        """The optimizer over each group's members (the optimizer itself for one group), made again when the
        optimizer is replaced (a checkpoint or saved moments loaded)."""
        optimizer, parts = self.parts
        if optimizer is not self.optimizer:
            parts = [self.optimizer] if len(self.groups) == 1 else [self.optimizer.part(g[0]) for g in self.groups]
            self.parts = (self.optimizer, parts)
        return parts

    def group_step(self, group, optimizer, X, T, scale, total, lr) -> np.ndarray:
        """One group's gradient, L2 term and optimizer update; returns its members' batch losses."""
        members = group[0]
        loss = self.group_gradient(group, X, T, scale)
        if self.alpha:
            loss = loss + self.add_l2(members, total[members])
        if self.block_mask is not None:  # weights outside the inputs' own blocks stay zero
            self.grad_layers[0][0][members] *= self.block_mask
        optimizer.step(self.params[members], self.grad[members], lr[members])
        return loss

    def group_gradient(self, group, X, T, scale) -> np.ndarray:
        """Forward and backward of one group of members into its rows of grad; returns their batch losses."""
        members, net, layers, grads = group
        if X.ndim == 3:  # each member's own rows
            X, T, scale = X[members], T[members], None if scale is None else scale[members]
        elif scale is not None and scale.ndim == 3:
            scale = scale[members]
        y = net.forward(layers, X, self.dropout_rngs[members] if net.dropout else None)
        loss = batch_loss(self.loss_name, y, T, net.output_grad(), net.loss_elements(), scale)
        net.backward(layers, grads)
        return np.atleast_1d(loss)

    def add_l2(self, members: slice, rows: np.ndarray) -> np.ndarray:
        """0.5·alpha·Σ‖W‖²/rows on weight matrices (mlpfit.engines.torch.losses.l2_penalty), for some members:
        each one's value; its gradient into grad."""
        params = self.params[members]
        weights = np.multiply(params, self.weight_mask, out=self.l2_buffer[members])
        squares = np.einsum("kp,kp->k", weights, params, dtype=np.float64)
        weights *= (self.alpha / rows).astype(self.dtype)[:, None]
        self.grad[members] += weights
        return 0.5 * self.alpha * squares / rows

    def evaluate(self) -> dict:
        """Each member's validation loss (and accuracy for classes), as the torch engine computes them."""
        total = len(self.X_val) if self.W_val is None else np.maximum(self.W_val.sum(axis=-1), 1e-30)
        weight = 1.0 if self.W_val is None else self.W_val
        with np.errstate(all="ignore"):
            # [K, n, out]: each group's members in one pass, the groups side by side where threads are held;
            # in the chunks the whole would take, so the outputs do not depend on the threads
            rows = self.net.chunk_rows(self.members)
            groups = self.groups if self.split else self.whole
            parts = side_by_side(self.pool, lambda group: group[1].predict(group[2], self.X_val, rows), groups)
            y = parts[0] if len(parts) == 1 else np.concatenate(parts)
            losses = (row_losses(self.loss_name, y, self.T_val) * weight).sum(axis=-1) / total
            if self.classes_val is not None:
                hits = ((y.argmax(axis=-1) == self.classes_val) * weight).sum(axis=-1) / total
        scores = {"val_loss": losses.astype(np.float64)}
        if self.classes_val is not None:
            scores["val_accuracy"] = hits
        return scores

    def outputs(self, k: int, X: np.ndarray) -> np.ndarray:
        """Member k's outputs (logits for classes) for inputs X, float32."""
        return self.net.predict(self.net.layout.views(self.params[k]), X)

    def optimizer_state(self) -> list[dict]:
        """Each member's optimizer moments, for a later fit that continues this one (``optimizer_state=``)."""
        return [self.optimizer.member_state(k) for k in range(self.members)]

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
        optimizer = self.loaded_optimizer(check.field(state, "optimizers"))
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
        self.optimizer = optimizer
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
    return X, T, None if W is None else member_weights(W, len(X))


def member_weights(W, rows: int) -> np.ndarray:
    """Row weights as float64: [n] shared by every member, or [K, n] each member's own."""
    W = np.asarray(W, dtype=np.float64)
    return W if W.ndim == 2 else W.reshape(rows)


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
