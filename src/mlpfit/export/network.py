"""The trained network as both exporters read it (:class:`Exported`, a view of the one Network value).

The network's arrays are read here and nowhere else in the export package, so the ONNX graph and the
Python module are built from the same arrays and cannot drift apart. The arithmetic they must
reproduce is :mod:`mlpfit.network.network`'s:

1. scale the inputs in float64: ``(X - x_mean) / x_std``;
2. cast to the weights' dtype (float32 as every engine saves them; float64 for an estimator's model);
3. every layer but the last: ``h = activation(h @ W.T + b)``; the last: ``output_activation(...)``;
4. back to float64; regression: the loss's link (the logistic function for bce, exp for poisson, else
   nothing), then ``out * y_std + y_mean`` (per member, then the members' mean and std); classification:
   softmax (per member, then the mean), and the label is the argmax.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlpfit.network.network import Network


@dataclass
class Exported:
    """The trained :class:`mlpfit.network.Network` as the exporters read it: its arrays under the names the
    generated code uses (scalers as means and spreads, ``members`` None for one network), and ``about``, what the
    run's summary says of it. A view: the arrays are the network's own."""

    network: Network
    about: dict = field(default_factory=dict)  # target, domain, scores, ... for docstrings and metadata

    @property
    def encoding(self) -> dict | None:  # a table run's encoding as its JSON (raw columns -> inputs); else None
        encoding = getattr(self.network, "encoding", None)
        return None if encoding is None else encoding.to_dict()

    @property
    def weights(self) -> list[np.ndarray]:  # per layer [out, in], or [K, out, in] for an ensemble of K members
        return self.network.weights

    @property
    def biases(self) -> list[np.ndarray]:  # per layer [out], or [K, out]
        return self.network.biases

    @property
    def activation(self) -> str:
        return self.network.activation

    @property
    def output_activation(self) -> str:
        return self.network.output_activation

    @property
    def x_mean(self) -> np.ndarray:
        return np.asarray(self.network.x_scaler.mean, dtype=np.float64)

    @property
    def x_std(self) -> np.ndarray:
        return np.asarray(self.network.x_scaler.std, dtype=np.float64)

    @property
    def y_mean(self) -> np.ndarray | None:  # None for classification
        y = self.network.y_scaler
        return None if y is None else np.asarray(y.mean, dtype=np.float64)

    @property
    def y_std(self) -> np.ndarray | None:
        y = self.network.y_scaler
        return None if y is None else np.asarray(y.std, dtype=np.float64)

    @property
    def link(self) -> str:  # "identity", "logistic" (bce: probabilities) or "exp" (poisson: rates)
        return self.network.link

    @property
    def inputs(self) -> list[str]:
        return list(self.network.inputs)

    @property
    def outputs(self) -> list[str]:
        return list(self.network.outputs)

    @property
    def task(self) -> str:  # "regress" or "classify"
        return self.network.task

    @property
    def classes(self) -> list | None:
        return None if self.network.classes is None else list(self.network.classes)

    @property
    def members(self) -> int | None:  # K for an ensemble, None for one network
        return self.network.members if self.network.stacked else None

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype

    @property
    def sizes(self) -> list[int]:
        return self.network.sizes

    @property
    def parameters(self) -> int:
        return self.network.parameter_count


def from_fitted(fitted: Network, summary: dict, samples: dict | None = None) -> Exported:
    """The trained network and what the summary says about it."""
    return Exported(fitted, describe(summary, fitted.inputs, samples))


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


def fresh_points(net: Exported, n: int = 256, seed: int = 0) -> np.ndarray:
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
