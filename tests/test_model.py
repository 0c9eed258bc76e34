import pytest
import torch

from mlpfit.engines.torch.model import ACTIVATIONS, MLP
from mlpfit.network.sizes import count_parameters


def test_shapes_and_parameter_count():
    model = MLP([3, 16, 8, 2], "tanh")
    assert model(torch.zeros(5, 3)).shape == (5, 2)
    assert model.parameter_count == count_parameters([3, 16, 8, 2]) == 3 * 16 + 16 + 16 * 8 + 8 + 8 * 2 + 2


def test_no_hidden_layer_is_one_linear_map():
    model = MLP([2, 1])
    assert len(model.layers) == 1 and list(model.state_dict()) == ["layers.0.weight", "layers.0.bias"]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_builds_and_runs(name):
    out = MLP([1, 4, 1], name, name)(torch.linspace(-3, 3, 7)[:, None])
    assert torch.isfinite(out).all()


def test_output_activation_bounds_the_output():
    model = MLP([1, 4, 1], "tanh", "sigmoid")
    out = model(torch.linspace(-100, 100, 50)[:, None])
    assert (out > 0).all() and (out < 1).all()
