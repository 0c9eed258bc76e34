"""What a run folder's files say, checked before anything is built from them.

The checksums prove only that the files match the manifest; anyone can recompute a manifest. So
the content is checked too: config.json holds the known sections, the architecture has positive
sizes under a cap, the scalers have one finite mean and a positive std per input and output, an
ensemble's member count matches its weights. Each problem is one RunFolderError naming the file.
"""

from __future__ import annotations

import contextlib
import math
import os

import numpy as np

from mlpfit.config.options import ACTIVATIONS
from mlpfit.data.limits import MAX_CLASSES, image_shape_problem
from mlpfit.errors import RunFolderError, has_control, quoted_error
from mlpfit.network.sizes import count_parameters

CONFIG_SECTIONS = {"data", "model", "train", "run"}
TASKS = {"regress", "classify"}
MAX_MEMBERS = 4096
MAX_WIDTH = 2**20  # units per layer
MAX_LAYERS = 256
MAX_PARAMETERS = 2**30  # 4 GB of float32 weights, the model file's size cap
CONTENT_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError)


def check(files) -> None:
    """Refuse a run folder (store.RunFiles) whose content cannot be the output of a fit."""
    check_config(files.path, files.config)
    sizes = check_summary(files.path, files.summary)
    check_scalers(files.path, files.scalers, sizes, files.summary["task"])
    check_state(files.path, files.state, members_of(files.summary))


def refuse(path: str, name: str, problem: str) -> RunFolderError:
    return RunFolderError(f"{os.path.join(path, name)} {problem}: the folder was edited or damaged (re-run the fit)")


@contextlib.contextmanager
def content_errors(path: str):
    """Turn an error raised while using a run folder's (validated, but still edited) content into one line."""
    try:
        yield
    except CONTENT_ERRORS as err:
        raise RunFolderError(f"{path}: config.json, summary.json, scalers.json or history.csv has unexpected content "
                             f"({type(err).__name__}: {quoted_error(err)}) although manifest.json matches: re-run the fit") from None


def check_config(path: str, config) -> None:
    if not isinstance(config, dict) or not set(config) <= CONFIG_SECTIONS:
        raise refuse(path, "config.json", f"is not an object of the sections {', '.join(sorted(CONFIG_SECTIONS))}")
    if not all(isinstance(section, dict) for section in config.values()):
        raise refuse(path, "config.json", "has a section that is not an object")


def is_count(value, low: int = 1, high: int = MAX_WIDTH) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_summary(path: str, summary) -> list[int]:
    """The architecture's layer sizes, once they are known to be sane."""
    arch = summary.get("architecture") if isinstance(summary, dict) else None
    sizes = arch.get("sizes") if isinstance(arch, dict) else None
    if not (isinstance(sizes, list) and 2 <= len(sizes) <= MAX_LAYERS and all(is_count(s) for s in sizes)):
        raise refuse(path, "summary.json", f"has no architecture with 2 to {MAX_LAYERS} layer sizes from 1 to {MAX_WIDTH}")
    if count_parameters(sizes) * len(members_of(summary)) > MAX_PARAMETERS:
        raise refuse(path, "summary.json", f"declares more than {MAX_PARAMETERS} parameters")
    if not all(isinstance(arch.get(k), str) for k in ("activation", "output_activation")):
        raise refuse(path, "summary.json", "names no activation")
    unknown = [arch[k] for k in ("activation", "output_activation") if arch[k] not in ACTIVATIONS]
    if unknown:  # the Network resolves its activations only when it computes: refused here, not at predict
        raise refuse(path, "summary.json", f"names an unknown activation {unknown[0][:40]!r}")
    if not isinstance(summary.get("task"), str) or summary["task"] not in TASKS:
        raise refuse(path, "summary.json", f"has task {str(summary.get('task'))[:40]!r}, not regress or classify")
    inputs, outputs = summary.get("inputs"), summary.get("outputs")
    if not (is_column_names(inputs) and len(inputs) == sizes[0]):
        raise refuse(path, "summary.json", f"does not name {sizes[0]} distinct inputs, as its architecture has")
    width = summary.get("classes") if summary["task"] == "classify" else outputs
    if not (is_names(outputs, str) and all(map(is_printable, outputs)) and is_names(width) and len(width) == sizes[-1]):
        raise refuse(path, "summary.json", f"does not name {sizes[-1]} outputs or classes, as its architecture has")
    if summary["task"] == "classify" and len(width) > MAX_CLASSES:
        raise refuse(path, "summary.json", f"has {len(width)} classes, more than the {MAX_CLASSES} mlpfit fits")
    check_domain(path, summary.get("domain"))
    shape = summary.get("image_shape")
    if shape is not None and (image_shape_problem(shape) or shape[0] * shape[1] != sizes[0]):
        raise refuse(path, "summary.json", f"has an image_shape that {image_shape_problem(shape) or 'does not match its inputs'}")
    members_of(summary, path)
    return sizes


def check_domain(path: str, domain) -> None:
    """A formula's sampling box, read by predict to flag extrapolation: None, or name -> [lo, hi] numbers."""
    if domain is None:
        return
    boxes = domain.values() if isinstance(domain, dict) else None
    if boxes is None or not all(isinstance(b, list) and len(b) == 2 and all(is_number(v) and math.isfinite(v) for v in b)
                                and b[0] <= b[1] for b in boxes):
        raise refuse(path, "summary.json", "has a domain that is not input names with [low, high] finite numbers")


def is_names(value, kinds=(str, int, float)) -> bool:
    return isinstance(value, list) and all(isinstance(v, kinds) for v in value)


def is_column_names(value) -> bool:
    """Names that predict can match as columns: distinct, not empty, without surrounding whitespace
    (a table's header names are stripped; a formula's are its variables)."""
    return (is_names(value, str) and len(set(value)) == len(value)
            and all(v and v == v.strip() and is_printable(v) for v in value))


def is_printable(name: str) -> bool:
    """No control characters: a name is printed, and an escape sequence in it would drive the terminal (fit
    refuses such a column name in the table, so only an edited folder has one)."""
    return not has_control(name)


def members_of(summary: dict, path: str | None = None) -> list:
    """An ensemble's member records (one entry for a single model); checked when ``path`` is given."""
    if not summary.get("ensemble"):
        return [None]
    members = summary.get("members")
    ok = (isinstance(members, list) and 1 <= len(members) <= MAX_MEMBERS
          and all(isinstance(m, dict) and is_count(m.get("seed"), 0, 2**63) for m in members))
    if path is not None and not ok:
        raise refuse(path, "summary.json", f"has no list of 1 to {MAX_MEMBERS} ensemble members with integer seeds")
    return members if ok else [None]


def check_scalers(path: str, scalers, sizes: list[int], task: str) -> None:
    if not isinstance(scalers, dict) or "x" not in scalers:
        raise refuse(path, "scalers.json", "has no input scaler")
    check_scaler(path, scalers["x"], sizes[0], "input")
    if task == "classify" and scalers.get("y") is not None:
        raise refuse(path, "scalers.json", "scales the target of a classifier")
    if task == "regress":  # predictions are mapped back to original units through it
        check_scaler(path, scalers.get("y"), sizes[-1], "output")


def check_scaler(path: str, state, width: int, role: str) -> None:
    mean = state.get("mean") if isinstance(state, dict) else None
    std = state.get("std") if isinstance(state, dict) else None
    for name, values in (("mean", mean), ("std", std)):
        if not (isinstance(values, list) and len(values) == width):
            raise refuse(path, "scalers.json", f"has no {role} {name} of {width} numbers")
        if not all(is_number(v) and math.isfinite(v) for v in values):
            raise refuse(path, "scalers.json", f"has an {role} {name} that is not a finite number")
    if not all(v > 0 for v in std):
        raise refuse(path, "scalers.json", f"has an {role} std that is not positive (it divides)")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_state(path: str, state: dict, members: list) -> None:
    """Weights (torch tensors or, for the NumPy predictor, arrays) of floating type, finite, one slice per member."""
    for name, tensor in state.items():
        values = tensor if isinstance(tensor, np.ndarray) else tensor.detach().cpu().numpy()
        if not np.issubdtype(values.dtype, np.floating):
            raise refuse(path, "model.safetensors", f"holds {name} of type {values.dtype}, not floating point")
        if members != [None] and (values.ndim == 0 or values.shape[0] != len(members)):
            raise refuse(path, "model.safetensors", f"holds {name} for {values.shape[0] if values.ndim else 0} members, "
                         f"summary.json lists {len(members)}")
        if not bool(np.isfinite(values).all()):
            raise refuse(path, "model.safetensors", f"holds {name} with NaN or infinite weights")
