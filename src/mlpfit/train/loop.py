"""The training loop, readable top to bottom.

Data arrive as tensors already on the device. An epoch is one random permutation cut into
batches by indexing (no DataLoader: for in-memory tensors its per-item work costs more than the
model). Full-batch runs skip the permutation. Losses are summed on the device and read once per
epoch, so the GPU is not synchronized every step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from mlpfit.nn.losses import get_loss, loss_sum
from mlpfit.train.callbacks import Callback
from mlpfit.train.history import History
from mlpfit.train.optim import make_optimizer, make_schedule


@dataclass
class TrainData:
    X: torch.Tensor  # training inputs, scaled, on the device
    Y: torch.Tensor  # training targets: scaled floats, or class indices (long)
    X_val: torch.Tensor
    Y_val: torch.Tensor


class Loop:
    def __init__(self, model, data: TrainData, *, epochs, batch_size, lr, optimizer, loss, schedule, seed,
                 callbacks: list[Callback] = ()):
        self.model, self.data = model, data
        self.epochs, self.batch_size = epochs, min(batch_size, len(data.X))
        self.loss_name, self.loss_fn = loss, get_loss(loss)
        self.optimizer = make_optimizer(optimizer, model.parameters(), lr)
        self.is_lbfgs = optimizer == "lbfgs"
        steps = epochs * (1 if self.is_lbfgs else math.ceil(len(data.X) / self.batch_size))
        self.scheduler = make_schedule("constant" if self.is_lbfgs else schedule, self.optimizer, steps)
        # Shuffling has its own generator so the model's init RNG and the batches stay independent.
        self.generator = torch.Generator().manual_seed(seed)
        self.callbacks = list(callbacks)
        self.history = History()
        self.stop_training = False
        self.seconds = 0.0
        # Interrupt and resume (mlpfit.runfolder.checkpoint): where training stands, and a check after each step.
        self.should_stop = lambda: False  # True stops the loop after the current step (Ctrl-C)
        self.interrupted = False  # True when should_stop ended the run: the state is a checkpoint, not a result
        self.epoch, self.step = 1, 0  # the epoch running and the steps already done in it
        self.epoch_rng = None  # shuffling generator state at the epoch's start, so a resume replays its permutation
        self.partial_loss = None  # summed loss of the steps done in the current epoch

    def run(self) -> History:
        start = time.perf_counter() - self.seconds  # a resumed run also counts the time before the interrupt
        for cb in self.callbacks:
            cb.on_train_begin(self)
        for epoch in range(self.epoch, self.epochs + 1):
            self.epoch = epoch
            train_loss = self.train_epoch()
            if self.interrupted:
                self.seconds = time.perf_counter() - start
                return self.history  # mid-epoch: no logs, no on_train_end (best weights stay a checkpoint's)
            logs = {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": self.evaluate_loss(self.data.X_val, self.data.Y_val),
                "lr": self.optimizer.param_groups[0]["lr"],
                "seconds": time.perf_counter() - start,
            }
            if self.loss_name == "cross_entropy":
                logs["val_accuracy"] = self.evaluate_accuracy(self.data.X_val, self.data.Y_val)
            self.history.append(logs)
            for cb in self.callbacks:
                cb.on_epoch_end(self, logs)
            if self.stop_training:
                break
        for cb in self.callbacks:
            cb.on_train_end(self)
        self.seconds = time.perf_counter() - start
        return self.history

    def train_epoch(self) -> float:
        self.model.train()
        X, Y = self.data.X, self.data.Y
        if self.is_lbfgs:  # one step per epoch; its loss is kept for the epoch's logs across a resume
            if not self.step:
                self.partial_loss, self.step = self._lbfgs_step(X, Y), 1
                if self.should_stop():
                    self.interrupted = True
                    return math.nan
            loss, self.step, self.partial_loss = self.partial_loss, 0, None
            return loss
        self.epoch_rng = self.generator.get_state()  # a resumed run replays this epoch's permutation from here
        total = self.partial_loss if self.step else torch.zeros((), device=X.device)
        for i, index in enumerate(self._batches(len(X), X.device)):
            if i < self.step:
                continue  # done before an interrupt; the permutation is replayed only to reach the rest
            xb, yb = (X, Y) if index is None else (X[index], Y[index])
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            total += loss.detach() * len(xb)
            self.step = i + 1
            if self.should_stop():
                self.partial_loss, self.interrupted = total, True
                return math.nan
        self.step, self.partial_loss = 0, None
        return total.item() / len(X)

    def _batches(self, n: int, device):
        if self.batch_size >= n:
            yield None  # full batch: no permutation, no copy
            return
        order = torch.randperm(n, generator=self.generator).to(device)
        yield from order.split(self.batch_size)

    def _lbfgs_step(self, X, Y) -> float:
        def closure():
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(X), Y)
            loss.backward()
            return loss

        return float(self.optimizer.step(closure).detach())

    @torch.no_grad()
    def evaluate_accuracy(self, X, Y, chunk: int = 65536) -> float:
        self.model.eval()
        hits = sum((self.model(X[i : i + chunk]).argmax(dim=1) == Y[i : i + chunk]).sum() for i in range(0, len(X), chunk))
        return float(hits) / len(X)

    @torch.no_grad()
    def evaluate_loss(self, X, Y, chunk: int = 65536) -> float:
        self.model.eval()
        total = sum(loss_sum(self.loss_name, self.model(X[i : i + chunk]), Y[i : i + chunk]) for i in range(0, len(X), chunk))
        return float(total) / len(X)
