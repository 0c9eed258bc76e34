"""Torch state as plain NumPy and back: what leaves the torch engines (checkpoints, the network's weights,
an optimizer's moments for a later fit) holds no tensor, so nothing outside engines/ needs torch to read it."""

from __future__ import annotations

import numpy as np
import torch


def to_numpy(obj):
    """``obj`` with every tensor, however deeply nested in dicts, lists and tuples, as a NumPy copy."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy().copy()
    if isinstance(obj, dict):
        return {k: to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_numpy(v) for v in obj)
    return obj


def to_torch(obj, device=None):
    """The inverse of :func:`to_numpy`: every NumPy array (a 0-d one too) becomes a tensor on ``device``."""
    if isinstance(obj, np.ndarray):
        obj = torch.from_numpy(obj.copy())
    if isinstance(obj, torch.Tensor):
        return obj if device is None else obj.to(device)
    if isinstance(obj, dict):
        return {k: to_torch(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(v, device) for v in obj)
    return obj


def network_state(model) -> dict[str, np.ndarray]:
    """The model's weights as NumPy arrays under its parameter names (what a Network is built from)."""
    return {name: value.detach().cpu().numpy().copy() for name, value in model.state_dict().items()}
