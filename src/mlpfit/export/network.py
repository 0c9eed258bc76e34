"""A fitted model as plain NumPy data: what both exporters write, in one shape.

The fitted model's arrays (``as_numpy``: a run folder's NumpyFitted, or a torch model's weights
copied out) are read here and nowhere else in the export package, so the ONNX graph and the
Python module are built from the same arrays and cannot drift apart. The arithmetic they must
reproduce is :mod:`mlpfit.nn.numpy_fitted`'s:

1. scale the inputs in float64: ``(X - x_mean) / x_std``;
2. cast to the weights' dtype (float32 as every engine saves them; float64 for an estimator's model);
3. every layer but the last: ``h = activation(h @ W.T + b)``; the last: ``output_activation(...)``;
4. back to float64; regression: ``out * y_std + y_mean`` (per member, then the members' mean and
   std); classification: softmax (per member, then the mean), and the label is the argmax.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Network:
    weights: list[np.ndarray]  # per layer [out, in], or [K, out, in] for an ensemble of K members
    biases: list[np.ndarray]  # per layer [out], or [K, out]
    activation: str
    output_activation: str
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray | None  # None for classification
    y_std: np.ndarray | None
    inputs: list[str]
    outputs: list[str]
    task: str  # "regress" or "classify"
    classes: list | None
    members: int | None  # K for an ensemble, None for one network
    about: dict = field(default_factory=dict)  # target, domain, scores, ... for docstrings and metadata
    encoding: dict | None = None  # a table run's encoding (its JSON): the raw columns -> inputs

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[-1], *(w.shape[-2] for w in self.weights)]

    @property
    def parameters(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))


def from_fitted(fitted, summary: dict, samples: dict | None = None) -> Network:
    """The arrays of ``fitted`` (a FittedModel, FittedEnsemble or NumpyFitted) and what the summary says about them."""
    ensemble = fitted.members > 1  # stacked members
    y = fitted.y_scaler
    net = fitted.as_numpy()
    return Network(
        weights=[np.array(w) for w in net.weights],
        biases=[np.array(b) for b in net.biases],
        activation=net.activation,
        output_activation=net.output_activation,
        x_mean=np.asarray(fitted.x_scaler.mean, dtype=np.float64),
        x_std=np.asarray(fitted.x_scaler.std, dtype=np.float64),
        y_mean=None if y is None else np.asarray(y.mean, dtype=np.float64),
        y_std=None if y is None else np.asarray(y.std, dtype=np.float64),
        inputs=list(fitted.inputs),
        outputs=list(fitted.outputs),
        task=fitted.task,
        classes=None if fitted.classes is None else list(fitted.classes),
        members=fitted.members if ensemble else None,
        about=describe(summary, fitted.inputs, samples),
        encoding=None if getattr(fitted, "encoding", None) is None else fitted.encoding.to_dict(),
    )


def describe(summary: dict, inputs: list[str], samples: dict | None) -> dict:
    """What a reader of the export wants to know, from the run's summary (all JSON-able)."""
    test = (summary.get("metrics") or {}).get("test")
    return {
        "target": summary.get("target"),
        "formula": summary.get("formula"),
        "domain": domain(summary, inputs, samples),
        "domain_kind": "formula" if summary.get("domain") else "training data",
        "image_shape": summary.get("image_shape"),
        "test": test,
        "epochs": summary.get("epochs"),
        "created": summary.get("created"),
        "mlpfit": summary.get("mlpfit"),
    }


def domain(summary: dict, inputs: list[str], samples: dict | None) -> dict | None:
    """Per input ``[lo, hi]``: the formula's sampling box, else the range of the stored training sample."""
    if summary.get("domain"):
        return {name: [float(v) for v in summary["domain"][name]] for name in inputs}
    if not samples or "train_X" not in samples:
        return None
    X = np.asarray(samples["train_X"])  # float32: its values read best in float32's shortest form
    if X.ndim != 2 or X.shape[1] != len(inputs) or len(X) == 0:
        return None
    return {name: [float(str(lo)), float(str(hi))] for name, lo, hi in zip(inputs, X.min(axis=0), X.max(axis=0))}


def fresh_points(net: Network, n: int = 256, seed: int = 0) -> np.ndarray:
    """Random points for checking an export: inside the domain, plus some well outside it.

    Points outside the domain drive pre-activations far from 0, where activations differ the most
    (softplus's threshold, elu's and gelu's tails), so a check there is a stricter one.
    """
    rng = np.random.default_rng(seed)
    box = net.about.get("domain")
    if box:
        lo = np.array([box[name][0] for name in net.inputs])
        hi = np.array([box[name][1] for name in net.inputs])
    else:
        lo, hi = net.x_mean - 2 * net.x_std, net.x_mean + 2 * net.x_std
    centre, half = (lo + hi) / 2, np.maximum((hi - lo) / 2, 1e-6)
    inside = centre + half * rng.uniform(-1, 1, (n - n // 4, len(lo)))
    outside = centre + 3 * half * rng.uniform(-1, 1, (n // 4, len(lo)))
    return np.concatenate([inside, outside])
