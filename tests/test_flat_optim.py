"""The flat optimizers take torch.optim's steps (as mlpfit's torch engine builds them) from the same
gradients, with weight decay and a learning rate that changes every step; their state round-trips."""

import numpy as np
import pytest
import torch

from mlpfit.engines.numpy.optim import OPTIMIZERS, make_optimizer
from mlpfit.engines.torch.optim import make_optimizer as make_torch_optimizer

SIZE = 40
STEPS = 12


def gradients(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 10.0 ** rng.integers(-3, 2), SIZE) for _ in range(STEPS)]


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_steps_equal_torch_optim(name, weight_decay):
    start = np.random.default_rng(1).normal(0, 1, SIZE)
    flat, optimizer = start.copy(), make_optimizer(name, SIZE, np.float64, weight_decay)
    param = torch.nn.Parameter(torch.tensor(start))
    reference = make_torch_optimizer(name, [param], 0.01, weight_decay)
    for step, g in enumerate(gradients()):
        lr = 0.01 * (1.0 + 0.3 * np.sin(step))  # a schedule: another rate each step
        for group in reference.param_groups:
            group["lr"] = lr
        param.grad = torch.tensor(g)
        reference.step()
        optimizer.step(flat, g.copy(), lr)
        np.testing.assert_allclose(flat, param.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"step {step + 1}")
    assert not np.allclose(flat, start)  # it moved


def test_adamw_keeps_mlpfits_decoupled_default_unless_given():
    assert make_optimizer("adamw", 3).weight_decay == 1e-4
    assert make_optimizer("adamw", 3, weight_decay=0.02).weight_decay == 0.02
    assert make_optimizer("adam", 3).weight_decay == 0.0


def test_sgd_uses_momentum_09_like_the_torch_engine():
    p, optimizer = np.zeros(2), make_optimizer("sgd", 2, np.float64)
    optimizer.step(p, np.ones(2), 1.0)
    optimizer.step(p, np.ones(2), 1.0)
    np.testing.assert_allclose(p, [-2.9, -2.9])  # -1, then -(0.9·1 + 1)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_round_trip_continues_exactly(name):
    grads = gradients(2)
    a, b = np.ones(SIZE), np.ones(SIZE)
    first = make_optimizer(name, SIZE, np.float64)
    for g in grads[:5]:
        first.step(a, g.copy(), 0.01)
    second = make_optimizer(name, SIZE, np.float64)
    second.load_state_dict(first.state_dict())
    b[...] = a
    for g in grads[5:]:
        first.step(a, g.copy(), 0.01)
        second.step(b, g.copy(), 0.01)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_bad_state_is_a_value_error(name):
    optimizer = make_optimizer(name, SIZE)
    good = optimizer.state_dict()
    moment = next(k for k in good if k != "t")
    bad_states = [
        {**good, moment: np.zeros(SIZE + 1)},  # wrong shape
        {**good, moment: np.array(["x"] * SIZE)},  # not numbers
        {**good, "t": -1},
        {**good, "t": "3"},
        {k: v for k, v in good.items() if k != moment},  # a moment missing
        {**good, "extra": 1},
        ["not", "a", "dict"],
    ]
    for bad in bad_states:
        with pytest.raises(ValueError):
            optimizer.load_state_dict(bad)
    np.testing.assert_array_equal(getattr(optimizer, moment), 0.0)  # nothing half-loaded


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_parts_over_member_slices_step_as_the_whole(name):
    """Threads step their members' rows through parts of one optimizer: bit for bit the whole's steps."""
    members, rng = 5, np.random.default_rng(3)
    start = rng.normal(0, 1, (members, SIZE)).astype(np.float32)
    whole, split = start.copy(), start.copy()
    one, other = (make_optimizer(name, (members, SIZE), np.float32, 0.01) for _ in range(2))
    parts = [(slice(0, 2), other.part(slice(0, 2))), (slice(2, 5), other.part(slice(2, 5)))]
    for step, g in enumerate(gradients()):
        grads = np.outer(np.linspace(0.5, 2.0, members), g).astype(np.float32)
        lr = np.linspace(0.005, 0.02, members)[:, None] * (1.0 + 0.3 * np.sin(step))  # [K, 1]: each member's rate
        one.step(whole, grads.copy(), lr)
        for rows, part in parts:
            part.step(split[rows], grads[rows].copy(), lr[rows])
    np.testing.assert_array_equal(split, whole)
    for k in range(members):
        for field, value in one.member_state(k).items():
            np.testing.assert_array_equal(other.member_state(k)[field], value)
