"""The run folders under --runs, read-only: a table of them, one run's curves, and its files.

Every path the server opens comes from :func:`run_folder` or :func:`run_file`, which accept a
plain name only and check that the real path (symbolic links resolved) lies directly inside
--runs, so no request can reach a file outside it. The files themselves are read through
mlpfit.boundary: regular files only (a link, a FIFO or a device is not read), sizes and JSON
nesting capped before parsing. Only JSON and CSV are parsed here (no model is loaded), so the
list stays quick with many runs.
"""

from __future__ import annotations

import csv
import io
import os
import re

from mlpfit import boundary
from mlpfit.play.settings import UPLOAD_DIR

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+=-]{0,200}")
SERVED = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.(html|png|csv|json)")
MAX_RUNS = 500  # newest first; a folder with more is listed in part
MAX_JSON_BYTES = 4 * 2**20  # a run's summary.json or config.json is a few KB
MAX_HISTORY_BYTES = 64 * 2**20  # history.csv: hundreds of thousands of epochs


class NotFound(Exception):
    """The name is not a run (or file) under --runs; the server answers 404 and nothing more."""


def run_folder(runs_dir: str, name: str) -> str:
    root = os.path.realpath(runs_dir)
    if not NAME.fullmatch(name) or name == UPLOAD_DIR:
        raise NotFound(name)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(path) != root or not os.path.isfile(os.path.join(path, "manifest.json")):
        raise NotFound(name)
    return path


def run_file(runs_dir: str, name: str, file: str) -> str:
    folder = run_folder(runs_dir, name)
    if not SERVED.fullmatch(file):
        raise NotFound(file)
    path = os.path.realpath(os.path.join(folder, file))
    if os.path.dirname(path) != folder or not boundary.is_regular(os.path.join(folder, file)):
        raise NotFound(file)  # a link (even to a file beside it), a FIFO or a device is never served
    return path


def list_runs(runs_dir: str) -> list[dict]:
    """One row per run folder directly under --runs, newest first."""
    if not os.path.isdir(runs_dir):
        return []
    rows = []
    for entry in sorted(os.listdir(runs_dir)):
        try:
            rows.append(row(runs_dir, entry))
        except (NotFound, boundary.Unsafe, OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # not a run folder, or one this version cannot read: left out of the table
    rows.sort(key=lambda r: r["date"] or "", reverse=True)
    return rows[:MAX_RUNS]


def row(runs_dir: str, name: str) -> dict:
    folder = run_folder(runs_dir, name)
    summary = _json(folder, "summary.json")
    arch = summary.get("architecture") or {}
    sizes = "-".join(map(str, arch.get("sizes", [])))
    metric_name, value, split = headline(summary)
    return {
        "name": name,
        "target": summary.get("target") or summary.get("name"),
        "model": f"{sizes} {arch.get('activation', '')}".strip(),
        "metric": metric_name, "value": value, "split": split,
        "seconds": summary.get("seconds"),
        "epochs": summary.get("epochs"),
        "date": summary.get("created"),
        "report": os.path.isfile(os.path.join(folder, "report.html")),
    }


def headline(summary: dict) -> tuple[str, float | None, str | None]:
    """("R²", worst output's R², split) or ("accuracy", accuracy, split): test if held out, else val."""
    metrics = summary.get("metrics") or {}
    split = next((s for s in ("test", "val", "train") if metrics.get(s)), None)
    if split is None:
        return "", None, None
    scores = metrics[split]
    if summary.get("task") == "classify":
        return "accuracy", scores.get("accuracy"), split
    r2 = scores.get("r2") or []
    return "R²", (min(r2) if r2 else None), split


def detail(runs_dir: str, name: str) -> dict:
    """A run's loss curves and its config, for the comparison view."""
    folder = run_folder(runs_dir, name)
    data = boundary.read_regular(os.path.join(folder, "history.csv"), MAX_HISTORY_BYTES)
    if data is None:
        raise NotFound(name)
    history = list(csv.DictReader(io.StringIO(data.decode("utf-8", errors="replace"))))
    curves = {key: [_float(r.get(key)) for r in history] for key in ("train_loss", "val_loss")}
    return {**row(runs_dir, name), "epoch": [int(r["epoch"]) for r in history], **curves,
            "config": _json(folder, "config.json")}


def _json(folder: str, file: str) -> dict:
    value = boundary.read_json(os.path.join(folder, file), MAX_JSON_BYTES)
    if not isinstance(value, dict):
        raise ValueError(f"{file} is not an object")
    return value


def _float(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) != float("inf") else None
