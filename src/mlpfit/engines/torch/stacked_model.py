"""K MLPs of one shape as one batched model (stacked weights).

A small MLP leaves most of a CPU idle: each matmul is tiny and the time goes to Python and
operator dispatch. Stacking K members' weights as ``[K, out, in]`` turns K small matmuls into
one batched matmul (``torch.baddbmm``), so K members cost little more than one. Member k starts
exactly as a single fit with seed ``seeds[k]`` would (same ``nn.Linear`` init under
``torch.manual_seed``).

Saved names: ``members.layers.{i}.weight`` ``[K, out, in]`` and ``members.layers.{i}.bias`` ``[K, out]``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from mlpfit.engines.torch.model import ACTIVATIONS, MLP


class StackedLinear(nn.Module):
    """K independent Linear layers: ``weight [K, out, in]``, ``bias [K, out]``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)

    def forward(self, x: torch.Tensor, members: slice = slice(None)) -> torch.Tensor:
        # x: [K, N, in] (or [N, in], shared by every member) -> [K, N, out]; members picks a slice of K
        weight, bias = self.weight[members], self.bias[members]
        if x.dim() == 2:
            x = x.expand(weight.shape[0], *x.shape)
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


class StackedLayers(nn.Module):
    def __init__(self, layers: list[StackedLinear]):
        super().__init__()
        self.layers = nn.ModuleList(layers)


class EnsembleMLP(nn.Module):
    """K MLPs of the same sizes; ``forward`` returns ``[K, N, outputs]``."""

    def __init__(self, sizes: list[int], activation: str = "tanh", output_activation: str = "identity",
                 seeds: list[int] | None = None, members: int | None = None, dropout: float = 0.0):
        super().__init__()
        seeds = list(seeds) if seeds is not None else list(range(members or 1))
        self.sizes, self.seeds, self.dropout = list(sizes), seeds, dropout
        self.activation_name, self.output_activation_name = activation, output_activation
        singles = [seeded_mlp(sizes, activation, output_activation, seed) for seed in seeds]
        layers = [
            StackedLinear(torch.stack([m.layers[i].weight.detach() for m in singles]),
                          torch.stack([m.layers[i].bias.detach() for m in singles]))
            for i in range(len(sizes) - 1)
        ]
        self.members = StackedLayers(layers)
        self.activation = ACTIVATIONS[activation]()
        self.output_activation = ACTIVATIONS[output_activation]()

    @property
    def k(self) -> int:
        return len(self.seeds)

    def forward(self, x: torch.Tensor, members: slice = slice(None)) -> torch.Tensor:
        layers = self.members.layers
        for layer in layers[:-1]:
            x = self.activation(layer(x, members))
            if self.dropout:  # each member drops its own units: the masks are drawn per [K, N, width] value
                x = F.dropout(x, self.dropout, self.training)
        return self.output_activation(layers[-1](x, members))

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def member(self, k: int) -> MLP:
        """Member k as a plain :class:`MLP` (a copy), e.g. to save or inspect it alone."""
        single = MLP(self.sizes, self.activation_name, self.output_activation_name)
        with torch.no_grad():
            for mine, theirs in zip(single.layers, self.members.layers):
                mine.weight.copy_(theirs.weight[k])
                mine.bias.copy_(theirs.bias[k])
        return single.to(self.members.layers[0].weight.device)


def seeded_mlp(sizes, activation, output_activation, seed: int) -> MLP:
    """The MLP a single fit with this seed would start from; the global RNG is left untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLP(sizes, activation, output_activation)
