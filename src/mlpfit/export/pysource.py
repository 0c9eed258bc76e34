"""Pieces of Python source text for the NumPy module: array literals, activations, a docstring.

Nothing from the run is ever placed in a ``#`` comment or in code except through ``repr`` (a
valid literal) or :func:`docstring_text` (escaped): a CSV header may hold any text, a newline
or quotes included, and must not be able to break out into code.
"""

from __future__ import annotations

import numpy as np

LINE = 110  # characters per line of numbers

# The activations as NumPy code, as PyTorch defines them (the same as mlpfit.scratch.activations);
# each takes and returns arrays of the network's dtype.
ACTIVATION_SOURCE = {
    "identity": '''
def identity(z):
    # the output of a regression net: the weighted sum itself
    return z
''',
    "relu": '''
def relu(z):
    # max(0, z): a unit is silent below zero and passes its input on above
    return np.maximum(z, 0)
''',
    "tanh": '''
def tanh(z):
    # (e^z - e^-z) / (e^z + e^-z): an S-curve from -1 to 1
    return np.tanh(z)
''',
    "sigmoid": '''
def sigmoid(z):
    # 1 / (1 + e^-z): an S-curve from 0 to 1 (e^-z may overflow to inf for very negative z: 1/inf is 0, right)
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))
''',
    "silu": '''
def silu(z):
    # z * sigmoid(z), also called swish: like relu, but smooth and slightly negative just below 0
    return z * sigmoid(z)
''',
    "gelu": '''
ERF = np.vectorize(math.erf, otypes=[np.float64])  # NumPy has no erf; the standard library's, element by element


def gelu(z):
    # z * P(N(0,1) < z) = z * (1 + erf(z / sqrt(2))) / 2: the unit passes z in proportion to how large it is
    return (z * 0.5 * (1 + ERF(z * math.sqrt(0.5)))).astype(z.dtype)
''',
    "elu": '''
def elu(z):
    # z above 0, e^z - 1 below: smooth where relu has a corner (min() keeps exp from overflowing)
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
''',
    "leaky_relu": '''
def leaky_relu(z):
    # like relu, but a small slope 0.01 below 0, so a unit never goes quite dead
    return np.where(z > 0, z, 0.01 * z)
''',
    "softplus": '''
def softplus(z):
    # log(1 + e^z), a smooth relu; above 20 it equals z to float precision (PyTorch's threshold)
    return np.where(z > 20, z, np.log1p(np.exp(np.minimum(z, 20))))
''',
}
NEEDS = {"silu": ["sigmoid"]}  # activations written in terms of another one


def activation_source(names: list[str]) -> str:
    """The definitions of ``names`` (and what they use), each once, in a fixed order."""
    wanted = set(names) | {need for name in names for need in NEEDS.get(name, [])}
    return "\n\n\n".join(ACTIVATION_SOURCE[name].strip("\n") for name in ACTIVATION_SOURCE if name in wanted)


def number(value, dtype: np.dtype) -> str:
    """The shortest text that reads back as exactly ``value`` when NumPy casts it to ``dtype``."""
    text = str(dtype.type(value))
    if dtype.type(float(text)) != dtype.type(value):  # double rounding (text -> float64 -> float32) missed
        text = repr(float(value))  # the float32 value exactly, as a float64: always casts back to itself
    return text


def array_literal(array: np.ndarray, indent: int = 4) -> str:
    """``np.array([...], dtype=np.float32)`` with one row of numbers per line (wrapped), nested as the array."""
    array = np.asarray(array)
    body = nested(array, indent)
    return f"np.array({body}, dtype=np.{array.dtype.name})"


def nested(array: np.ndarray, indent: int) -> str:
    if array.ndim == 1:
        return wrapped([number(v, array.dtype) for v in array], indent)
    pad = " " * (indent + 4)
    inner = [nested(row, indent + 4) for row in array]
    return "[\n" + "".join(f"{pad}{part},\n" for part in inner) + " " * indent + "]"


def wrapped(items: list[str], indent: int) -> str:
    """``[a, b, c]`` on one line, or over several lines of at most :data:`LINE` characters."""
    flat = "[" + ", ".join(items) + "]"
    if len(flat) + indent <= LINE:
        return flat
    pad = " " * (indent + 4)
    lines, line = [], ""
    for item in items:
        if line and len(pad) + len(line) + len(item) + 2 > LINE:
            lines.append(pad + line.rstrip())
            line = ""
        line += item + ", "
    lines.append(pad + line.rstrip())
    return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"


def docstring_text(text: str) -> str:
    """``text`` made safe inside a triple-quoted string: backslashes, quotes and control characters escaped."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return "".join(c if c.isprintable() or c == "\n" else c.encode("unicode_escape").decode("ascii") for c in text)
