"""A trained network with everything needed to use it: scalers, names, classes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from mlpfit.data.scaling import Standardizer
from mlpfit.network.network import Network, Predictions


@dataclass
class FittedModel(Predictions):
    model: torch.nn.Module
    x_scaler: Standardizer
    y_scaler: Standardizer | None  # None for classification
    inputs: list[str]
    outputs: list[str]
    task: str = "regress"
    classes: list | None = None
    encoding: object = None  # a table's TableEncoding (raw columns -> inputs), saved as encoding.json; else None
    link: str = "identity"  # "logistic": the outputs are logits of 0/1 targets (loss bce); predict gives probabilities

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def sizes(self) -> list[int]:
        return list(self.model.sizes)

    @property
    def parameter_count(self) -> int:
        return self.model.parameter_count

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The weights as NumPy arrays under the model's names (what model.safetensors holds)."""
        return {k: v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}

    def in_float64(self) -> "FittedModel":
        """A copy that computes in float64: a row's prediction then does not depend on the batch around it."""
        return dataclasses.replace(self, model=self.model.double())

    @torch.no_grad()
    def network_output(self, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """The network's output for raw inputs, in chunks: ``[n, outputs]``, or ``[K, n, outputs]`` for K
        stacked members (scaled targets, or logits for classification)."""
        self.model.eval()
        X = np.asarray(X, dtype=np.float64)
        X = X.reshape(len(X), -1) if len(X) else X.reshape(0, self.model.sizes[0])
        dtype = next(self.model.parameters()).dtype
        parts = []
        for i in range(0, len(X), chunk):
            xb = torch.as_tensor(self.x_scaler.transform(X[i : i + chunk]), dtype=dtype, device=self.device)
            parts.append(self.model(xb).double().cpu().numpy())
        if not parts:  # no rows: the shape the network would give
            return np.zeros((*([self.members] if self.members > 1 else []), 0, self.model.sizes[-1]))
        return np.concatenate(parts, axis=-2)

    @property
    def stacked(self) -> bool:
        return False

    @property
    def members(self) -> int:
        return 1

    def as_numpy(self) -> Network:
        """The same network as NumPy arrays (a copy): what the report's pictures and gradients read."""
        state = {name: value.copy() for name, value in self.state_arrays().items()}
        return Network.from_state(
            state, stacked=self.stacked, activation=self.model.activation_name,
            output_activation=self.model.output_activation_name, x_scaler=self.x_scaler, y_scaler=self.y_scaler,
            inputs=self.inputs, outputs=self.outputs, task=self.task, classes=self.classes, encoding=self.encoding,
            link=self.link)


class FittedEnsemble(FittedModel):
    """A :class:`FittedModel` of K stacked members whose predictions are their mean (the rules are
    :class:`~mlpfit.network.network.Predictions`')."""

    @property
    def members(self) -> int:
        return self.model.k

    @property
    def stacked(self) -> bool:
        return True
