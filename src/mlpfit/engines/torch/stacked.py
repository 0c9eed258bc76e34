"""K torch MLPs of one shape trained as one batched model (ensembles and sweeps).

* One optimizer steps the stacked tensors with a per-member learning-rate vector
  (:class:`~mlpfit.engines.torch.stacked_optim.StackedOptimizer`), so a sweep can batch settings that
  differ only in ``lr``.
* Every member has its own minibatch order (one ``rand(K, n).argsort`` per epoch: a gather of
  ``[K, B]`` indices is cheap).
* A stopped member's learning rate is masked to zero (:meth:`freeze`); the best weights are kept
  slice by slice (:meth:`keep`) and put back at the end (:meth:`restore`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mlpfit.engines.torch.losses import l2_penalty, member_loss
from mlpfit.engines.torch.single import check_byte_state, weight_matrices
from mlpfit.engines.torch.stacked_optim import StackedOptimizer
from mlpfit.engines.torch.state import network_state, to_numpy, to_torch
from mlpfit.train.schedules import schedule as lr_schedule
from mlpfit.train.trainer import TrainData

# On a CPU, members go through forward and backward in chunks whose activations ([members, rows,
# width] float32) stay near this many values (~1 MB): all 64 members at once spill out of cache
# and ran no faster per member than single fits. A GPU takes every member at once.
CPU_CHUNK_VALUES = 2**18


class StackedEngine:
    def __init__(self, model, data: TrainData, *, epochs, batch_size, lr, optimizer, loss, schedule, seed,
                 alpha=0.0, weight_decay=0.0, optimizer_state=None, shuffle=True):
        self.model, self.data, self.members = model, data, model.k
        self.shuffle = shuffle  # False: every member takes the batches in row order
        self.device = str(data.X.device)
        self.batch_size = min(batch_size, len(data.X))
        self.loss_name, self.alpha = loss, alpha
        self.optimizer = StackedOptimizer(optimizer, model.parameters(), [lr] * self.members if np.isscalar(lr) else list(lr),
                                          l2=weight_decay)
        if optimizer_state is not None:  # continue an earlier fit's moments (partial_fit), at this fit's lr
            lrs = self.optimizer.lr.clone()
            self.optimizer.load_state_dict(to_torch(optimizer_state))
            self.optimizer.lr = lrs
        self.t0 = self.optimizer.t  # the schedule counts this fit's steps only
        self.chunks = member_chunks(self.members, self.batch_size * max(model.sizes), data.X.device)
        self.factor = lr_schedule(schedule, epochs, math.ceil(len(data.X) / self.batch_size))
        self.generator = torch.Generator().manual_seed(seed)
        # active: 1 while a member trains, 0 once stopped (multiplies its lr)
        self.active = torch.ones(self.members, device=data.X.device)
        self.kept = [p.detach().clone() for p in model.parameters()]
        self.step = 0  # steps done in the running epoch
        self.epoch_rng = self.generator.get_state()
        self.partial_loss = None

    @property
    def lr(self) -> float:
        return float(self.optimizer.lr[0]) * self.factor(self.optimizer.t - self.t0)  # the next step's, as the others report it

    def train_epoch(self, should_stop) -> np.ndarray | None:
        """One pass for every member; returns each member's mean training loss."""
        self.model.train()
        X, Y, W = self.data.X, self.data.Y, self.data.W
        if not self.step:
            self.epoch_rng = self.generator.get_state()
        else:
            self.generator.set_state(self.epoch_rng)
        total = self.partial_loss if self.step else torch.zeros(self.members, device=X.device)
        for i, index in enumerate(self.batches(len(X), X.device)):
            if i < self.step:
                continue
            self.optimizer.zero_grad()
            parts, seen = [], []
            for members in self.chunks:
                rows_of = None if index is None else index[members]
                part, n = self.loss(rows(X, rows_of), rows(Y, rows_of), member_rows(W, members, rows_of), members)
                part.sum().backward()  # members share no parameters: each gets its own gradient
                parts.append(part.detach())
                seen.append(n.expand(part.shape))
            self.optimizer.step(self.factor(self.optimizer.t - self.t0), self.active)
            total += torch.cat(parts) * torch.cat(seen)
            self.step = i + 1
            if should_stop():
                self.partial_loss = total
                return None
        self.step, self.partial_loss = 0, None
        counted = torch.as_tensor(float(len(X))) if W is None else W.sum(-1).clamp_min(1e-30)
        return (total / counted).cpu().numpy().astype(np.float64)

    def loss(self, X, Y, W, members: slice):
        """Each member's (weighted) mean loss plus its L2 term ``[k]``, and the rows (or weight) averaged over."""
        device = self.active.device
        if W is None:
            rows = torch.tensor(float(X.shape[-2]), device=device)
        else:
            rows = W.sum(-1).clamp_min(1e-30)
        data_loss = member_loss(self.loss_name, self.model(X, members), Y, W)
        penalty = l2_penalty([w[members] for w in weight_matrices(self.model)], self.alpha, rows)
        return data_loss + penalty, rows

    def batches(self, n: int, device):
        if self.batch_size >= n:
            yield None  # full batch: every member sees all rows, no gather
            return
        if self.shuffle:
            order = torch.rand(self.members, n, generator=self.generator).argsort(dim=1).to(device)
        else:
            order = torch.arange(n, device=device).expand(self.members, n)
        yield from order.split(self.batch_size, dim=1)

    @torch.no_grad()
    def evaluate(self, chunk: int = 65536) -> dict:
        self.model.eval()
        X, Y, W = self.data.X_val, self.data.Y_val, self.data.W_val
        loss = torch.zeros(self.members, device=X.device)
        hits = torch.zeros(self.members, device=X.device)
        # Chunks sized for these rows, not the training batch: a small validation set goes in one pass.
        groups = member_chunks(self.members, min(chunk, len(X)) * max(self.model.sizes), X.device)
        for i in range(0, len(X), chunk):
            xb, yb = X[i : i + chunk], Y[i : i + chunk]
            wb = None if W is None else W[..., i : i + chunk]
            out = torch.cat([self.model(xb, members) for members in groups])
            loss += member_loss(self.loss_name, out, yb, wb) * (len(xb) if wb is None else wb.sum(-1))
            if self.loss_name == "cross_entropy":
                hits += ((out.argmax(dim=2) == yb) * (1 if wb is None else wb)).sum(dim=1)
        n = max(1, len(X)) if W is None else W.sum(-1).clamp_min(1e-30)
        scores = {"val_loss": (loss / n).cpu().numpy().astype(np.float64)}
        if self.loss_name == "cross_entropy":
            scores["val_accuracy"] = (hits / n).cpu().numpy().astype(np.float64)
        return scores

    def optimizer_state(self) -> dict:
        """The optimizer's moments as NumPy, for a later fit that continues this one (``optimizer_state=``)."""
        return to_numpy(self.optimizer.state_dict())

    def freeze(self, frozen: np.ndarray) -> None:
        self.active = torch.as_tensor(~np.asarray(frozen), dtype=torch.float32, device=self.active.device)

    def keep(self, members: np.ndarray) -> None:
        mask = torch.as_tensor(np.asarray(members), device=self.active.device)
        with torch.no_grad():
            for kept, p in zip(self.kept, self.model.parameters()):
                kept[mask] = p[mask]

    def restore(self, members: np.ndarray) -> None:
        mask = torch.as_tensor(np.asarray(members), device=self.active.device)
        with torch.no_grad():
            for kept, p in zip(self.kept, self.model.parameters()):
                p[mask] = kept[mask]

    def network_state(self, stacked: bool = True) -> dict:
        return network_state(self.model)

    def state_dict(self) -> dict:
        """Everything to continue exactly, as NumPy (a checkpoint holds no tensor)."""
        return to_numpy({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                         "kept": self.kept, "active": self.active, "step": self.step, "epoch_rng": self.epoch_rng,
                         "partial_loss": self.partial_loss, "torch_rng": torch.get_rng_state()})

    def load_state_dict(self, state: dict) -> None:
        state = to_torch(state)
        params = list(self.model.parameters())
        kept = list(state["kept"])
        if len(kept) != len(params) or any(tuple(k.shape) != tuple(p.shape) for k, p in zip(kept, params)):
            raise ValueError("the kept weights do not have the model's shapes")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        device = self.active.device
        self.kept = [k.to(device=device, dtype=p.dtype) for k, p in zip(kept, params)]
        self.step = int(state["step"])
        partial = state["partial_loss"]
        self.partial_loss = None if partial is None else torch.as_tensor(partial, device=device).reshape(self.members)
        self.epoch_rng = check_byte_state(state["epoch_rng"], self.generator.get_state())
        torch.set_rng_state(check_byte_state(state["torch_rng"], torch.get_rng_state()))


def rows(values, index):
    """``values`` at ``index`` (each member's batch rows, ``[k, B]``); all of them when index is None."""
    return values if index is None or values is None else values[index]


def member_rows(weights, members: slice, index):
    """The row weights of these members' batch rows: ``weights`` [n] is every member's, [K, n] each one's own."""
    if weights is None or weights.dim() == 1:
        return rows(weights, index)
    weights = weights[members]
    return weights if index is None else weights.gather(1, index)


def member_chunks(k: int, values_per_member: int, device) -> list[slice]:
    """Slices of the K members that go through one forward/backward together."""
    if device.type != "cpu":
        return [slice(0, k)]
    size = max(1, min(k, CPU_CHUNK_VALUES // max(1, values_per_member)))
    return [slice(i, min(i + size, k)) for i in range(0, k, size)]
