"""torch.optim's update rules over ONE flat parameter vector, each a few vectorized in-place calls.

The formulas, their order of operations and the defaults are torch's (torch/optim/*.py, single
tensor path), so the NumPy engine takes the steps the torch engine takes: Adam and AdamW with
betas (0.9, 0.999), eps 1e-8; RAdam (same betas); RMSprop with alpha 0.99, eps 1e-8; SGD with
mlpfit's momentum 0.9 (train/optim.py). ``weight_decay`` is torch's: an L2 term λ·w added to the
gradient, except AdamW's decoupled shrink w ← w·(1 - lr·λ), whose mlpfit default is 1e-4.

An optimizer owns its moments (one vector each, the parameters' length) and a scratch vector; the
learning rate comes with every step (the schedule sets it). The gradient vector is used as
scratch too (it is recomputed every step).
"""

from __future__ import annotations

import math

import numpy as np

ADAMW_DECAY = 1e-4  # mlpfit's AdamW default (train/optim.py), replaced by a given --weight-decay


class FlatOptimizer:
    moments: tuple[str, ...] = ()

    def __init__(self, size: int, dtype=np.float32, weight_decay: float = 0.0):
        self.weight_decay = float(weight_decay)
        self.t = 0  # steps taken
        for name in self.moments:
            setattr(self, name, np.zeros(size, dtype))
        self.tmp = np.empty(size, dtype)

    def add_l2(self, p: np.ndarray, g: np.ndarray) -> None:
        if self.weight_decay:
            np.multiply(p, self.weight_decay, out=self.tmp)
            g += self.tmp  # torch: grad = grad.add(param, alpha=weight_decay)

    def state_dict(self) -> dict:
        return {"t": self.t, **{name: getattr(self, name).copy() for name in self.moments}}

    def load_state_dict(self, state: dict) -> None:
        """Take saved moments after checking they are this optimizer's, of the parameters' length."""
        if not isinstance(state, dict) or set(state) != {"t", *self.moments}:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"optimizer state with fields {got}, expected {sorted(['t', *self.moments])}")
        arrays = {}
        for name in self.moments:
            mine, value = getattr(self, name), np.asarray(state[name])
            if value.shape != mine.shape or not np.issubdtype(value.dtype, np.number):
                raise ValueError(f"optimizer {name} of shape {value.shape} ({value.dtype}), expected {mine.shape}")
            arrays[name] = value
        t = state["t"]
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
            raise ValueError(f"optimizer step count {t!r} is not a count")
        for name, value in arrays.items():
            getattr(self, name)[...] = value
        self.t = int(t)


class SGD(FlatOptimizer):
    """buf = μ·buf + g (buf = g at the first step); w -= lr·buf."""

    moments = ("momentum_buffer",)
    momentum = 0.9

    def step(self, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        self.add_l2(p, g)
        buf = self.momentum_buffer
        if self.t:
            buf *= self.momentum
            buf += g
        else:
            buf[...] = g
        self.t += 1
        np.multiply(buf, lr, out=self.tmp)
        p -= self.tmp


class Moments(FlatOptimizer):
    """Adam's two running moments, stacked as one [2, P] array so both update in the same few calls."""

    moments = ("exp_avg", "exp_avg_sq")
    betas, eps = (0.9, 0.999), 1e-8

    def __init__(self, size: int, dtype=np.float32, weight_decay: float = 0.0):
        super().__init__(size, dtype, weight_decay)
        self.pair = np.zeros((2, size), dtype)  # [m, v]
        self.exp_avg, self.exp_avg_sq = self.pair  # views: loading a state writes into the pair
        self.incoming = np.empty((2, size), dtype)  # [g, g²]
        b1, b2 = self.betas
        self.decay = np.array([[b1], [b2]], dtype)
        self.weight = np.array([[1.0 - b1], [1.0 - b2]], dtype)

    def update_moments(self, g: np.ndarray) -> None:
        """m ← β1·m + (1-β1)·g and v ← β2·v + (1-β2)·g² (torch writes the first as lerp(m, g, 1-β1))."""
        incoming = self.incoming
        incoming[0] = g
        np.multiply(g, g, out=incoming[1])
        incoming *= self.weight
        self.pair *= self.decay
        self.pair += incoming


class Adam(Moments):
    """m, v as above; w -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps)."""

    decoupled = False

    def step(self, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        b1, b2 = self.betas
        tmp, m, v = self.tmp, self.exp_avg, self.exp_avg_sq
        if self.decoupled:  # AdamW
            p *= 1.0 - lr * self.weight_decay
        else:
            self.add_l2(p, g)
        self.t += 1
        self.update_moments(g)
        # torch: w -= lr/c1 · m / (√v/√c2 + eps); the same with √c2 moved out of the denominator
        # (one call less: lr·√c2/c1 · m / (√v + eps·√c2))
        root2 = math.sqrt(1.0 - b2**self.t)
        np.sqrt(v, out=tmp)
        tmp += self.eps * root2
        np.divide(m, tmp, out=tmp)
        tmp *= lr * root2 / (1.0 - b1**self.t)
        p -= tmp


class AdamW(Adam):
    decoupled = True

    def __init__(self, size: int, dtype=np.float32, weight_decay: float = 0.0):
        super().__init__(size, dtype, weight_decay or ADAMW_DECAY)


class RAdam(Moments):
    """Adam whose adaptive step is switched on (and rectified) once the variance estimate is reliable."""

    def step(self, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        b1, b2 = self.betas
        tmp, m, v = self.tmp, self.exp_avg, self.exp_avg_sq
        self.add_l2(p, g)
        self.t += 1
        self.update_moments(g)
        correction1, correction2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * self.t * b2**self.t / correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            np.sqrt(v, out=tmp)
            tmp += self.eps
            np.divide(math.sqrt(correction2), tmp, out=tmp)  # adaptive lr
            tmp *= m
            tmp *= lr * rect / correction1
        else:
            np.multiply(m, lr / correction1, out=tmp)
        p -= tmp


class RMSprop(FlatOptimizer):
    """s ← α·s + (1-α)·g²; w -= lr · g / (√s + eps)."""

    moments = ("square_avg",)
    alpha, eps = 0.99, 1e-8

    def step(self, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        tmp, s = self.tmp, self.square_avg
        self.add_l2(p, g)
        self.t += 1
        s *= self.alpha
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.alpha
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        p -= tmp


OPTIMIZERS = {"adam": Adam, "adamw": AdamW, "radam": RAdam, "rmsprop": RMSprop, "sgd": SGD}


def make_optimizer(name: str, size: int, dtype=np.float32, weight_decay: float = 0.0) -> FlatOptimizer:
    return OPTIMIZERS[name](size, dtype, weight_decay)
