"""torch.optim's update rules over ONE flat parameter vector, each a few vectorized in-place calls.

The formulas, their order of operations and the defaults are torch's (torch/optim/*.py, single
tensor path), so the NumPy engine takes the steps the torch engine takes: Adam and AdamW with
betas (0.9, 0.999), eps 1e-8; RAdam (same betas); RMSprop with alpha 0.99, eps 1e-8; SGD with
mlpfit's momentum 0.9 (train/optim.py). ``weight_decay`` is torch's: an L2 term λ·w added to the
gradient, except AdamW's decoupled shrink w ← w·(1 - lr·λ), whose mlpfit default is 1e-4.

An optimizer owns its moments (arrays of the parameters' shape) and a scratch array; the learning
rate comes with every step (the schedule sets it). The gradient is used as scratch too (it is
recomputed every step). Parameters of shape [K, P] are K members stepping together: every formula is
elementwise, the step count ``t`` is one per member (shape [K, 1]) and so may the learning rate be (a
sweep's members differ in it), so member k's update is the one it would take alone; ``member_state(k)`` is its state as a single optimizer's.
"""

from __future__ import annotations

import copy

import numpy as np

ADAMW_DECAY = 1e-4  # mlpfit's AdamW default (train/optim.py), replaced by a given --weight-decay


class FlatOptimizer:
    moments: tuple[str, ...] = ()

    def __init__(self, size, dtype=np.float32, weight_decay: float = 0.0):
        self.shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)  # [P] or [K, P]
        self.dtype = np.dtype(dtype)
        self.weight_decay = float(weight_decay)
        self.steps = np.zeros((*self.shape[:-1], 1), np.int64)  # steps taken, one per member
        for name in self.moments:
            setattr(self, name, np.zeros(self.shape, dtype))
        self.tmp = np.empty(self.shape, dtype)

    @property
    def t(self) -> int:
        """Steps taken (the first member's: members step together)."""
        return int(self.steps.reshape(-1)[0])

    def factor(self, values) -> np.ndarray:
        """Per-member step factors (float64, [K, 1]) in the parameters' dtype, as a Python float would be cast."""
        return np.asarray(values).astype(self.dtype)

    def add_l2(self, p: np.ndarray, g: np.ndarray) -> None:
        if self.weight_decay:
            np.multiply(p, self.weight_decay, out=self.tmp)
            g += self.tmp  # torch: grad = grad.add(param, alpha=weight_decay)

    def state_dict(self) -> dict:
        """A single optimizer's state (parameters of shape [P])."""
        return self.member_state(())

    def load_state_dict(self, state: dict) -> None:
        """A single optimizer's state (parameters of shape [P]); a [K, P] one takes load_member_states."""
        if len(self.shape) != 1:
            raise ValueError("an optimizer of several members loads one state per member (load_member_states)")
        self.load_member_states([state])

    def member_state(self, k) -> dict:
        """Member k's state (k = () for a single optimizer): its step count and moment rows, copies."""
        return {"t": int(self.steps[k].reshape(-1)[0]), **{name: getattr(self, name)[k].copy() for name in self.moments}}

    def load_member_states(self, states: list) -> None:
        """Take saved per-member states (one for a single optimizer) after checking every one is this
        optimizer's, of a member's parameter length; nothing changes when one is wrong."""
        members = [()] if len(self.shape) == 1 else list(range(self.shape[0]))
        row = self.shape[-1:]
        checked = []
        for state in states:
            if not isinstance(state, dict) or set(state) != {"t", *self.moments}:
                got = sorted(state) if isinstance(state, dict) else type(state).__name__
                raise ValueError(f"optimizer state with fields {got}, expected {sorted(['t', *self.moments])}")
            arrays = {}
            for name in self.moments:
                value = np.asarray(state[name])
                if value.shape != row or not np.issubdtype(value.dtype, np.number):
                    raise ValueError(f"optimizer {name} of shape {value.shape} ({value.dtype}), expected {row}")
                arrays[name] = value
            t = state["t"]
            if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
                raise ValueError(f"optimizer step count {t!r} is not a count")
            checked.append((int(t), arrays))
        if len(checked) != len(members):
            raise ValueError(f"{len(checked)} optimizer state(s) for {len(members)} member(s)")
        for k, (t, arrays) in zip(members, checked):
            self.steps[k] = t
            for name, value in arrays.items():
                getattr(self, name)[k] = value

    def part(self, members: slice) -> FlatOptimizer:
        """This optimizer over a contiguous slice of its members ([K, P] parameters): the same rules over views
        of their rows of the state, so stepping the part steps those members (threads step their members side
        by side). Every formula is elementwise per member, so the slices' steps are the whole's, bit for bit."""
        part = copy.copy(self)
        part.steps, part.tmp = self.steps[members], self.tmp[members]
        for name in self.moments:
            setattr(part, name, getattr(self, name)[members])
        part.shape = part.tmp.shape
        return part

    def rows(self, members: np.ndarray) -> tuple:
        """Copies of some members' state (a [K, P] optimizer), for put_rows to write back."""
        return self.steps[members].copy(), [getattr(self, name)[members].copy() for name in self.moments]

    def put_rows(self, members: np.ndarray, saved: tuple) -> None:
        steps, moments = saved
        self.steps[members] = steps
        for name, value in zip(self.moments, moments):
            getattr(self, name)[members] = value


class SGD(FlatOptimizer):
    """buf = μ·buf + g (buf = g at the first step); w -= lr·buf."""

    moments = ("momentum_buffer",)
    momentum = 0.9

    def step(self, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        self.add_l2(p, g)
        buf = self.momentum_buffer
        first = self.steps == 0  # [K, 1]: members taking their first step start the buffer at g
        buf *= self.momentum
        buf += g
        if first.any():
            np.copyto(buf, g, where=first)
        self.steps += 1
        np.multiply(buf, self.factor(lr), out=self.tmp)
        p -= self.tmp


class Moments(FlatOptimizer):
    """Adam's two running moments, stacked as one [2, P] array so both update in the same few calls."""

    moments = ("exp_avg", "exp_avg_sq")
    betas, eps = (0.9, 0.999), 1e-8

    def __init__(self, size, dtype=np.float32, weight_decay: float = 0.0):
        super().__init__(size, dtype, weight_decay)
        self.pair = np.zeros((2, *self.shape), dtype)  # [m, v]
        self.exp_avg, self.exp_avg_sq = self.pair  # views: loading a state writes into the pair
        self.incoming = np.empty((2, *self.shape), dtype)  # [g, g²]
        b1, b2 = self.betas
        ones = (1,) * len(self.shape)
        self.decay = np.array([b1, b2], dtype).reshape(2, *ones)
        self.weight = np.array([1.0 - b1, 1.0 - b2], dtype).reshape(2, *ones)

    def part(self, members: slice) -> Moments:
        part = super().part(members)
        part.pair, part.incoming = self.pair[:, members], self.incoming[:, members]
        part.exp_avg, part.exp_avg_sq = part.pair
        return part

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
            p *= self.factor(1.0 - np.asarray(lr) * self.weight_decay)
        else:
            self.add_l2(p, g)
        self.steps += 1
        self.update_moments(g)
        # torch: w -= lr/c1 · m / (√v/√c2 + eps); the same with √c2 moved out of the denominator
        # (one call less: lr·√c2/c1 · m / (√v + eps·√c2))
        t = self.steps.astype(np.float64)
        root2 = np.sqrt(1.0 - b2**t)
        np.sqrt(v, out=tmp)
        tmp += self.factor(self.eps * root2)
        np.divide(m, tmp, out=tmp)
        tmp *= self.factor(lr * root2 / (1.0 - b1**t))
        p -= tmp


class AdamW(Adam):
    decoupled = True

    def __init__(self, size, dtype=np.float32, weight_decay: float = 0.0):
        super().__init__(size, dtype, weight_decay or ADAMW_DECAY)


class RAdam(Moments):
    """Adam whose adaptive step is switched on (and rectified) once the variance estimate is reliable."""

    def step(self, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        b1, b2 = self.betas
        tmp, m, v = self.tmp, self.exp_avg, self.exp_avg_sq
        self.add_l2(p, g)
        self.steps += 1
        self.update_moments(g)
        t = self.steps.astype(np.float64)
        correction1, correction2 = 1.0 - b1**t, 1.0 - b2**t
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2**t / correction2
        adaptive = rho_t > 5.0  # [K, 1]: members whose variance estimate is reliable
        if adaptive.any():
            with np.errstate(invalid="ignore"):  # rows not adaptive yet: their NaN factor is never used
                rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            np.sqrt(v, out=tmp)
            tmp += self.eps
            np.divide(self.factor(np.sqrt(correction2)), tmp, out=tmp)  # adaptive lr
            tmp *= m
            tmp *= self.factor(lr * rect / correction1)
        if not adaptive.all():
            np.copyto(tmp, m * self.factor(lr / correction1), where=~adaptive)
        p -= tmp


class RMSprop(FlatOptimizer):
    """s ← α·s + (1-α)·g²; w -= lr · g / (√s + eps)."""

    moments = ("square_avg",)
    alpha, eps = 0.99, 1e-8

    def step(self, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        tmp, s = self.tmp, self.square_avg
        self.add_l2(p, g)
        self.steps += 1
        s *= self.alpha
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.alpha
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.factor(lr)
        p -= tmp


OPTIMIZERS = {"adam": Adam, "adamw": AdamW, "radam": RAdam, "rmsprop": RMSprop, "sgd": SGD}


def make_optimizer(name: str, size, dtype=np.float32, weight_decay: float = 0.0) -> FlatOptimizer:
    """``size``: P for one parameter vector, or (K, P) for K members stepping together."""
    return OPTIMIZERS[name](size, dtype, weight_decay)
