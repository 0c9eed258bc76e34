"""Layer sizes and parameter counts, without torch (defaults and checks need them before any model exists)."""

from __future__ import annotations


def layer_sizes(inputs: int, hidden: list[int], outputs: int) -> list[int]:
    return [inputs, *hidden, outputs]


def state_shapes(sizes: list[int], members: int = 1) -> dict[str, tuple]:
    """The weights' names and shapes of an MLP of these sizes, as torch's state_dict names them:
    ``layers.{i}.weight`` [out, in] and ``.bias`` [out]; K > 1 stacked members ``members.layers...``
    with a leading K."""
    prefix, lead = ("layers", ()) if members == 1 else ("members.layers", (members,))
    shapes = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[f"{prefix}.{i}.weight"], shapes[f"{prefix}.{i}.bias"] = (*lead, b, a), (*lead, b)
    return shapes


def count_parameters(sizes: list[int]) -> int:
    """Weights plus biases of the Linear layers, without building the model."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
