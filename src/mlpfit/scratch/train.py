"""The training loop, readable top to bottom: forward, loss, backward, step — once per batch.

Compared with the lesson's loop, everything is the same except that a whole batch goes through
at once (matrix form), and the gradients are computed by ``backward`` instead of autograd.
Nothing accumulates between steps, so there is no gradient to zero: each call returns fresh ones.
"""
import numpy as np

from mlpfit.errors import TrainingError, UsageError
from mlpfit.scratch.network import backward, forward, init_params, mse_loss
from mlpfit.scratch.optim import make_optimizer


def as_matrix(a, name):
    """Accept a list, a 1-D array (one column) or a 2-D array; return float64 [n, columns]."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or len(a) == 0:
        raise UsageError(f"{name} must be a non-empty 1-D or 2-D array, got shape {a.shape}")
    return a


def batches(n, batch_size, rng):
    """Row indices for one epoch: all rows in order (full batch) or a fresh shuffle cut in pieces."""
    if batch_size is None or batch_size >= n:
        return [np.arange(n)]
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def train_step(params, opt, x, t, activation="tanh", output_activation="identity"):
    """One step on the batch (x, t): forward, loss, backward, update. Returns the batch's loss.

    The same step trains ``fit`` below; mlpfit's NumPy engine (mlpfit.engines.numpy.net) does this
    arithmetic in preallocated float32 buffers, and its tests check it against this step.
    """
    y, cache = forward(params, x, activation, output_activation)  # 1. predict
    loss, dloss_dy = mse_loss(y, t)  # 2. how wrong, and which way
    grads = backward(params, cache, dloss_dy)  # 3. blame each parameter
    opt.step(params, grads)  # 4. nudge it downhill
    return loss


def fit(
    X,
    Y,
    sizes,
    activation="tanh",
    output_activation="identity",
    optimizer="adam",
    lr=1e-2,
    epochs=1000,
    batch_size=None,
    seed=0,
    callback=None,
):
    """Train a fresh MLP with layer widths ``sizes`` ([in, hidden..., out]) on X -> Y by MSE.

    Returns (params, history): the parameter dict and the mean training loss of every epoch
    (measured on each batch before its step, like the usual torch loop). Everything random
    (initial weights, shuffling) comes from one generator seeded with ``seed``, so the same call
    gives the same result. ``callback(epoch, loss)`` runs after every epoch; returning True stops.
    """
    X, Y = as_matrix(X, "X"), as_matrix(Y, "Y")
    sizes = [int(s) for s in sizes]
    if len(X) != len(Y):
        raise UsageError(f"X and Y must have the same number of rows, got {len(X)} and {len(Y)}")
    if sizes[0] != X.shape[1] or sizes[-1] != Y.shape[1]:
        raise UsageError(
            f"sizes {sizes} must start with X's {X.shape[1]} columns and end with Y's {Y.shape[1]}"
        )
    if batch_size is not None and batch_size <= 0:
        raise UsageError(f"batch size must be > 0, got {batch_size}")

    rng = np.random.default_rng(seed)
    params = init_params(sizes, rng)
    opt = make_optimizer(optimizer, lr)
    history = []
    for epoch in range(epochs):
        total = 0.0
        for rows in batches(len(X), batch_size, rng):
            total += train_step(params, opt, X[rows], Y[rows], activation, output_activation) * len(rows)
        epoch_loss = total / len(X)
        if not np.isfinite(epoch_loss):
            raise TrainingError(
                f"the loss became {epoch_loss} at epoch {epoch + 1}; lower the learning rate "
                f"(got {lr}) or scale the data"
            )
        history.append(epoch_loss)
        if callback is not None and callback(epoch, epoch_loss):
            break
    return params, history


def predict(params, X, activation="tanh", output_activation="identity"):
    """The trained net's outputs for X, without keeping the cache."""
    y, _ = forward(params, as_matrix(X, "X"), activation, output_activation)
    return y
