"""The playground's settings: the page's URL query, checked and limited, as a FitConfig.

The query names are the ``fit`` options without their dashes (``batch-size=64``), so a link
reads like the command it stands for; ``target`` is the formula (or ``upload:NAME`` for a CSV
file uploaded from the page) and ``target-column`` the CSV column to predict. Every setting has
a default, so an empty query is a working page. The limits keep one page from exhausting the
machine; ``mlpfit fit`` has none of them.
"""

from __future__ import annotations

import math
import os
import re
import shlex
from dataclasses import dataclass
from typing import Mapping

from mlpfit import boundary
from mlpfit.config import schema as cfg
from mlpfit.errors import UsageError

DEFAULTS = {
    "target": "sin(3*x)",
    "target-column": "",
    "drop": "",  # an uploaded table's columns left out of the inputs, comma-separated (fit's --drop)
    "domain": "-2:2",
    "samples": "1000",
    "hidden": "16,16",
    "activation": "tanh",
    "output-activation": "identity",
    "dropout": "0",
    "optimizer": "adam",
    "lr": "0.01",
    "batch-size": "64",
    "epochs": "200",
    "seed": "0",
}

MAX_TARGET_CHARS = 300
MAX_SAMPLES = 20_000  # formula points, or rows of an uploaded table
MAX_WIDTH = 128  # units in one hidden layer
MAX_DEPTH = 6  # hidden layers
MAX_EPOCHS = 5_000
MAX_STEPS = 1_000_000  # optimizer steps in all (epochs x batches): about ten minutes of a tiny net
MAX_INPUTS = 64
MAX_SEED = 2**31 - 1

UPLOAD_PREFIX = "upload:"
UPLOAD_DIR = "uploads"  # under --runs: the only place the server writes besides run folders
UPLOAD_NAME = re.compile(r"[0-9a-f]{12}-[A-Za-z0-9_.-]{1,80}\.csv")


@dataclass
class Settings:
    values: dict[str, str]  # every query name with its (default-filled) text: the page's URL
    config: cfg.FitConfig  # validated, CPU, nothing written
    upload: str | None  # path of the uploaded CSV under --runs, or None for a formula or example

    @property
    def target(self) -> str:
        return self.values["target"]


def parse(query: Mapping[str, str], runs_dir: str) -> Settings:
    """Refuse the first bad value with a UsageError that names it and the fix."""
    unknown = sorted(set(query) - set(DEFAULTS) - {"page"})
    if unknown:
        raise UsageError(f"unknown setting {unknown[0]!r}: the settings are {', '.join(DEFAULTS)}")
    if "target" in query and not str(query["target"]).strip():
        check_target("")  # cleared by the page (a refused upload): never fall back to the default formula
    values = {name: str(query.get(name) or default).strip() for name, default in DEFAULTS.items()}
    upload = upload_path(values["target"], runs_dir)
    hidden = _hidden(values["hidden"])
    data = cfg.DataConfig(
        target=upload or check_target(values["target"]),
        domain=cfg.parse_domain(values["domain"]),
        samples=_integer(values, "samples", 10, MAX_SAMPLES),
        target_columns=cfg.parse_columns(values["target-column"]) if upload and values["target-column"] else None,
        drop=cfg.parse_columns(values["drop"]) if upload and values["drop"] else None,
    )
    model = cfg.ModelConfig(hidden=hidden, activation=values["activation"],
                            output_activation=values["output-activation"], dropout=_dropout(values["dropout"]))
    train = cfg.TrainConfig(epochs=_integer(values, "epochs", 1, MAX_EPOCHS),
                            batch_size=_integer(values, "batch-size", 1, MAX_SAMPLES), lr=_number(values, "lr", 10.0),
                            optimizer=values["optimizer"], seed=_integer(values, "seed", 0, MAX_SEED), device="cpu",
                            engine="torch")  # the numbers the page has always shown: the torch engine's
    config = cfg.validate(cfg.FitConfig(data, model, train, cfg.RunConfig(quiet=True)))
    return Settings(values, config, upload)


def check_work(config: cfg.FitConfig, rows: int, inputs: int) -> None:
    """Limits that need the data: table rows, inputs, and the optimizer steps they make."""
    if rows > MAX_SAMPLES:
        raise UsageError(f"the table has {rows} rows; the playground takes at most {MAX_SAMPLES}: "
                         "use a smaller sample, or mlpfit fit FILE.csv for the whole table")
    if inputs > MAX_INPUTS:
        raise UsageError(f"the data have {inputs} inputs; the playground draws at most {MAX_INPUTS}: "
                         "use mlpfit fit for wider data")
    steps = config.train.epochs * math.ceil(rows / min(config.train.batch_size, rows))
    if steps > MAX_STEPS:
        raise UsageError(f"{config.train.epochs} epochs of batches of {config.train.batch_size} make {steps} steps; "
                         f"the playground takes at most {MAX_STEPS}: use fewer epochs or a larger batch size")


def check_target(text: str) -> str:
    if not text:
        raise UsageError("the target is empty: type a formula, e.g. sin(3*x) or x**2 + y**2")
    if len(text) > MAX_TARGET_CHARS:
        raise UsageError(f"the target has {len(text)} characters; the playground takes at most {MAX_TARGET_CHARS}")
    return text


def upload_path(target: str, runs_dir: str) -> str | None:
    """``upload:NAME`` as the path of an uploaded file under --runs/uploads; None for a formula."""
    if not target.startswith(UPLOAD_PREFIX):
        return None
    name = target[len(UPLOAD_PREFIX):]
    folder = os.path.join(runs_dir, UPLOAD_DIR)
    path = os.path.join(folder, name)
    # Only a regular file in a real uploads folder: a link planted there would read outside --runs.
    if not UPLOAD_NAME.fullmatch(name) or os.path.islink(folder) or not boundary.is_regular(path):
        raise UsageError(f"no uploaded table {name!r}: upload the CSV file again")
    return path


def _hidden(text: str) -> list[int]:
    sizes = cfg.parse_hidden(text)
    if len(sizes) > MAX_DEPTH or any(size > MAX_WIDTH for size in sizes):
        raise UsageError(f"hidden {text!r} is too large for the playground: at most {MAX_DEPTH} layers "
                         f"of at most {MAX_WIDTH} units (mlpfit fit has no such limit)")
    return sizes


def _integer(values: dict, name: str, low: int, high: int) -> int:
    text = values[name]
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, got {text!r}: e.g. {DEFAULTS[name]}") from None
    if not low <= value <= high:
        raise UsageError(f"{name} must be between {low} and {high} in the playground, got {value}")
    return value


def _number(values: dict, name: str, high: float) -> float:
    text = values[name]
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number, got {text!r}: e.g. {DEFAULTS[name]}") from None
    if not 0 < value <= high:
        raise UsageError(f"{name} must be > 0 and at most {high:g}, got {text}")
    return value


def _dropout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"dropout must be a number in [0, 1), got {text!r}: e.g. 0 or 0.2") from None
    return value  # cfg.validate checks the range


# Options equal to `mlpfit fit`'s own defaults are left out of the command, so it stays short.
FIT_DEFAULTS = {"output-activation": "identity", "optimizer": "adam", "seed": "0", "dropout": "0"}


def command(settings: Settings) -> str:
    """The `mlpfit fit ...` line that trains the same model (same seed, on the CPU)."""
    values, config = settings.values, settings.config
    words = ["mlpfit", "fit", settings.upload or values["target"]]
    if settings.upload:
        if values["target-column"]:
            words += ["--target", values["target-column"]]
        if values["drop"]:
            words += ["--drop", values["drop"]]
    else:
        words += [f"--domain={values['domain']}", "--samples", str(config.data.samples)]
    for name in ("hidden", "activation", "output-activation", "dropout", "optimizer", "lr", "batch-size", "epochs",
                 "seed"):
        value = _canonical(name, values[name])
        if FIT_DEFAULTS.get(name) != value:
            words += [f"--{name}", value]
    words += ["--device", "cpu", "--engine", "torch"]  # the engine the page trains with: the same numbers
    return " ".join(shlex.quote(word) for word in words)


def _canonical(name: str, text: str) -> str:
    if name in ("dropout", "lr"):
        return f"{float(text):g}"
    if name == "hidden":
        sizes = cfg.parse_hidden(text)
        return ",".join(map(str, sizes)) if sizes else "none"
    return text
