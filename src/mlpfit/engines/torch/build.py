"""The torch side of building a fit: the model, its engine, and the data as tensors.

Imported only when torch trains (fitting/build.py chooses), so a NumPy-engine fit never pays
torch's import.
"""

from __future__ import annotations

import numpy as np
import torch

from mlpfit.config.schema import FitConfig
from mlpfit.data.dataset import Dataset, Split
from mlpfit.data.scaling import Standardizer
from mlpfit.engines.torch.single import TorchEngine
from mlpfit.engines.torch.stacked import StackedEngine
from mlpfit.engines.torch.model import MLP
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.train.trainer import TrainData


def build_torch(config: FitConfig, sizes: list[int], seeds: list[int], data: TrainData, device,
                initial: dict | None, common: dict):
    """A torch model (from ``initial`` weights when given) on ``device`` and the engine that trains it."""
    m, t = config.model, config.train
    model = torch_model(sizes, config, seeds).to(device)
    if initial is not None:
        mine = model.state_dict()
        model.load_state_dict({k: torch.as_tensor(np.asarray(v)).to(device=mine[k].device, dtype=mine[k].dtype)
                               for k, v in initial.items()})
    engine_type = StackedEngine if m.ensemble > 1 else TorchEngine
    return model, engine_type(model, data, loss=t.loss, seed=t.seed, **common)


def torch_model(sizes: list[int], config: FitConfig, seeds: list[int]):
    m = config.model
    if m.ensemble > 1:
        return EnsembleMLP(sizes, m.activation, m.output_activation, seeds, dropout=m.dropout)
    return MLP(sizes, m.activation, m.output_activation, m.dropout)


def tensor_data(dataset: Dataset, split: Split, x_scaler, y_scaler, device) -> TrainData:
    """Scaled training and validation tensors on ``device``, with the rows' weights when the dataset has any."""
    def part(index):
        X, Y = dataset.X[index], dataset.Y[index]
        x = scaled_inputs(X, x_scaler, device)
        if y_scaler is None:
            return x, torch.as_tensor(Y, dtype=torch.long, device=device)
        return x, torch.as_tensor(y_scaler.transform(Y), dtype=torch.float32, device=device)

    def weights(index):
        if dataset.weights is None:
            return None
        return torch.as_tensor(np.asarray(dataset.weights[index], dtype=np.float64), dtype=torch.float32, device=device)

    return TrainData(*part(split.train), *part(split.val), weights(split.train), weights(split.val))


def scaled_inputs(X: np.ndarray, scaler: Standardizer, device) -> torch.Tensor:
    """Float inputs are scaled in float64 first (precision); uint8 pixels go to the device as they
    are and are scaled there, so no float64 copy of an image set is ever made."""
    if X.dtype == np.uint8:
        return scaler.transform(torch.as_tensor(X, device=device).to(torch.float32))
    return torch.as_tensor(scaler.transform(X), dtype=torch.float32, device=device)
