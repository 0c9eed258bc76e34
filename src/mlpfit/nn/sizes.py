"""Layer sizes and parameter counts, without torch (defaults and checks need them before any model exists)."""

from __future__ import annotations


def layer_sizes(inputs: int, hidden: list[int], outputs: int) -> list[int]:
    return [inputs, *hidden, outputs]


def count_parameters(sizes: list[int]) -> int:
    """Weights plus biases of the Linear layers, without building the model."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
