"""How values travel to the page: arrays as float32 base64, NaN and infinity as null, JSON text."""

from __future__ import annotations

import base64
import json
import math

import numpy as np


def encode(values) -> str:
    """float32 little-endian, base64: a tenth of the size of JSON numbers, decoded by Float32Array."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def finite(value):
    """NaN and infinity are not JSON: a diverged loss or score is sent as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value) -> str:
    return json.dumps(finite(value), allow_nan=False)
