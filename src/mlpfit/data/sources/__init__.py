"""Turn a TARGET (example name, formula, CSV file, IDX folder) into a :class:`~mlpfit.data.dataset.Dataset`."""

# Deferred imports: the table reader (pandas, 0.25 s) loads only for a CSV target.

from __future__ import annotations

import os

import numpy as np

from mlpfit.data.dataset import Dataset
from mlpfit.data.sources.examples import EXAMPLES, apply_overrides, point_set
from mlpfit.data.sources.formula import parse_formula
from mlpfit.data.sources.idx import find_dataset
from mlpfit.data.sources.images import digits_dataset, idx_dataset
from mlpfit.data.sources.sampling import check_finite, resolve_domain, sample_box
from mlpfit.errors import UsageError


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


# Image examples, read by sources.images; name -> the line `mlpfit examples` prints.
IMAGE_EXAMPLES = {
    "digits": "scikit-learn's bundled 8x8 digits, 10 classes: works anywhere offline",
    "mnist": "MNIST digits with a 784-...-10 MLP (seed 001): needs --data-dir or the files in ~/data/mnist",
    "fashion-mnist": "Fashion-MNIST, 10 clothing classes: Debian's dataset-fashion-mnist, found by itself",
}


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
    if kind == "example":
        return _load_image_example(config, target)
    if kind == "csv":
        return load_table(config, target)
    if kind == "idx":
        return idx_dataset(target)
    return load_formula(config, target, name="formula")


def _load_image_example(config, name: str) -> Dataset:
    if name == "digits":
        return digits_dataset()

    return idx_dataset(find_dataset(name, config.data.data_dir), name)


def load_table(config, path: str) -> Dataset:
    """The CSV file at ``path`` (no guessing of the target's kind: the playground reads uploads so)."""
    from mlpfit.data.sources.table import read_table

    d = config.data
    table = read_table(path, d.target_columns, d.feature_columns, d.task, drop=d.drop or (), impute=d.impute,
                       squash=d.scale, sep=d.sep, decimal=d.decimal, thousands=d.thousands)
    return table_dataset(table, os.path.splitext(os.path.basename(path))[0])


def frame_dataset(config, frame) -> Dataset:
    """A DataFrame (the Python API) as a Dataset, by the rules of a CSV file."""
    from mlpfit.data.sources.table import frame_table

    d = config.data
    table = frame_table(frame, d.target_columns, d.feature_columns, d.task, drop=d.drop or (), impute=d.impute,
                        squash=d.scale)
    return table_dataset(table, "table")


def table_dataset(table, name: str) -> Dataset:
    """Inputs are the encoded columns; the encoding travels with the dataset to the run folder."""
    inputs, notes = table.encoding.names, [table.reading, *table.encoding.notes()]
    if table.task == "regress":
        return Dataset(name, table.X, table.Y.astype(np.float64), inputs, table.targets, notes=notes,
                       encoding=table.encoding, table=True)
    labels = table.Y.reshape(-1)
    classes, Y = np.unique(labels, return_inverse=True)
    return Dataset(name, table.X, Y.astype(np.int64), inputs, table.targets, task="classify",
                   classes=[_plain(c) for c in classes], notes=notes, encoding=table.encoding,
                   table=True)


def _plain(label):
    """A NumPy scalar label as a plain Python value, so it survives JSON unchanged."""
    return label.item() if hasattr(label, "item") else label


def _load_example(config, example) -> Dataset:
    if example.formula is not None:
        data = load_formula(config, example.formula, name=example.name)
    else:
        inputs, X, outputs, Y, formula = point_set(example.points)
        data = Dataset(example.name, X, Y, inputs, outputs, formula=formula)
    data.notes.append(example.lesson)
    return data


def load_formula(config, text: str, name: str) -> Dataset:
    """``text`` as a formula, sampled over the config's domain; never looks at the file system."""

    formula = parse_formula(text)
    box = resolve_domain(formula.inputs, config.data.domain)
    rng = np.random.default_rng(config.train.seed)
    X = sample_box(box, config.data.samples, rng)
    with np.errstate(all="ignore"):
        Y = formula.numpy(X)
    check_finite(X, Y, formula.text, box)
    return Dataset(name, X, Y, list(formula.inputs), list(formula.outputs), formula=formula.text, domain=box)
