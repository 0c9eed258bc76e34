"""The page's problem as a Dataset: a formula, a built-in example, or a table uploaded to --runs.

The target's kind is decided here, never by looking at the file system: `mlpfit fit` reads a
target that names a file or folder, but a page must not read anything outside --runs, so a
formula goes straight to the formula parser and only ``upload:NAME`` reaches the table reader.
"""

# Deferred imports: the table reader (pandas) loads only for an uploaded table.

from __future__ import annotations

from mlpfit.config import schema as cfg
from mlpfit.data.dataset import Dataset
from mlpfit.data.sources import IMAGE_EXAMPLES, load_formula, load_table
from mlpfit.data.sources.examples import EXAMPLES, point_set
from mlpfit.data.sources.formula import parse_formula
from mlpfit.errors import UsageError
from mlpfit.fitting.prepare import load_dataset
from mlpfit.play.settings import Settings, check_target, check_work, upload_path


def load(settings: Settings) -> Dataset:

    config, target = settings.config, settings.config.data.target
    if settings.upload:
        dataset = load_table(config, settings.upload)
    elif target in EXAMPLES:  # formulas and point sets held in the package
        dataset = load_dataset(config)
    elif target in IMAGE_EXAMPLES:
        raise UsageError(f"{target!r} is an image set, too wide to draw here: run it with mlpfit fit {target}")
    else:
        dataset = load_formula(config, target, name="formula")
    check_work(config, len(dataset.X), dataset.X.shape[1])
    return dataset


def describe(target: str, column: str, runs_dir: str, drop: str = "") -> dict:
    """The inputs and outputs a target has, for drawing the network before training (no data made)."""

    path = upload_path(target, runs_dir)
    if path is not None:
        from mlpfit.data.sources.table import read_table

        table = read_table(path, column or None, impute=True, drop=cfg.parse_columns(drop) if drop else ())
        return {"inputs": table.features, "outputs": table.targets}
    if target in IMAGE_EXAMPLES:
        raise UsageError(f"{target!r} is an image set, too wide to draw here: run it with mlpfit fit {target}")
    example = EXAMPLES.get(target)
    if example is not None and example.points is not None:
        inputs, _, outputs, _, _ = point_set(example.points)
        return {"inputs": inputs, "outputs": outputs}
    formula = parse_formula(example.formula if example is not None else check_target(target))
    return {"inputs": list(formula.inputs), "outputs": list(formula.outputs)}
