"""Turn a TARGET (example name, formula, CSV file, IDX folder) into a :class:`~mlpfit.dataset.Dataset`."""

from __future__ import annotations

import os

import numpy as np

from mlpfit.dataset import Dataset
from mlpfit.errors import UsageError
from mlpfit.sources.examples import EXAMPLES, apply_overrides, point_set


def target_kind(target: str) -> str:
    """'example', 'csv', 'idx' or 'formula', decided without reading any file."""
    if target in EXAMPLES or target in IMAGE_EXAMPLES:
        return "example"
    if target.lower().endswith(".csv"):
        return "csv"
    if os.path.isdir(target):
        return "idx"
    if os.path.isfile(target):
        raise UsageError(f"{target!r} is a file but not a .csv: give a CSV table, an IDX folder, a formula or an example")
    return "formula"


# Image examples are read by the image source (issue: tables and images); listed here for dispatch.
IMAGE_EXAMPLES = ("digits", "mnist", "fashion-mnist")


def prepare(config) -> None:
    """Apply an example's settings to the config before anything is validated against data."""
    example = EXAMPLES.get(config.data.target)
    if example is not None:
        apply_overrides(config, example)


def load_data(config) -> Dataset:
    target = config.data.target
    kind = target_kind(target)
    if kind == "example" and target in EXAMPLES:
        return _load_example(config, EXAMPLES[target])
    if kind == "formula":
        return _load_formula(config, target, name="formula")
    raise UsageError(f"{target!r}: tables and image folders are not supported yet")


def _load_example(config, example) -> Dataset:
    if example.formula is not None:
        data = _load_formula(config, example.formula, name=example.name)
    else:
        inputs, X, outputs, Y, formula = point_set(example.points)
        data = Dataset(example.name, X, Y, inputs, outputs, formula=formula)
    data.notes.append(example.lesson)
    return data


def _load_formula(config, text: str, name: str) -> Dataset:
    from mlpfit.sources.formula import parse_formula
    from mlpfit.sources.sampling import check_finite, resolve_domain, sample_box

    formula = parse_formula(text)
    box = resolve_domain(formula.inputs, config.data.domain)
    rng = np.random.default_rng(config.train.seed)
    X = sample_box(box, config.data.samples, rng)
    with np.errstate(all="ignore"):
        Y = formula.numpy(X)
    check_finite(X, Y, formula.text, box)
    return Dataset(name, X, Y, list(formula.inputs), list(formula.outputs), formula=formula.text, domain=box)
