"""A trained network with everything needed to use it: scalers, names, classes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from mlpfit.data.scaling import Standardizer
from mlpfit.nn.numpy_fitted import NumpyFitted, linked, softmax


@dataclass
class FittedModel:
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

    def raw_output(self, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """The network's output for raw inputs: scaled targets, or logits for classification."""
        return self.network_output(X, chunk)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Regression: values in original units [n, outputs]. Classification: class indices [n]."""
        out = self.raw_output(X)
        if self.task == "classify":
            return out.argmax(axis=1)
        return self.y_scaler.inverse_transform(linked(out, self.link))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return softmax(self.raw_output(X))

    @property
    def members(self) -> int:
        return 1

    def as_numpy(self) -> NumpyFitted:
        """The same network as NumPy arrays (a copy): what the report's pictures and gradients read."""
        state = {name: value.copy() for name, value in self.state_arrays().items()}
        return NumpyFitted.from_state(
            state, stacked=any(name.startswith("members.") for name in state), activation=self.model.activation_name,
            output_activation=self.model.output_activation_name, x_scaler=self.x_scaler, y_scaler=self.y_scaler,
            inputs=self.inputs, outputs=self.outputs, task=self.task, classes=self.classes, encoding=self.encoding,
            link=self.link)


class FittedEnsemble(FittedModel):
    """A :class:`FittedModel` of K stacked members whose predictions are their mean; adds ``predict_std``.

    Regression averages values (the scalers are affine, so averaging scaled outputs is the same);
    classification averages probabilities, not logits.
    """

    @property
    def members(self) -> int:
        return self.model.k

    def member_outputs(self, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
        """Every member's raw output ``[K, n, outputs]`` (scaled targets, or logits)."""
        return self.network_output(X, chunk)

    def member_predictions(self, X: np.ndarray) -> np.ndarray:
        """Regression: each member's values in original units ``[K, n, outputs]`` (probabilities for bce)."""
        return self.y_scaler.inverse_transform(linked(self.member_outputs(X), self.link))

    def member_probabilities(self, X: np.ndarray) -> np.ndarray:
        """Classification: each member's class probabilities ``[K, n, classes]``."""
        return softmax(self.member_outputs(X))

    def raw_output(self, X: np.ndarray, chunk: int = 65536) -> np.ndarray:
        return self.member_outputs(X, chunk).mean(axis=0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.task == "classify":
            return self.predict_proba(X).argmax(axis=1)
        return self.member_predictions(X).mean(axis=0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.member_probabilities(X).mean(axis=0)

    def predict_std(self, X: np.ndarray) -> np.ndarray:
        """Spread of the members' predictions ``[n, outputs]`` (class probabilities for classification)."""
        if self.task == "classify":
            return self.member_probabilities(X).std(axis=0)
        return self.member_predictions(X).std(axis=0)
