"""The torch side of building a fit: the model, its engine, and the scaled arrays as tensors on the device.

Imported only when torch trains (mlpfit.engines.build_engine chooses), so a NumPy-engine fit never pays
torch's import.
"""

from __future__ import annotations

import numpy as np
import torch

from mlpfit.engines.blocks import block_start, input_blocks
from mlpfit.engines.torch.model import MLP
from mlpfit.engines.torch.single import TorchEngine, linear_layers
from mlpfit.engines.torch.stacked import StackedEngine
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.train.trainer import TrainData


def build_torch(sizes: list[int], data: TrainData, device: str, *, seeds: list[int], activation: str,
                output_activation: str, dropout: float, loss: str, initial: dict | None, stacked: bool, options: dict):
    """A torch model (from ``initial`` weights when given) on ``device`` and the engine that trains it; one model
    of ``len(seeds)`` stacked members when ``stacked``."""
    device = torch.device(device)
    options = dict(options)
    blocks = input_blocks(sizes, options.pop("input_units", 0))
    if stacked:
        model = EnsembleMLP(sizes, activation, output_activation, seeds, dropout=dropout)
    else:
        model = MLP(sizes, activation, output_activation, dropout)
    model = model.to(device)
    if blocks is not None:
        hold_blocks(model, blocks, seeds)
    if initial is not None:
        mine = model.state_dict()
        model.load_state_dict({k: torch.as_tensor(np.asarray(v)).to(device=mine[k].device, dtype=mine[k].dtype)
                               for k, v in initial.items()})
    engine_type = StackedEngine if stacked else TorchEngine
    return engine_type(model, tensor_data(data, device), loss=loss, seed=seeds[0], **options)


def hold_blocks(model: torch.nn.Module, blocks: np.ndarray, seeds: list[int]) -> None:
    """The first layer started as each input's own units (engines.blocks; each member from its seed) and its other
    weights held at zero: their gradient is masked on its way to the optimizer."""
    first = linear_layers(model)[0]
    weight, bias = first.weight, first.bias
    mask = torch.as_tensor(blocks, dtype=weight.dtype, device=weight.device)
    starts = [block_start(blocks, np.random.default_rng(seed)) for seed in seeds]
    with torch.no_grad():
        w = np.stack([s[0] for s in starts]) if weight.dim() == 3 else starts[0][0]
        b = np.stack([s[1] for s in starts]) if bias.dim() == 2 else starts[0][1]
        weight.copy_(torch.as_tensor(w, dtype=weight.dtype))
        bias.copy_(torch.as_tensor(b, dtype=bias.dtype))
    weight.register_hook(lambda grad: grad * mask)


def tensor_data(data: TrainData, device: torch.device) -> TrainData:
    """The scaled arrays as float32 tensors on ``device`` (class indices as int64), weights alongside."""
    def tensor(values, classes=False):
        if values is None:
            return None
        return torch.as_tensor(np.asarray(values), dtype=torch.long if classes else torch.float32, device=device)

    classes = np.asarray(data.Y).dtype.kind in "iu"
    return TrainData(tensor(data.X), tensor(data.Y, classes), tensor(data.X_val), tensor(data.Y_val, classes),
                     tensor(data.W), tensor(data.W_val))
