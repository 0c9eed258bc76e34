"""The built-in examples: the five source tutorials (shared/seeds) as one-word targets.

An example is a target plus the settings that make its lesson; a setting the user gives on the
command line always wins over the example's (examples only fill values left as ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Seed 002: ten points of a wavy curve, fit by a hand-written 1-5-1 sigmoid network.
CURVE10_X = [-10.0, -7.78, -5.56, -3.33, -1.11, 1.11, 3.33, 5.56, 7.78, 10.0]
CURVE10_Y = [0.9413, 1.1254, 1.2278, 1.1222, 1.1027, 0.4576, -0.1547, 0.4595, 0.9119, 0.9897]

# Seed 003: 36 points (x, y) on a circle of radius 14 (the tutorial's third column, a constant 1,
# was a hand-made bias input and is dropped: every Linear layer has its own bias).
CIRCLE_XY = [
    (8.3572, -11.3008), (6.2795, -12.5886), (4.0056, -13.4958), (1.6219, -13.9933), (-0.8157, -14.0706),
    (-3.2280, -13.7250), (-5.5392, -12.9598), (-7.6952, -11.8073), (-9.6076, -10.3035), (-11.2532, -8.4668),
    (-12.5568, -6.3425), (-13.4558, -4.0691), (-13.9484, -1.7293), (-14.0218, 0.7224), (-13.6791, 3.1211),
    (-12.9064, 5.4561), (-11.7489, 7.6081), (-10.2251, 9.5447), (5.4804, 12.8044), (7.6332, 11.6543),
    (9.5543, 10.1454), (11.1890, 8.3117), (12.4705, 6.2460), (13.3815, 3.9556), (13.8733, 1.5884),
    (13.9509, -0.8663), (13.6014, -3.2793), (12.8572, -5.5526), (11.7042, -7.7191), (10.1761, -9.6745),
    (-8.4301, 11.1605), (-6.3228, 12.4433), (-4.0701, 13.3401), (-1.6816, 13.8352), (0.7599, 13.9117),
    (3.1672, 13.5653),
]


@dataclass(frozen=True)
class Example:
    name: str
    summary: str  # one line for `mlpfit examples`
    lesson: str  # what the run teaches; goes into the report
    formula: str | None = None  # a formula target (sampled over `domain`)
    domain: tuple[float, float] | None = None
    points: str | None = None  # name of a fixed point set in POINT_SETS
    overrides: dict = field(default_factory=dict)  # "section.field" -> value, applied where the user left None


EXAMPLES: dict[str, Example] = {
    ex.name: ex
    for ex in [
        Example(
            "addition",
            "y = x1 + x2 with one Linear layer (seed 000): the weights come out as [1, 1]",
            "A single Linear layer is a linear equation; it learns y = 1·x1 + 1·x2 + 0 exactly and "
            "extrapolates beyond the training box, as only a linear model can.",
            formula="x1 + x2",
            domain=(0.0, 1.0),
            overrides={"model.hidden": [], "data.samples": 1000},
        ),
        Example(
            "curve10",
            "ten points of a wavy curve with a 1-5-1 sigmoid net (seed 002)",
            "Ten points and sixteen parameters: the net passes through every point, and nothing "
            "is held out, so the score says how well it memorized, not how it generalizes.",
            points="curve10",
            # Adam at lr 0.05 for 5,000 full-batch steps: every seed of 100 tried ends below MSE 1e-3
            # (the tutorial's hand-written SGD ends near 0.1).
            overrides={"model.hidden": [5], "model.activation": "sigmoid", "train.lr": 0.05, "train.epochs": 5000},
        ),
        Example(
            "circle",
            "x² + y² from seed 003's 36 points on a circle of radius 14",
            "All 36 points lie on one circle, where x² + y² is nearly constant (≈196). A net can fit "
            "them, but cannot learn x² + y² off the circle from them: for that, sample the plane, "
            "e.g. mlpfit fit \"x**2 + y**2\" --domain -14:14.",
            points="circle",
        ),
        Example(
            "multi",
            "x·eˣ − 10, eˣ and x² at once with a 32x5 GELU net (seed 004)",
            "Three outputs from one net. With targets standardized and no activation on the output "
            "layer, the −10 shift that broke the tutorial's GELU output is harmless.",
            formula="x*exp(x) - 10, exp(x), x**2",
            domain=(0.1, 2.1),
            overrides={"model.hidden": [32] * 5, "model.activation": "gelu"},
        ),
    ]
}


def point_set(name: str) -> tuple[list[str], np.ndarray, list[str], np.ndarray, str | None]:
    """(input names, X, output names, Y, truth formula or None) of a fixed point set."""
    if name == "curve10":
        return ["x"], np.array(CURVE10_X)[:, None], ["y"], np.array(CURVE10_Y)[:, None], None
    if name == "circle":
        xy = np.array(CIRCLE_XY)
        return ["x", "y"], xy, ["x**2 + y**2"], (xy**2).sum(axis=1, keepdims=True), "x**2 + y**2"
    raise KeyError(name)


def apply_overrides(config, example: Example) -> None:
    """Fill the example's settings into fields the user left unset (None)."""
    for key, value in example.overrides.items():
        section, attr = key.split(".")
        part = getattr(config, section)
        if getattr(part, attr) is None:
            setattr(part, attr, value)
    if example.domain is not None and config.data.domain is None:
        config.data.domain = example.domain
