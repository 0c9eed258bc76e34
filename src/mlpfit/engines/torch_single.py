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

from mlpfit.nn.losses import get_loss, loss_sum
from mlpfit.train.optim import make_optimizer, make_schedule
from mlpfit.train.trainer import TrainData


class TorchEngine:
    members = 1

    def __init__(self, model, data: TrainData, *, epochs, batch_size, lr, optimizer, loss, schedule, seed,
                 weight_decay=0.0):
        self.model, self.data = model, data
        self.batch_size = min(batch_size, len(data.X))
        self.loss_name, self.loss_fn = loss, get_loss(loss)
        self.optimizer = make_optimizer(optimizer, model.parameters(), lr, weight_decay)
        self.is_lbfgs = optimizer == "lbfgs"
        steps = epochs * (1 if self.is_lbfgs else math.ceil(len(data.X) / self.batch_size))
        self.scheduler = make_schedule("constant" if self.is_lbfgs else schedule, self.optimizer, steps)
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
        X, Y = self.data.X, self.data.Y
        if not self.step:
            self.epoch_rng = self.generator.get_state()
        else:
            self.generator.set_state(self.epoch_rng)  # replay the interrupted epoch's permutation
        total = self.partial_loss if self.step else torch.zeros((), device=X.device)
        for i, index in enumerate(self.batches(len(X), X.device)):
            if i < self.step:
                continue  # done before an interrupt
            xb, yb = (X, Y) if index is None else (X[index], Y[index])
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            total += loss.detach() * len(xb)
            self.step = i + 1
            if should_stop():
                self.partial_loss = total
                return None
        self.step, self.partial_loss = 0, None
        return np.array([total.item() / len(X)])

    def lbfgs_epoch(self, should_stop) -> np.ndarray | None:
        """One L-BFGS step is the epoch; its loss is kept across a resume."""
        if not self.step:
            self.partial_loss, self.step = self.lbfgs_step(self.data.X, self.data.Y), 1
            if should_stop():
                return None
        loss, self.step, self.partial_loss = self.partial_loss, 0, None
        return np.array([float(loss)])

    def lbfgs_step(self, X, Y) -> float:
        def closure():
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(X), Y)
            loss.backward()
            return loss

        return float(self.optimizer.step(closure).detach())

    def batches(self, n: int, device):
        if self.batch_size >= n:
            yield None  # full batch: no permutation, no copy
            return
        order = torch.randperm(n, generator=self.generator).to(device)
        yield from order.split(self.batch_size)

    @torch.no_grad()
    def evaluate(self, chunk: int = 65536) -> dict:
        self.model.eval()
        X, Y = self.data.X_val, self.data.Y_val
        parts = [(self.model(X[i : i + chunk]), Y[i : i + chunk]) for i in range(0, len(X), chunk)]
        scores = {"val_loss": np.array([float(sum(loss_sum(self.loss_name, out, y) for out, y in parts)) / len(X)])}
        if self.loss_name == "cross_entropy":
            hits = sum(int((out.argmax(dim=1) == y).sum()) for out, y in parts)
            scores["val_accuracy"] = np.array([hits / len(X)])
        return scores

    def freeze(self, frozen: np.ndarray) -> None:
        pass  # one member: once it stops, the trainer stops

    def keep(self, members: np.ndarray) -> None:
        if members[0]:
            self.kept = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self, members: np.ndarray) -> None:
        if members[0] and self.kept is not None:
            self.model.load_state_dict(self.kept)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "kept": self.kept, "step": self.step,
                "epoch_rng": self.epoch_rng, "partial_loss": self.partial_loss, "torch_rng": torch.get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
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
