"""From prepared data and a resolved config to a fitted-model shell and the engine that trains it.

The choice is made here once: ``numpy`` (what ``--engine auto`` picks on the CPU) → the
NumPy engine and a :class:`~mlpfit.network.network.Network`, and torch is never imported;
``--ensemble K > 1`` on torch → K members stacked as one batched model; else one torch MLP
(fitting/torch_build.py). Every engine gets the same scaled data and is driven by the same trainer,
and the run folder it leaves is the same.

A fit may start from an earlier one (:class:`Start`: a warm start or ``partial_fit``): then the
earlier weights replace the fresh init, the earlier scalers are kept (the weights mean nothing
under others), and the optimizer may continue from its saved moments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlpfit.config.schema import FitConfig
from mlpfit.data.dataset import Dataset, Split
from mlpfit.data.scaling import Standardizer
from mlpfit.errors import UsageError
from mlpfit.fitting.prepare import n_outputs
from mlpfit.network.network import Network, layer_arrays
from mlpfit.network.sizes import layer_sizes, state_shapes
from mlpfit.train.trainer import TrainData


@dataclass
class Start:
    """Where a fit starts instead of a fresh init: an earlier fit's model and scalers, and optionally its
    engine's ``optimizer_state()`` with the (engine, optimizer, members) it belongs to (:func:`optimizer_kind`):
    the moments are used only by a fit of the same kind."""

    fitted: object  # a FittedModel or Network
    optimizer_state: object = None
    kind: tuple | None = None


def build(config: FitConfig, dataset: Dataset, split: Split, device, start: Start | None = None):
    """The fitted-model shell (scalers, names, an initialized model) and the engine that trains it."""
    x_scaler, y_scaler = scalers(config, dataset, split) if start is None else (start.fitted.x_scaler, start.fitted.y_scaler)
    moments = start.optimizer_state if start is not None and start.kind == optimizer_kind(config) else None
    common = engine_options(config, moments)
    initial = None if start is None else start_arrays(start, config, dataset)
    if config.train.engine == "numpy":
        return build_numpy(config, dataset, split, x_scaler, y_scaler, initial, common)
    from mlpfit.engines.torch.build import build_torch

    data = train_data(dataset, split, x_scaler, y_scaler, device)
    model, engine = build_torch(config, model_sizes(config, dataset), member_seeds(config), data, device, initial, common)
    return fitted_model(model, x_scaler, y_scaler, dataset, config.train.loss), engine


def build_numpy(config: FitConfig, dataset: Dataset, split: Split, x_scaler, y_scaler, initial, common):
    from mlpfit.engines.numpy.engine import NumpyEngine

    m, t = config.model, config.train
    data = train_data(dataset, split, x_scaler, y_scaler, None)
    members = None if initial is None else member_params(initial, m.ensemble)
    engine = NumpyEngine(model_sizes(config, dataset), data, activation=m.activation, output_activation=m.output_activation,
                         seeds=member_seeds(config), initial_params=members, loss=t.loss, dropout=m.dropout or 0.0, **common)
    fitted = Network.from_state(engine_state(engine), m.ensemble > 1, activation=m.activation,
                                    output_activation=m.output_activation, x_scaler=x_scaler, y_scaler=y_scaler,
                                    inputs=dataset.inputs, outputs=dataset.outputs, task=dataset.task,
                                    classes=dataset.classes, encoding=dataset.encoding, link=output_link(t.loss))
    return fitted, engine


def optimizer_kind(config: FitConfig) -> tuple:
    """What an optimizer's saved moments belong to (resolved config): they load only into the same kind."""
    return config.train.engine, config.train.optimizer, config.model.ensemble


def engine_options(config: FitConfig, optimizer_state=None) -> dict:
    """What every engine takes from the config's training section (a sweep overrides ``lr`` per member)."""
    t = config.train
    return dict(epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, optimizer=t.optimizer, schedule=t.schedule,
                alpha=t.alpha, weight_decay=t.weight_decay or 0.0, optimizer_state=optimizer_state)


def model_sizes(config: FitConfig, dataset: Dataset) -> list[int]:
    return layer_sizes(dataset.X.shape[1], config.model.hidden, n_outputs(dataset))


def fitted_model(model, x_scaler, y_scaler, dataset: Dataset, loss: str):
    """A torch model with what predicting needs: scalers, names, classes, the table's encoding, the link."""
    from mlpfit.engines.torch.fitted import FittedEnsemble, FittedModel
    from mlpfit.engines.torch.stacked_model import EnsembleMLP

    fitted_type = FittedEnsemble if isinstance(model, EnsembleMLP) else FittedModel
    return fitted_type(model, x_scaler, y_scaler, dataset.inputs, dataset.outputs, dataset.task, dataset.classes,
                       dataset.encoding, link=output_link(loss))


def output_link(loss: str) -> str:
    """bce trains logits of 0/1 targets: the fitted model predicts their probabilities."""
    return "logistic" if loss == "bce" else "identity"


def start_arrays(start: Start, config: FitConfig, dataset: Dataset) -> dict[str, np.ndarray]:
    """The earlier model's weights, refused (UsageError) unless they have this model's names and shapes."""
    state = start.fitted.state_arrays()
    sizes, members = model_sizes(config, dataset), config.model.ensemble
    expected = state_shapes(sizes, members)
    if set(state) != set(expected) or any(tuple(state[k].shape) != expected[k] for k in expected):
        theirs = [tuple(v.shape) for v in state.values()]
        raise UsageError(f"the earlier fit's weights {theirs} do not fit this model's {list(expected.values())}: "
                         "keep hidden, ensemble and the data's columns as they were, or start a fresh fit")
    return state


def member_params(state: dict, members: int) -> list[dict]:
    """Saved weights (torch's names) as the NumPy engine's per-member parameter dicts (the inverse of
    :func:`engine_state`)."""
    arrays = {k: np.asarray(v) for k, v in state.items()}
    if members == 1:
        return [arrays]
    return [{k.replace("members.layers.", "layers.", 1): v[i] for k, v in arrays.items()} for i in range(members)]


def engine_state(engine) -> dict[str, np.ndarray]:
    """The NumPy engine's members as one state under torch's names (stacked for K > 1)."""
    states = [engine.member_state(k) for k in range(engine.members)]
    if engine.members == 1:
        return states[0]
    return {name.replace("layers.", "members.layers.", 1): np.stack([s[name] for s in states]) for name in states[0]}


def member_seeds(config: FitConfig) -> list[int]:
    """Member k starts as a single fit with seed seed + k would."""
    return [config.train.seed + k for k in range(config.model.ensemble)]


def finish(fitted, engine):
    """After training: the NumPy engine's weights in its fitted model (a torch model trained in place)."""
    if isinstance(fitted, Network):
        fitted.weights, fitted.biases = layer_arrays(engine_state(engine), fitted.members > 1)
    return fitted


def scalers(config: FitConfig, dataset: Dataset, split: Split) -> tuple[Standardizer, Standardizer | None]:
    """Input and target standardizers learned on the training rows (identity with --no-scale)."""
    X, Y = dataset.X, dataset.Y
    scale = config.data.scale
    x_scaler = input_scaler(dataset, split) if scale else Standardizer.identity(X.shape[1])
    if dataset.task == "classify":
        return x_scaler, None
    weights = None if dataset.weights is None else dataset.weights[split.train]
    # bce's targets are 0/1 labels compared with a logistic unit: they are never scaled
    scale_targets = scale and config.train.loss != "bce"
    return x_scaler, Standardizer.fit(Y[split.train], weights) if scale_targets else Standardizer.identity(Y.shape[1])


def input_scaler(dataset: Dataset, split: Split) -> Standardizer:
    """Per-column standardization (weighted by the rows' weights); for images one mean and std for all
    pixels (seed 001's Normalize)."""
    if dataset.image_shape is None:
        weights = None if dataset.weights is None else dataset.weights[split.train]
        return Standardizer.fit(dataset.X[split.train], weights)
    from mlpfit.data.sources.images import pixel_statistics

    mean, std = pixel_statistics(dataset.X[split.train])
    columns = dataset.X.shape[1]
    return Standardizer(mean=np.full(columns, mean), std=np.full(columns, std))


def train_data(dataset: Dataset, split: Split, x_scaler, y_scaler, device) -> TrainData:
    """Scaled training and validation data: tensors on ``device``, or arrays when it is None (NumPy: float64, or
    float32 for small integers such as pixels);
    the rows' weights alongside when the dataset has any."""
    if device is not None:
        from mlpfit.engines.torch.build import tensor_data

        return tensor_data(dataset, split, x_scaler, y_scaler, device)

    def part(index):
        X, Y = dataset.X[index], dataset.Y[index]
        y = Y.astype(np.int64) if y_scaler is None else np.asarray(y_scaler.transform(Y), dtype=np.float64)
        if X.dtype.kind in "biu" and X.dtype.itemsize <= 2:  # pixels: exact in float32, the engine's precision
            return x_scaler.transform(X.astype(np.float32)), y  # (in float64 Fashion-MNIST needs 1 GB more)
        return np.asarray(x_scaler.transform(X), dtype=np.float64), y

    def weights(index):
        return None if dataset.weights is None else np.asarray(dataset.weights[index], dtype=np.float64)

    return TrainData(*part(split.train), *part(split.val), weights(split.train), weights(split.val))
