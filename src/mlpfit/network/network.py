"""The trained network as one plain NumPy value: per-layer weights and biases (stacked for ensemble members),
activations, input and target scalers, names, classes, the table's encoding and the output link.

Every engine ends its training as a :class:`Network`, and every reader takes one: summary, report, explain,
predict, export, the estimators, sweeps and the playground. Inputs are scaled in float64 and the layers run in
the weights' own precision, as the engines do; the activations are mlpfit.scratch's (tested against torch's).
Evaluating needs NumPy alone, so ``mlpfit predict`` answers without importing torch (1.5-2 s).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from mlpfit.data.scaling import Standardizer
from mlpfit.scratch.activations import get_activation

ROWS_PER_BLOCK = 8192  # rows computed at a time: bounded memory, and still a few large matrix products


@dataclass
class Network:
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
    encoding: object = None  # a table's TableEncoding (raw columns -> inputs), applied again by predict and export
    link: str = "identity"  # "logistic": logits of 0/1 targets (loss bce), predicted as probabilities; "exp": poisson

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

    def with_state(self, state: dict[str, np.ndarray]) -> "Network":
        """The same network with other weights (torch's names, as :meth:`state_arrays` gives them)."""
        return type(self).from_state(state, self.stacked, **self.metadata())

    def metadata(self) -> dict:
        """Everything but the weights: what a network of other weights and the same meaning is built from."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("weights", "biases")}

    def member(self, k: int) -> "Network":
        """Member k of an ensemble as a single network (its scalers and names shared); a single net is its member 0."""
        if not self.stacked:
            return self
        return replace(self, weights=[w[k] for w in self.weights], biases=[b[k] for b in self.biases])

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

    # ------------------------------------------------------------------ predictions
    # An ensemble's prediction is its members' mean: regression averages values (the scalers are affine, so
    # averaging scaled outputs is the same); classification averages probabilities, not logits.

    def member_outputs(self, X: np.ndarray) -> np.ndarray:
        """Every member's raw output ``[K, n, outputs]`` (scaled targets, or logits); K = 1 for a single net."""
        out = self.network_output(X)
        return out if self.stacked else out[None]

    def raw_output(self, X: np.ndarray) -> np.ndarray:
        """The network's output for raw inputs: scaled targets, or logits (the members' mean)."""
        return self.member_outputs(X).mean(axis=0)

    def member_predictions(self, X: np.ndarray) -> np.ndarray:
        """Regression: each member's values in original units ``[K, n, outputs]`` (probabilities for bce)."""
        return self.y_scaler.inverse_transform(linked(self.member_outputs(X), self.link))

    def member_probabilities(self, X: np.ndarray) -> np.ndarray:
        """Classification: each member's class probabilities ``[K, n, classes]``."""
        return softmax(self.member_outputs(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Regression: values in original units [n, outputs]. Classification: class indices [n]."""
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

    # ------------------------------------------------------------------ the forward pass

    def network_output(self, X: np.ndarray) -> np.ndarray:
        """``[n, outputs]``, or ``[K, n, outputs]`` for stacked members (scaled targets, or logits)."""
        X = np.asarray(X)
        X = X.reshape(len(X), -1)
        # A block of rows at a time: Fashion-MNIST's 70,000 images in float64 would be 440 MB per copy.
        starts = range(0, max(len(X), 1), ROWS_PER_BLOCK)
        blocks = [self.block_output(X[start : start + ROWS_PER_BLOCK]) for start in starts]
        return np.concatenate(blocks, axis=-2) if len(blocks) != 1 else blocks[0]

    def block_output(self, X: np.ndarray) -> np.ndarray:
        """Raw inputs scaled in float64, then the layers in the weights' own precision (as the engines train)."""
        dtype = self.weights[0].dtype
        _, outputs = forward_layers(self, self.x_scaler.transform(np.asarray(X, dtype=np.float64)), dtype)
        return outputs[-1].astype(np.float64)


def forward_layers(net: Network, scaled: np.ndarray, dtype=np.float64, first: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The one forward pass: pre-activations and activations of every layer for scaled inputs ``[n, inputs]``,
    computed in ``dtype``: two lists of ``[n, units]`` (``[K, n, units]`` for stacked members), the output last.
    With ``first`` > 0, ``scaled`` is what enters layer ``first`` (the output of the one before) and the lists
    hold the layers from there on."""
    hidden, _ = get_activation(net.activation)
    last, _ = get_activation(net.output_activation)
    h = np.asarray(scaled).astype(dtype, copy=False)
    pre, post = [], []
    with np.errstate(all="ignore"):  # a diverged run's NaN weights give NaN, as torch would
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            if i < first:
                continue
            z = h @ np.swapaxes(w.astype(dtype, copy=False), -1, -2) + b.astype(dtype, copy=False)[..., None, :]
            h = (last if i == len(net.weights) - 1 else hidden)(z).astype(dtype, copy=False)
            pre.append(z)
            post.append(h)
    return pre, post


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
    """The network's outputs through the link of its loss: probabilities from bce's logits, rates from
    poisson's log-rates, else as they are."""
    if link == "logistic":
        return sigmoid(outputs)
    if link == "exp":
        with np.errstate(over="ignore"):
            return np.exp(outputs)
    return outputs


LINKS = {"bce": "logistic", "poisson": "exp"}  # losses whose network output is not the prediction itself


def link_of_loss(loss: str | None) -> str:
    return LINKS.get(loss, "identity")


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities of 0/1 labels from their logits, without overflow for large |logits|."""
    return np.exp(-np.logaddexp(0.0, -logits))
