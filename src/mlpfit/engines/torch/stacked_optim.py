"""Adam / AdamW / SGD-momentum on stacked ``[K, ...]`` tensors, with a learning rate per member.

torch's optimizers take one lr per parameter group, and a stacked tensor is one parameter, so
the per-member lr is a ``[K]`` vector broadcast over each slice. The update is the same
arithmetic as torch.optim.Adam (tests compare them), with the same defaults as train/optim.py.
"""

from __future__ import annotations

import math

import torch

from mlpfit.errors import UsageError

STACKED_OPTIMIZERS = ("adam", "adamw", "sgd")  # the optimizers with a stacked, per-member-lr implementation


class StackedOptimizer:
    def __init__(self, name: str, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4, momentum=0.9,
                 l2=0.0):
        if name not in STACKED_OPTIMIZERS:
            raise UsageError(f"--optimizer {name!r} has no batched version: use {', '.join(STACKED_OPTIMIZERS)} "
                             "with --ensemble or a sweep")
        self.name, self.params = name, list(params)
        self.lr = torch.as_tensor(lr, dtype=torch.float32, device=self.params[0].device).reshape(-1)
        if l2 and name == "adamw":  # as torch's: a given weight decay replaces adamw's decoupled default
            weight_decay, l2 = l2, 0.0
        self.betas, self.eps, self.weight_decay, self.momentum = betas, eps, weight_decay, momentum
        self.l2 = l2  # L2 penalty: l2·w added to the gradient (torch's weight_decay for adam and sgd)
        self.state = [[torch.zeros_like(p), torch.zeros_like(p)] for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, factor: float, active: torch.Tensor) -> None:
        """One update with lr = base lr x schedule ``factor``, zero for members not ``active``."""
        self.t += 1
        lr = self.lr * factor * active
        for p, (m, v) in zip(self.params, self.state):
            rate = lr.view(-1, *([1] * (p.dim() - 1)))
            if self.l2:
                p.grad.add_(p.detach(), alpha=self.l2)
            if self.name == "sgd":
                m.mul_(self.momentum if self.t > 1 else 0.0).add_(p.grad)
                p.sub_(rate * m)
                continue
            if self.name == "adamw":
                p.mul_(1 - rate * self.weight_decay)
            b1, b2 = self.betas
            m.lerp_(p.grad, 1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(1 - b2**self.t)).add_(self.eps)
            p.sub_(rate / (1 - b1**self.t) * m / denom)

    def state_dict(self) -> dict:
        return {"t": self.t, "lr": self.lr.clone(), "moments": [[m.clone(), v.clone()] for m, v in self.state]}

    def load_state_dict(self, state: dict) -> None:
        """Take a saved state after checking every moment has its parameter's shape (a wrong one would
        broadcast silently or corrupt the update)."""
        moments = state["moments"]
        if len(moments) != len(self.params):
            raise ValueError(f"{len(moments)} optimizer moments for {len(self.params)} parameters")
        for p, pair in zip(self.params, moments):
            for moment in pair:
                if tuple(moment.shape) != tuple(p.shape):
                    raise ValueError(f"optimizer moment of shape {tuple(moment.shape)} for a parameter of shape {tuple(p.shape)}")
        if tuple(state["lr"].shape) != tuple(self.lr.shape):
            raise ValueError(f"{tuple(state['lr'].shape)} learning rates for {tuple(self.lr.shape)} members")
        self.t = int(state["t"])
        self.lr = state["lr"].to(self.lr)
        self.state = [[m.to(p), v.to(p)] for p, (m, v) in zip(self.params, moments)]
