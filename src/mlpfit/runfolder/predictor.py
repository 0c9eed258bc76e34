"""A run folder as a NumPy predictor: what ``mlpfit predict``, ``report`` and ``explain`` load, without importing torch."""

from __future__ import annotations

import os
from dataclasses import dataclass

from mlpfit.config.schema import FitConfig
from mlpfit.data.scaling import Standardizer
from mlpfit.errors import RunFolderError
from mlpfit.network.network import Network
from mlpfit.network.sizes import state_shapes
from mlpfit.runfolder import store, validate
from mlpfit.runfolder.encoding import link_of, table_encoding
from mlpfit.train.history import History


def load_predictor(path: str) -> tuple[Network, dict]:
    """Read and verify ``path`` (as every loader does); returns (predictor, summary) or one RunFolderError."""
    files = store.read(path, arrays="numpy")
    with validate.content_errors(files.path):
        return checked_predictor(files), files.summary


def checked_predictor(files: store.RunFiles) -> Network:
    """The predictor of files read with ``arrays="numpy"``, after the content checks every loader makes."""
    validate.check(files)  # before anything is built from the files
    return predictor_from_files(files)


@dataclass
class NumpyRun:
    """A whole run folder read without torch."""

    path: str  # the folder, as store.read names it
    config: FitConfig
    fitted: Network
    summary: dict
    history: History
    samples: dict | None  # the stored train/test sample as arrays, when the run has one


def load_numpy_run(path: str) -> NumpyRun:
    """Read and verify ``path`` as :func:`load_predictor` does, keeping config, history and samples too."""
    files = store.read(path, arrays="numpy")
    with validate.content_errors(files.path):
        fitted = checked_predictor(files)
        history = History.from_csv(files.history_csv, files.summary.get("history"))
        return NumpyRun(files.path, FitConfig.from_dict(files.config), fitted, files.summary, history, files.samples or None)


def predictor_from_files(files: store.RunFiles) -> Network:
    s, arch = files.summary, files.summary["architecture"]
    y_state = files.scalers.get("y")
    fitted = Network.from_state(
        files.state, stacked=bool(s.get("ensemble")), activation=arch["activation"],
        output_activation=arch["output_activation"], x_scaler=Standardizer.from_state(files.scalers["x"]),
        y_scaler=None if y_state is None else Standardizer.from_state(y_state), inputs=s["inputs"],
        outputs=s["outputs"], task=s["task"], classes=s.get("classes"), encoding=table_encoding(files),
        link=link_of(files.config))
    members = len(s["members"]) if s.get("ensemble") else 1
    check_shapes(fitted, [int(size) for size in arch["sizes"]], members, os.path.join(files.path, "model.safetensors"))
    return fitted


def check_shapes(fitted: Network, sizes: list[int], members: int, where: str) -> None:
    """The weights chain as summary.json's sizes say, with one stacked slice per member of an ensemble."""
    if {name: tuple(array.shape) for name, array in fitted.state_arrays().items()} != state_shapes(sizes, members):
        found = [tuple(w.shape) for w in fitted.weights]
        raise RunFolderError(f"{where} does not fit the architecture in summary.json ({found} for sizes {sizes}): re-run the fit")
