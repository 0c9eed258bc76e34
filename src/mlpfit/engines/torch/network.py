"""A trained network evaluated by torch on a device (``mlpfit predict --device cuda``): the same value and the
same prediction rules as :class:`mlpfit.network.Network`, only the layers run where torch computes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mlpfit.engines.torch.model import ACTIVATIONS
from mlpfit.network.network import Network


@dataclass
class DeviceNetwork(Network):
    device: str = "cpu"

    @torch.no_grad()
    def block_output(self, X: np.ndarray) -> np.ndarray:
        device = torch.device(self.device)
        dtype = torch.float64 if self.weights[0].dtype == np.float64 else torch.float32
        h = torch.as_tensor(self.x_scaler.transform(np.asarray(X, dtype=np.float64)), dtype=dtype, device=device)
        hidden, last = ACTIVATIONS[self.activation](), ACTIVATIONS[self.output_activation]()
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            w = torch.as_tensor(w, dtype=dtype, device=device)
            b = torch.as_tensor(b, dtype=dtype, device=device)
            h = (last if i == len(self.weights) - 1 else hidden)(h @ w.transpose(-1, -2) + b.unsqueeze(-2))
        return h.double().cpu().numpy()


def on_device(network: Network, device: str) -> DeviceNetwork:
    return DeviceNetwork(network.weights, network.biases, **network.metadata(), device=device)
