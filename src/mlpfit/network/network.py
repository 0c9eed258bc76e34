"""A fitted network evaluated with NumPy alone, for prediction: ``mlpfit predict`` never imports torch.

Importing torch costs 1.5-2 s, far more than evaluating a small MLP on a few rows. This class
answers what :class:`~mlpfit.engines.torch.fitted.FittedModel` and ``FittedEnsemble`` answer for prediction
(``predict``, ``predict_proba``, ``predict_std``, the members' outputs) from the same weights, read
from the run folder as arrays: inputs are scaled in float64 and the layers run in the weights' own
precision, as the torch model does. The activations are mlpfit.scratch's (tested against torch's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mlpfit.data.scaling import Standardizer
from mlpfit.scratch.activations import get_activation

ROWS_PER_BLOCK = 8192  # rows computed at a time: bounded memory, and still a few large matrix products


class Predictions:
    """Predictions from ``network_output(X)``: ``[n, outputs]`` for one network, ``[K, n, outputs]`` for K
    stacked members (``stacked``), whose predictions are their mean. Regression averages values (the
    scalers are affine, so averaging scaled outputs is the same); classification averages probabilities,
    not logits. The one set of rules for the NumPy and the torch fitted models."""

    def raw_output(self, X: np.ndarray) -> np.ndarray:
        """The network's output for raw inputs: scaled targets, or logits (the members' mean)."""
        out = self.network_output(X)
        return out.mean(axis=0) if self.stacked else out

    def member_outputs(self, X: np.ndarray) -> np.ndarray:
        """Every member's raw output ``[K, n, outputs]`` (scaled targets, or logits)."""
        return self.network_output(X)

    def member_predictions(self, X: np.ndarray) -> np.ndarray:
        """Regression: each member's values in original units ``[K, n, outputs]`` (probabilities for bce)."""
        return self.y_scaler.inverse_transform(linked(self.network_output(X), self.link))

    def member_probabilities(self, X: np.ndarray) -> np.ndarray:
        """Classification: each member's class probabilities ``[K, n, classes]``."""
        return softmax(self.network_output(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Regression: values in original units [n, outputs]. Classification: class indices [n]."""
        if self.task == "classify":
            return self.predict_proba(X).argmax(axis=1)
        values = self.member_predictions(X)
        return values.mean(axis=0) if self.stacked else values

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        probabilities = softmax(self.network_output(X))
        return probabilities.mean(axis=0) if self.stacked else probabilities

    def predict_std(self, X: np.ndarray) -> np.ndarray:
        """Spread of the members' predictions ``[n, outputs]`` (class probabilities for classification)."""
        if self.task == "classify":
            return self.member_probabilities(X).std(axis=0)
        return self.member_predictions(X).std(axis=0)


@dataclass
class Network(Predictions):
    weights: list[np.ndarray]  # per layer [out, in], or [K, out, in] for K stacked members
    biases: list[np.ndarray]  # per layer [out], or [K, out]
    activation: str
    output_activation: str
    x_scaler: Standardizer
    y_scaler: Standardizer | None  # None for classification
    inputs: list[str]
    outputs: list[str]
    task: str = "regress"
    classes: list | None = None
    encoding: object = None  # a table's TableEncoding, as FittedModel holds it
    link: str = "identity"  # "logistic": logits of 0/1 targets (loss bce), predicted as probabilities

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], stacked: bool, **rest) -> "Network":
        return cls(*layer_arrays(state, stacked), **rest)

    @property
    def stacked(self) -> bool:
        """True for an ensemble's stacked weights ``[K, out, in]`` (even with K = 1)."""
        return self.weights[0].ndim == 3

    @property
    def members(self) -> int:
        return self.weights[0].shape[0] if self.stacked else 1

    @property
    def sizes(self) -> list[int]:
        """Units per layer, inputs first: ``[inputs, hidden..., outputs]``."""
        return [int(self.weights[0].shape[-1])] + [int(w.shape[-2]) for w in self.weights]

    @property
    def parameter_count(self) -> int:
        return sum(int(w.size) + int(b.size) for w, b in zip(self.weights, self.biases))

    def member(self, k: int) -> "Network":
        """Member k of an ensemble as a single network (its scalers and names shared); a single net is its member 0."""
        if not self.stacked:
            return self
        return replace(self, weights=[w[k] for w in self.weights], biases=[b[k] for b in self.biases])

    def as_numpy(self) -> "Network":
        """Itself: what the report asks of any fitted model (a torch FittedModel converts its weights)."""
        return self

    def in_float64(self) -> "Network":
        """A copy that computes in float64: a row's prediction then does not depend on the batch around it."""
        return replace(self, weights=[w.astype(np.float64) for w in self.weights],
                       biases=[b.astype(np.float64) for b in self.biases])

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The weights under the torch model's names (``members.`` first for stacked members): what
        model.safetensors holds, whichever engine trained them."""
        prefix = "members.layers" if self.stacked else "layers"
        return {f"{prefix}.{i}.{kind}": array for i, (w, b) in enumerate(zip(self.weights, self.biases))
                for kind, array in (("weight", w), ("bias", b))}

    def network_output(self, X: np.ndarray) -> np.ndarray:
        """``[n, outputs]``, or ``[K, n, outputs]`` for stacked members (scaled targets, or logits)."""
        X = np.asarray(X)
        X = X.reshape(len(X), -1)
        # A block of rows at a time: Fashion-MNIST's 70,000 images in float64 would be 440 MB per copy.
        starts = range(0, max(len(X), 1), ROWS_PER_BLOCK)
        blocks = [self.block_output(X[start : start + ROWS_PER_BLOCK]) for start in starts]
        return np.concatenate(blocks, axis=-2) if len(blocks) != 1 else blocks[0]

    def block_output(self, X: np.ndarray) -> np.ndarray:
        dtype = self.weights[0].dtype
        h = self.x_scaler.transform(np.asarray(X, dtype=np.float64)).astype(dtype)
        hidden, _ = get_activation(self.activation)
        last, _ = get_activation(self.output_activation)
        with np.errstate(all="ignore"):  # a diverged run's NaN weights give NaN, as torch would
            for i, (w, b) in enumerate(zip(self.weights, self.biases)):
                z = h @ np.swapaxes(w, -1, -2) + b[..., None, :]
                h = (last if i == len(self.weights) - 1 else hidden)(z).astype(dtype)
        return h.astype(np.float64)


def layer_arrays(state: dict[str, np.ndarray], stacked: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per-layer weights and biases from a state under torch's names (``members.`` first when stacked)."""
    prefix = "members.layers" if stacked else "layers"
    count = sum(1 for name in state if name.startswith(prefix) and name.endswith(".weight"))
    return [state[f"{prefix}.{i}.weight"] for i in range(count)], [state[f"{prefix}.{i}.bias"] for i in range(count)]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits along the last axis (shifted by the max, so large logits do not overflow)."""
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def linked(outputs: np.ndarray, link: str) -> np.ndarray:
    """The network's outputs through the link of its loss: probabilities from bce's logits, else as they are."""
    return sigmoid(outputs) if link == "logistic" else outputs


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities of 0/1 labels from their logits, without overflow for large |logits|."""
    return np.exp(-np.logaddexp(0.0, -logits))
