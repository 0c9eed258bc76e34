"""From prepared data and a resolved config to the network (scalers, names, initial weights) and the engine
that trains it.

Every engine (mlpfit.engines: ``numpy``, what ``--engine auto`` picks on the CPU, or ``torch``) gets the same
scaled arrays, is driven by the same trainer, and ends as the same :class:`~mlpfit.network.Network` value, so
the run folder it leaves is the same.

A fit may start from an earlier one (:class:`Start`: a warm start or ``partial_fit``): then the
earlier weights replace the fresh init, the earlier scalers are kept (the weights mean nothing
under others), and the optimizer may continue from its saved moments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlpfit import engines
from mlpfit.config.schema import FitConfig
from mlpfit.data.dataset import Dataset, Split
from mlpfit.data.scaling import Standardizer
from mlpfit.data.sources.images import pixel_statistics
from mlpfit.errors import UsageError
from mlpfit.fitting.prepare import n_outputs
from mlpfit.network.network import Network, link_of_loss
from mlpfit.network.sizes import layer_sizes, state_shapes
from mlpfit.train.trainer import TrainData


@dataclass
class Start:
    """Where a fit starts instead of a fresh init: an earlier fit's model and scalers, and optionally its
    engine's ``optimizer_state()`` with the (engine, optimizer, members) it belongs to (:func:`optimizer_kind`):
    the moments are used only by a fit of the same kind."""

    fitted: Network  # the earlier fit's network
    optimizer_state: object = None
    kind: tuple | None = None


@dataclass
class Members:
    """What differs between the members of one fit when they are not an ensemble of one setting: a sweep's batch
    of settings that share a shape and a schedule, each with its own seed and learning rate."""

    seeds: list[int]
    lrs: list[float]


def build(config: FitConfig, dataset: Dataset, split: Split, device: str, start: Start | None = None,
          members: Members | None = None):
    """The network (scalers, names and the engine's initial weights) and the engine that trains it on ``device``.

    ``members``: settings that differ per member (a sweep's batch); by default member k is seeded seed + k."""
    x_scaler, y_scaler = scalers(config, dataset, split) if start is None else (start.fitted.x_scaler, start.fitted.y_scaler)
    moments = start.optimizer_state if start is not None and start.kind == optimizer_kind(config) else None
    options = engine_options(config, moments)
    seeds = member_seeds(config) if members is None else list(members.seeds)
    if members is not None:  # one rate per member (a single net takes a plain number)
        options["lr"] = list(members.lrs) if len(members.lrs) > 1 else members.lrs[0]
    m, t = config.model, config.train
    if t.engine == "numpy":
        options["dtype"] = np.dtype(t.precision)  # float32, or float64 for the estimators' float64 data
        options["threads"] = t.threads  # the NumPy engine splits an ensemble's members over them
    stacked = len(seeds) > 1
    engine = engines.build_engine(t.engine, model_sizes(config, dataset), train_data(dataset, split, x_scaler, y_scaler),
                                  device, seeds=seeds, activation=m.activation, output_activation=m.output_activation,
                                  dropout=m.dropout or 0.0, loss=t.loss, stacked=stacked,
                                  initial=None if start is None else start_arrays(start, config, dataset, len(seeds)),
                                  options=options)
    network = Network.from_state(engine.network_state(stacked), stacked, activation=m.activation,
                                 output_activation=m.output_activation, x_scaler=x_scaler, y_scaler=y_scaler,
                                 inputs=dataset.inputs, outputs=dataset.outputs, task=dataset.task,
                                 classes=dataset.classes, encoding=dataset.encoding, link=link_of_loss(t.loss))
    return network, engine


def optimizer_kind(config: FitConfig) -> tuple:
    """What an optimizer's saved moments belong to (resolved config): they load only into the same kind."""
    return config.train.engine, config.train.optimizer, config.model.ensemble


def engine_options(config: FitConfig, optimizer_state=None) -> dict:
    """What every engine takes from the config's training section, and the first layer's blocks (a sweep overrides
    ``lr`` per member)."""
    t = config.train
    return dict(epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, optimizer=t.optimizer, schedule=t.schedule,
                alpha=t.alpha, weight_decay=t.weight_decay or 0.0, optimizer_state=optimizer_state, shuffle=t.shuffle,
                input_units=config.model.input_units or 0)


def model_sizes(config: FitConfig, dataset: Dataset) -> list[int]:
    return layer_sizes(dataset.X.shape[1], config.model.hidden, n_outputs(dataset))


def start_arrays(start: Start, config: FitConfig, dataset: Dataset, members: int) -> dict[str, np.ndarray]:
    """The earlier model's weights, refused (UsageError) unless they have this model's names and shapes."""
    state = start.fitted.state_arrays()
    sizes = model_sizes(config, dataset)
    expected = state_shapes(sizes, members)
    if set(state) != set(expected) or any(tuple(state[k].shape) != expected[k] for k in expected):
        theirs = [tuple(v.shape) for v in state.values()]
        raise UsageError(f"the earlier fit's weights {theirs} do not fit this model's {list(expected.values())}: "
                         "keep hidden, ensemble and the data's columns as they were, or start a fresh fit")
    return state


def member_seeds(config: FitConfig) -> list[int]:
    """Member k starts as a single fit with seed seed + k would."""
    return [config.train.seed + k for k in range(config.model.ensemble)]


def finish(network: Network, engine) -> Network:
    """The network with the engine's trained weights (the best epoch's, where early stopping put them back)."""
    return network.with_state(engine.network_state(network.stacked))


def scalers(config: FitConfig, dataset: Dataset, split: Split) -> tuple[Standardizer, Standardizer | None]:
    """Input and target standardizers learned on the training rows (identity with --no-scale)."""
    X, Y = dataset.X, dataset.Y
    scale = config.data.scale
    x_scaler = input_scaler(dataset, split) if scale else Standardizer.identity(X.shape[1])
    if dataset.task == "classify":
        return x_scaler, None
    weights = None if dataset.weights is None else dataset.weights[split.train]
    # bce's targets are 0/1 labels compared with a logistic unit, poisson's counts with exp: never scaled
    scale_targets = scale and config.train.loss not in ("bce", "poisson")
    return x_scaler, Standardizer.fit(Y[split.train], weights) if scale_targets else Standardizer.identity(Y.shape[1])


def input_scaler(dataset: Dataset, split: Split) -> Standardizer:
    """Per-column standardization (weighted by the rows' weights); for images one mean and std for all
    pixels (seed 001's Normalize)."""
    if dataset.image_shape is None:
        weights = None if dataset.weights is None else dataset.weights[split.train]
        return Standardizer.fit(dataset.X[split.train], weights)

    mean, std = pixel_statistics(dataset.X[split.train])
    columns = dataset.X.shape[1]
    return Standardizer(mean=np.full(columns, mean), std=np.full(columns, std))


def train_data(dataset: Dataset, split: Split, x_scaler, y_scaler) -> TrainData:
    """Scaled training and validation arrays (float64, or float32 for small integers such as pixels: exact there,
    and in float64 Fashion-MNIST would need 1 GB more), with the rows' weights when the dataset has any, or
    [K, rows] per member when the members have their own validation rows; the engine moves them where it
    computes."""
    def part(index):
        X, Y = dataset.X[index], dataset.Y[index]
        y = Y.astype(np.int64) if y_scaler is None else np.asarray(y_scaler.transform(Y), dtype=np.float64)
        if X.dtype.kind in "biu" and X.dtype.itemsize <= 2:
            return x_scaler.transform(X.astype(np.float32)), y
        return np.asarray(x_scaler.transform(X), dtype=np.float64), y

    def weights(index):
        return None if dataset.weights is None else np.asarray(dataset.weights[index], dtype=np.float64)

    if split.member_val is None:
        return TrainData(*part(split.train), *part(split.val), weights(split.train), weights(split.val))
    # members with their own validation rows: one weight per member and row, 0 where the row is not theirs
    def own_weights(name):
        index = getattr(split, name)
        own = split.own_rows(name, len(split.member_val))
        return own * (1.0 if dataset.weights is None else weights(index))

    return TrainData(*part(split.train), *part(split.val), own_weights("train"), own_weights("val"))
