"""From prepared data and a resolved config to a model and the engine that trains it.

The choice is made here once: ``--engine numpy`` → the NumPy engine (any number of members);
``--ensemble K > 1`` → K torch members stacked as one batched model; else one torch MLP. Every
engine gets the same scaled data and is driven by the same trainer; the fitted model that
predicts is a torch module in every case (the NumPy weights are copied into it at the end).

A fit may start from an earlier one (:class:`Start`: a warm start or ``partial_fit``): then the
earlier weights replace the fresh init, the earlier scalers are kept (the weights mean nothing
under others), and the optimizer may continue from its saved moments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mlpfit.config.schema import FitConfig
from mlpfit.data.dataset import Dataset, Split
from mlpfit.data.scaling import Standardizer
from mlpfit.engines.numpy_mlp import NumpyEngine
from mlpfit.engines.torch_single import TorchEngine
from mlpfit.engines.torch_stacked import StackedEngine
from mlpfit.errors import UsageError
from mlpfit.fitting.prepare import n_outputs
from mlpfit.nn.fitted import FittedEnsemble, FittedModel
from mlpfit.nn.model import MLP
from mlpfit.nn.sizes import layer_sizes
from mlpfit.nn.stacked import EnsembleMLP
from mlpfit.train.trainer import TrainData


@dataclass
class Start:
    """Where a fit starts instead of a fresh init: an earlier fit's model and scalers, and optionally its
    engine's ``optimizer_state()`` (same engine and shapes)."""

    fitted: FittedModel
    optimizer_state: object = None


def build(config: FitConfig, dataset: Dataset, split: Split, device,
          start: Start | None = None) -> tuple[FittedModel, object]:
    """The fitted-model shell (scalers, names, an initialized model) and the engine that trains it."""
    m, t = config.model, config.train
    x_scaler, y_scaler = scalers(config, dataset, split) if start is None else (start.fitted.x_scaler, start.fitted.y_scaler)
    sizes = model_sizes(config, dataset)
    seeds = member_seeds(config)
    common = engine_options(config, None if start is None else start.optimizer_state)
    if t.engine == "numpy":
        data = train_data(dataset, split, x_scaler, y_scaler, None)
        model = torch_model(sizes, config, seeds).double()  # filled from the NumPy weights by finish()
        initial = None if start is None else numpy_params(start_state(model, start), m.ensemble)
        engine = NumpyEngine(sizes, data, activation=m.activation, output_activation=m.output_activation,
                             seeds=seeds, initial_params=initial, loss=t.loss, dropout=m.dropout or 0.0, **common)
    else:
        data = train_data(dataset, split, x_scaler, y_scaler, device)
        model = torch_model(sizes, config, seeds).to(device)
        if start is not None:
            model.load_state_dict(start_state(model, start))
        engine_type = StackedEngine if m.ensemble > 1 else TorchEngine
        engine = engine_type(model, data, loss=t.loss, seed=t.seed, **common)
    fitted_type = FittedEnsemble if m.ensemble > 1 else FittedModel
    return fitted_model(fitted_type, model, x_scaler, y_scaler, dataset, t.loss), engine


def engine_options(config: FitConfig, optimizer_state=None) -> dict:
    """What every engine takes from the config's training section (a sweep overrides ``lr`` per member)."""
    t = config.train
    return dict(epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, optimizer=t.optimizer, schedule=t.schedule,
                alpha=t.alpha, weight_decay=t.weight_decay or 0.0, optimizer_state=optimizer_state)


def model_sizes(config: FitConfig, dataset: Dataset) -> list[int]:
    return layer_sizes(dataset.X.shape[1], config.model.hidden, n_outputs(dataset))


def fitted_model(fitted_type, model, x_scaler, y_scaler, dataset: Dataset, loss: str) -> FittedModel:
    """The trained model with what predicting needs: scalers, names, classes, the table's encoding, the link."""
    return fitted_type(model, x_scaler, y_scaler, dataset.inputs, dataset.outputs, dataset.task, dataset.classes,
                       dataset.encoding, link=output_link(loss))


def output_link(loss: str) -> str:
    """bce trains logits of 0/1 targets: the fitted model predicts their probabilities."""
    return "logistic" if loss == "bce" else "identity"


def start_state(model, start: Start) -> dict:
    """The earlier model's weights, refused (UsageError) unless they have this model's names and shapes."""
    state = start.fitted.model.state_dict()
    mine = model.state_dict()
    if set(state) != set(mine) or any(state[k].shape != mine[k].shape for k in mine):
        theirs, ours = ([tuple(v.shape) for v in s.values()] for s in (state, mine))
        raise UsageError(f"the earlier fit's weights {theirs} do not fit this model's {ours}: "
                         "keep hidden, ensemble and the data's columns as they were, or start a fresh fit")
    return {k: v.detach().to(device=mine[k].device, dtype=mine[k].dtype) for k, v in state.items()}


def numpy_params(state: dict, members: int) -> list[dict]:
    """A torch state dict as the NumPy engine's per-member parameter dicts (the inverse of :func:`finish`)."""
    arrays = {k: v.cpu().double().numpy() for k, v in state.items()}
    if members == 1:
        return [arrays]
    return [{k.replace("members.layers.", "layers.", 1): v[i] for k, v in arrays.items()} for i in range(members)]


def member_seeds(config: FitConfig) -> list[int]:
    """Member k starts as a single fit with seed seed + k would."""
    return [config.train.seed + k for k in range(config.model.ensemble)]


def torch_model(sizes: list[int], config: FitConfig, seeds: list[int]):
    m = config.model
    if m.ensemble > 1:
        return EnsembleMLP(sizes, m.activation, m.output_activation, seeds, dropout=m.dropout)
    return MLP(sizes, m.activation, m.output_activation, m.dropout)


def finish(fitted: FittedModel, engine) -> None:
    """After training: the NumPy engine's weights go into the torch model that predicts and is saved."""
    if not isinstance(engine, NumpyEngine):
        return
    members = [engine.member_state(k) for k in range(engine.members)]
    if fitted.members == 1:
        state = members[0]
    else:
        names = [name.replace("layers.", "members.layers.", 1) for name in members[0]]
        state = {new: np.stack([p[old] for p in members]) for new, old in zip(names, members[0])}
    fitted.model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})


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
    """Scaled training and validation data: tensors on ``device``, or float64 arrays when it is None (NumPy);
    the rows' weights alongside when the dataset has any."""
    def part(index):
        X, Y = dataset.X[index], dataset.Y[index]
        if device is None:  # NumPy: float64 arrays, class indices as ints
            targets = np.asarray(Y, dtype=np.int64) if y_scaler is None else y_scaler.transform(Y).astype(np.float64)
            return x_scaler.transform(X).astype(np.float64), targets
        x = scaled_inputs(X, x_scaler, device)
        if y_scaler is None:
            return x, torch.as_tensor(Y, dtype=torch.long, device=device)
        return x, torch.as_tensor(y_scaler.transform(Y), dtype=torch.float32, device=device)

    def weights(index):
        if dataset.weights is None:
            return None
        w = np.asarray(dataset.weights[index], dtype=np.float64)
        return w if device is None else torch.as_tensor(w, dtype=torch.float32, device=device)

    return TrainData(*part(split.train), *part(split.val), weights(split.train), weights(split.val))


def scaled_inputs(X: np.ndarray, scaler: Standardizer, device) -> torch.Tensor:
    """Float inputs are scaled in float64 first (precision); uint8 pixels go to the device as they
    are and are scaled there, so no float64 copy of an image set is ever made."""
    if X.dtype == np.uint8:
        return scaler.transform(torch.as_tensor(X, device=device).to(torch.float32))
    return torch.as_tensor(scaler.transform(X), dtype=torch.float32, device=device)
