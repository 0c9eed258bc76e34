"""The multilayer perceptron: Linear layers with one activation between them.

Parameters are named ``layers.{i}.weight`` / ``layers.{i}.bias`` (i counts Linear layers only),
the same names the NumPy engine uses, so a run folder does not care which engine wrote it.
"""

from __future__ import annotations

import torch
from torch import nn

# name -> module factory. The list of valid names is this dict's keys (see config.ACTIVATIONS).
ACTIVATIONS: dict[str, type[nn.Module] | callable] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}


class MLP(nn.Module):
    """Linear layers with one activation between them and an optional one on the output."""

    def __init__(self, sizes: list[int], activation: str = "tanh", output_activation: str = "identity",
                 dropout: float = 0.0):
        super().__init__()
        self.sizes = list(sizes)
        self.dropout = dropout  # applied after each hidden activation while training; no parameters
        self.activation_name = activation
        self.output_activation_name = output_activation
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = ACTIVATIONS[activation]()
        self.output_activation = ACTIVATIONS[output_activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
            if self.dropout:
                x = nn.functional.dropout(x, self.dropout, self.training)
        return self.output_activation(self.layers[-1](x))

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
