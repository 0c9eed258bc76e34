"""From prepared data and a resolved config to a model and the engine that trains it.

The choice is made here once: ``--engine numpy`` → the NumPy engine (any number of members);
``--ensemble K > 1`` → K torch members stacked as one batched model; else one torch MLP. Every
engine gets the same scaled data and is driven by the same trainer; the fitted model that
predicts is a torch module in every case (the NumPy weights are copied into it at the end).
"""

from __future__ import annotations

import numpy as np
import torch

from mlpfit.config.schema import FitConfig
from mlpfit.data.dataset import Dataset, Split
from mlpfit.data.scaling import Standardizer
from mlpfit.engines.numpy_mlp import NumpyEngine
from mlpfit.engines.torch_single import TorchEngine
from mlpfit.engines.torch_stacked import StackedEngine
from mlpfit.fitting.prepare import n_outputs
from mlpfit.nn.fitted import FittedEnsemble, FittedModel
from mlpfit.nn.model import MLP
from mlpfit.nn.sizes import layer_sizes
from mlpfit.nn.stacked import EnsembleMLP
from mlpfit.train.trainer import TrainData


def build(config: FitConfig, dataset: Dataset, split: Split, device) -> tuple[FittedModel, object]:
    """The fitted-model shell (scalers, names, an initialized model) and the engine that trains it."""
    m, t = config.model, config.train
    x_scaler, y_scaler = scalers(config, dataset, split)
    sizes = layer_sizes(dataset.X.shape[1], m.hidden, n_outputs(dataset))
    seeds = member_seeds(config)
    common = dict(epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, optimizer=t.optimizer, schedule=t.schedule,
                  weight_decay=t.weight_decay or 0.0)
    if t.engine == "numpy":
        data = train_data(dataset, split, x_scaler, y_scaler, None)
        engine = NumpyEngine(sizes, data, activation=m.activation, output_activation=m.output_activation,
                             seeds=seeds, **common)
        model = torch_model(sizes, config, seeds).double()  # filled from the NumPy weights by finish()
    else:
        data = train_data(dataset, split, x_scaler, y_scaler, device)
        model = torch_model(sizes, config, seeds).to(device)
        engine_type = StackedEngine if m.ensemble > 1 else TorchEngine
        engine = engine_type(model, data, loss=t.loss, seed=t.seed, **common)
    fitted_type = FittedEnsemble if m.ensemble > 1 else FittedModel
    fitted = fitted_type(model, x_scaler, y_scaler, dataset.inputs, dataset.outputs, dataset.task, dataset.classes)
    return fitted, engine


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
    if fitted.members == 1:
        state = engine.params[0]
    else:
        names = [name.replace("layers.", "members.layers.", 1) for name in engine.params[0]]
        state = {new: np.stack([p[old] for p in engine.params]) for new, old in zip(names, engine.params[0])}
    fitted.model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})


def scalers(config: FitConfig, dataset: Dataset, split: Split) -> tuple[Standardizer, Standardizer | None]:
    """Input and target standardizers learned on the training rows (identity with --no-scale)."""
    X, Y = dataset.X, dataset.Y
    scale = config.data.scale
    x_scaler = input_scaler(dataset, split) if scale else Standardizer.identity(X.shape[1])
    if dataset.task == "classify":
        return x_scaler, None
    return x_scaler, Standardizer.fit(Y[split.train]) if scale else Standardizer.identity(Y.shape[1])


def input_scaler(dataset: Dataset, split: Split) -> Standardizer:
    """Per-column standardization; for images one mean and std for all pixels (seed 001's Normalize)."""
    if dataset.image_shape is None:
        return Standardizer.fit(dataset.X[split.train])
    from mlpfit.data.sources.images import pixel_statistics

    mean, std = pixel_statistics(dataset.X[split.train])
    columns = dataset.X.shape[1]
    return Standardizer(mean=np.full(columns, mean), std=np.full(columns, std))


def train_data(dataset: Dataset, split: Split, x_scaler, y_scaler, device) -> TrainData:
    """Scaled training and validation data: tensors on ``device``, or float64 arrays when it is None (NumPy)."""
    def part(index):
        X, Y = dataset.X[index], dataset.Y[index]
        if device is None:
            return x_scaler.transform(X).astype(np.float64), y_scaler.transform(Y).astype(np.float64)
        x = scaled_inputs(X, x_scaler, device)
        if y_scaler is None:
            return x, torch.as_tensor(Y, dtype=torch.long, device=device)
        return x, torch.as_tensor(y_scaler.transform(Y), dtype=torch.float32, device=device)

    return TrainData(*part(split.train), *part(split.val))


def scaled_inputs(X: np.ndarray, scaler: Standardizer, device) -> torch.Tensor:
    """Float inputs are scaled in float64 first (precision); uint8 pixels go to the device as they
    are and are scaled there, so no float64 copy of an image set is ever made."""
    if X.dtype == np.uint8:
        return scaler.transform(torch.as_tensor(X, device=device).to(torch.float32))
    return torch.as_tensor(scaler.transform(X), dtype=torch.float32, device=device)
