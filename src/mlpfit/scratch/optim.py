"""Optimizers: given the gradients, move the parameters downhill.

The lesson's update is ``w -= lr * w.grad`` for every parameter: plain SGD. Momentum and Adam
only change *which step* is taken from the same gradients. Both follow torch.optim's formulas
exactly, so the NumPy engine and the torch engine take the same steps. ``step`` updates the
parameter arrays in place and keeps its running state per parameter name.
"""
import numpy as np

from mlpfit.errors import UsageError


class SGD:
    """w -= lr · g; with momentum, a running velocity v = μ·v + g is used instead of g."""

    def __init__(self, lr=0.01, momentum=0.0, weight_decay=0.0):
        if lr <= 0:
            raise UsageError(f"learning rate must be > 0, got {lr}")
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.velocity = {}  # name -> v, created at the first step (torch starts v at g)

    def step(self, params, grads):
        for name, p in params.items():
            g = grads[name] + self.weight_decay * p  # L2 penalty λ/2·w² adds λ·w to the gradient
            if self.momentum:
                v = self.velocity.get(name)
                v = g.copy() if v is None else self.momentum * v + g
                self.velocity[name] = v
                g = v
            p -= self.lr * g


class Adam:
    """Adam: a step along the gradient's running mean, scaled by its running RMS.

    m = β1·m + (1-β1)·g          the average direction (first moment)
    v = β2·v + (1-β2)·g²         the average squared size (second moment)
    m and v start at 0, so early on they are too small by 1-β^t; dividing by it corrects that:
    w -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps)
    Each parameter thus moves about lr per step, whatever the scale of its gradient.
    """

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr <= 0:
            raise UsageError(f"learning rate must be > 0, got {lr}")
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay
        self.beta1, self.beta2 = betas
        self.t = 0
        self.m, self.v = {}, {}

    def step(self, params, grads):
        self.t += 1
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        for name, p in params.items():
            g = grads[name] + self.weight_decay * p
            m = self.m[name] = self.beta1 * self.m.get(name, 0.0) + (1.0 - self.beta1) * g
            v = self.v[name] = self.beta2 * self.v.get(name, 0.0) + (1.0 - self.beta2) * g * g
            # torch's order of operations: denom = sqrt(v)/sqrt(c2) + eps, step = lr/c1
            denom = np.sqrt(v) / np.sqrt(correction2) + self.eps
            p -= (self.lr / correction1) * m / denom


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make_optimizer(name, lr, **options):
    """Build the optimizer registered under ``name`` (``"sgd"`` or ``"adam"``)."""
    try:
        cls = OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise UsageError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}"
        ) from None
    return cls(lr=lr, **options)
