"""A trained network evaluated by the torch modules the engines train (MLP, EnsembleMLP), loaded with the
Network's own weights: the reference the NumPy forward pass and gradients are checked against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mlpfit.data.scaling import Standardizer
from mlpfit.engines.torch.model import MLP
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.engines.torch.state import network_state
from mlpfit.network.network import Network


def torch_module(network: Network) -> torch.nn.Module:
    """An MLP (or EnsembleMLP for stacked members) holding ``network``'s weights, in their dtype."""
    sizes = network.sizes
    if network.stacked:
        model = EnsembleMLP(sizes, network.activation, network.output_activation, members=network.members)
    else:
        model = MLP(sizes, network.activation, network.output_activation)
    model.to(torch.float64 if network.weights[0].dtype == np.float64 else torch.float32)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in network.state_arrays().items()})
    return model.eval()


def network_of(model: torch.nn.Module, x_scaler: Standardizer, y_scaler: Standardizer | None, inputs, outputs,
               **rest) -> Network:
    """The Network of a torch module's weights (what an engine ends its training as)."""
    return Network.from_state(network_state(model), isinstance(model, EnsembleMLP), activation=model.activation_name,
                              output_activation=model.output_activation_name, x_scaler=x_scaler,
                              y_scaler=y_scaler, inputs=list(inputs), outputs=list(outputs), **rest)


@dataclass
class TorchReference(Network):
    """The same network and prediction rules as a Network, with the layers run by the torch module (MLP or
    EnsembleMLP) loaded from its weights."""

    model: torch.nn.Module | None = None

    @torch.no_grad()
    def network_output(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        X = X.reshape(len(X), -1)
        dtype = next(self.model.parameters()).dtype
        return self.model(torch.as_tensor(self.x_scaler.transform(X), dtype=dtype)).double().numpy()


def reference(network: Network) -> TorchReference:
    """``network`` evaluated by torch's modules, to check the NumPy forward pass against."""
    return TorchReference(network.weights, network.biases, **network.metadata(), model=torch_module(network))
