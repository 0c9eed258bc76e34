"""One torch MLP (K = 1) trained with any torch optimizer and learning-rate schedule.

Data arrive as tensors already on the device. An epoch is one random permutation cut into
batches by indexing (no DataLoader: for in-memory tensors its per-item work costs more than the
model). Full-batch runs skip the permutation. Losses are summed on the device and read once per
epoch, so a GPU is not synchronized every step.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mlpfit.engines.torch.losses import batch_loss, l2_penalty, loss_sum
from mlpfit.engines.torch.optim import make_optimizer, make_schedule
from mlpfit.engines.torch.state import network_state, to_numpy, to_torch
from mlpfit.train.trainer import TrainData


class TorchEngine:
    members = 1

    def __init__(self, model, data: TrainData, *, epochs, batch_size, lr, optimizer, loss, schedule, seed,
                 alpha=0.0, weight_decay=0.0, optimizer_state=None, shuffle=True):
        self.model, self.data = model, data
        self.shuffle = shuffle  # False: batches in row order
        self.device = str(data.X.device)
        self.batch_size = min(batch_size, len(data.X))
        self.loss_name, self.alpha = loss, alpha
        self.optimizer = make_optimizer(optimizer, model.parameters(), lr, weight_decay)
        self.is_lbfgs = optimizer == "lbfgs"
        if optimizer_state is not None:  # continue an earlier fit's moments (partial_fit), before the schedule starts
            continue_optimizer(self.optimizer, optimizer_state, lr, flat=self.is_lbfgs)
        steps_per_epoch = 1 if self.is_lbfgs else math.ceil(len(data.X) / self.batch_size)
        self.scheduler = make_schedule("constant" if self.is_lbfgs else schedule, self.optimizer, epochs, steps_per_epoch)
        # Shuffling has its own generator so the model's init RNG and the batches stay independent.
        self.generator = torch.Generator().manual_seed(seed)
        self.step = 0  # steps already done in the running epoch (a resumed epoch skips them)
        self.epoch_rng = self.generator.get_state()  # the generator at the epoch's start: a resume replays its permutation
        self.partial_loss = None  # summed loss of the steps done in the running epoch
        self.kept = None  # the best epoch's weights (early stopping)

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def train_epoch(self, should_stop) -> np.ndarray | None:
        self.model.train()
        if self.is_lbfgs:
            return self.lbfgs_epoch(should_stop)
        X, Y, W = self.data.X, self.data.Y, self.data.W
        if not self.step:
            self.epoch_rng = self.generator.get_state()
        else:
            self.generator.set_state(self.epoch_rng)  # replay the interrupted epoch's permutation
        total = self.partial_loss if self.step else torch.zeros((), device=X.device)
        for i, index in enumerate(self.batches(len(X), X.device)):
            if i < self.step:
                continue  # done before an interrupt
            xb, yb, wb = (X, Y, W) if index is None else (X[index], Y[index], None if W is None else W[index])
            self.optimizer.zero_grad(set_to_none=True)
            loss, rows = self.loss(xb, yb, wb)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            total += loss.detach() * rows
            self.step = i + 1
            if should_stop():
                self.partial_loss = total
                return None
        self.step, self.partial_loss = 0, None
        return np.array([total.item() / (len(X) if W is None else max(float(W.sum()), 1e-30))])

    def loss(self, X, Y, W):
        """The batch's (weighted) mean loss plus the L2 term, and the rows (or weight) it averages over."""
        rows = len(X) if W is None else W.sum().clamp_min(1e-30)
        data_loss = batch_loss(self.loss_name, self.model(X), Y, W)
        return data_loss + l2_penalty(weight_matrices(self.model), self.alpha, rows), rows

    def lbfgs_epoch(self, should_stop) -> np.ndarray | None:
        """One L-BFGS step is the epoch; its loss is kept across a resume."""
        if not self.step:
            self.partial_loss, self.step = self.lbfgs_step(self.data.X, self.data.Y, self.data.W), 1
            if should_stop():
                return None
        loss, self.step, self.partial_loss = self.partial_loss, 0, None
        return np.array([float(loss)])

    def lbfgs_step(self, X, Y, W) -> float:
        def closure():
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss(X, Y, W)[0]
            loss.backward()
            return loss

        return float(self.optimizer.step(closure).detach())

    def function_evaluations(self) -> int:
        """Loss evaluations L-BFGS has made so far (its line search makes several per step); 0 for other optimizers."""
        if not self.is_lbfgs:
            return 0
        state = self.optimizer.state.get(self.optimizer.param_groups[0]["params"][0], {})
        return int(state.get("func_evals", 0))

    def batches(self, n: int, device):
        if self.batch_size >= n:
            yield None  # full batch: no permutation, no copy
            return
        order = torch.randperm(n, generator=self.generator).to(device) if self.shuffle else torch.arange(n, device=device)
        yield from order.split(self.batch_size)

    @torch.no_grad()
    def evaluate(self, chunk: int = 65536) -> dict:
        self.model.eval()
        X, Y, W = self.data.X_val, self.data.Y_val, self.data.W_val
        parts = [(self.model(X[i : i + chunk]), Y[i : i + chunk], None if W is None else W[i : i + chunk])
                 for i in range(0, len(X), chunk)]
        total = len(X) if W is None else max(float(W.sum()), 1e-30)
        scores = {"val_loss": np.array([float(sum(loss_sum(self.loss_name, out, y, w) for out, y, w in parts)) / total])}
        if self.loss_name == "cross_entropy":
            hits = sum(float(((out.argmax(dim=1) == y) * (1 if w is None else w)).sum()) for out, y, w in parts)
            scores["val_accuracy"] = np.array([hits / total])
        return scores

    def optimizer_state(self) -> dict:
        """The optimizer's moments as NumPy, for a later fit that continues this one (``optimizer_state=``)."""
        return to_numpy(self.optimizer.state_dict())

    def network_state(self, stacked: bool = False) -> dict:
        return network_state(self.model)

    def freeze(self, frozen: np.ndarray) -> None:
        pass  # one member: once it stops, the trainer stops

    def keep(self, members: np.ndarray) -> None:
        if members[0]:
            self.kept = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self, members: np.ndarray) -> None:
        if members[0] and self.kept is not None:
            self.model.load_state_dict(self.kept)

    def state_dict(self) -> dict:
        """Everything to continue exactly, as NumPy (a checkpoint holds no tensor)."""
        return to_numpy({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                         "scheduler": self.scheduler.state_dict(), "kept": self.kept, "step": self.step,
                         "epoch_rng": self.epoch_rng, "partial_loss": self.partial_loss,
                         "torch_rng": torch.get_rng_state()})

    def load_state_dict(self, state: dict) -> None:
        state = to_torch(state)
        params = list(self.model.parameters())
        check_optimizer_state(state["optimizer"], params, flat=self.is_lbfgs)
        self.model.load_state_dict(state["model"])
        if state["kept"] is not None:
            self.model.load_state_dict(state["kept"])  # checks every name and shape before taking the real weights
            self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.kept, self.step = state["kept"], int(state["step"])
        if not 0 <= self.step:
            raise ValueError(f"step {self.step} is negative")
        device = self.data.X.device
        self.partial_loss = None if state["partial_loss"] is None else torch.as_tensor(state["partial_loss"], device=device)
        self.epoch_rng = check_byte_state(state["epoch_rng"], self.generator.get_state())
        torch.set_rng_state(check_byte_state(state["torch_rng"], torch.get_rng_state()))


def weight_matrices(model) -> list:
    """The model's weight matrices (what an L2 penalty shrinks; biases are left alone)."""
    return [layer.weight for layer in linear_layers(model)]


def linear_layers(model) -> list:
    """The model's linear layers, first to last: an MLP's own, or a stacked model's (weights [K, out, in])."""
    return list(model.members.layers if hasattr(model, "members") else model.layers)


def continue_optimizer(optimizer, state: dict, lr: float, flat: bool = False) -> None:
    """Load an earlier optimizer's state, keeping this fit's learning rate (the schedule starts from it)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state = to_torch(state)
    check_optimizer_state(state, params, flat=flat)
    optimizer.load_state_dict(state)
    for group in optimizer.param_groups:
        group["lr"] = lr
        group.pop("initial_lr", None)


def check_optimizer_state(state: dict, params: list, flat: bool = False) -> None:
    """Refuse optimizer state whose tensors do not fit the parameters: torch would broadcast a wrong
    shape silently, and a fused optimizer can crash the process on one. ``flat``: L-BFGS keeps its
    vectors (directions, gradients) over all parameters flattened into one, under the first."""
    groups = state["param_groups"]
    indices = [i for group in groups for i in group["params"]]
    if sorted(indices) != list(range(len(params))):
        raise ValueError(f"optimizer state names parameters {indices}, the model has {len(params)}")
    for index, per_param in state["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(params):
            raise ValueError(f"optimizer state for parameter {index!r}, the model has {len(params)}")
        total = sum(p.numel() for p in params)
        for name, value in per_param.items():
            for tensor in value if isinstance(value, list) else [value]:
                if not isinstance(tensor, torch.Tensor) or tensor.dim() == 0:
                    continue
                expected = (total,) if flat else tuple(params[index].shape)
                if tuple(tensor.shape) != expected:
                    raise ValueError(f"optimizer {name} of shape {tuple(tensor.shape)}, expected {expected}")


def check_byte_state(saved, current: torch.Tensor) -> torch.Tensor:
    """An RNG state read from a file: a uint8 tensor of the length torch uses."""
    saved = torch.as_tensor(saved)
    if saved.dtype != torch.uint8 or saved.shape != current.shape:
        raise ValueError(f"random generator state of {saved.dtype} {tuple(saved.shape)}, expected {tuple(current.shape)}")
    return saved
