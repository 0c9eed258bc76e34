"""A run folder, written and read: the one place that knows which files a fit leaves behind and how they
become a :class:`~mlpfit.network.Network` again (JSON and safetensors only, no pickle, no torch).

Reading verifies the manifest's digests and checks every file's content against the architecture the
summary records (runfolder.validate) before anything is built from it; a damaged or edited folder ends as
one RunFolderError.
"""

# Deferred imports: safetensors and the table encoding (pandas) load only when a run needs them.

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from mlpfit.config.schema import FitConfig
from mlpfit.data.scaling import Standardizer
from mlpfit.errors import RunFolderError
from mlpfit.network.network import Network, link_of_loss
from mlpfit.network.sizes import state_shapes
from mlpfit.runfolder import store, validate
from mlpfit.train.history import History


@dataclass
class Run:
    """A whole run folder, read and checked."""

    path: str  # the folder, as store.read names it
    config: FitConfig
    network: Network
    summary: dict
    history: History
    samples: dict | None  # the stored train/test sample as arrays, when the run has one


def save(path: str, config: dict, network: Network, history: History, summary: dict,
         samples: dict[str, np.ndarray] | None) -> None:
    """Write every file of a run folder (store.save, atomically); ``config`` is the resolved config as a dict."""
    from safetensors.numpy import save as save_arrays

    scalers = {"x": network.x_scaler.state(), "y": None if network.y_scaler is None else network.y_scaler.state()}
    extra = {store.SAMPLE_FILE: save_arrays({k: np.ascontiguousarray(v) for k, v in samples.items()})} if samples else {}
    if network.encoding is not None:  # a table's columns -> inputs, applied again by predict
        extra[store.ENCODING_FILE] = store.json_bytes(network.encoding.to_dict())
    store.save(path, config=config, state=network.state_arrays(), scalers=scalers,
               history_csv=history.to_csv(), summary={**summary, "history": history.meta()}, extra=extra)


def load(path: str, check_derived: bool = True) -> Run:
    """Read and verify ``path``: the config, the network, the summary, the history and the samples."""
    files = store.read(path, check_derived)
    with validate.content_errors(files.path):  # what the checks do not cover still ends as one line
        network = checked_network(files)
        history = History.from_csv(files.history_csv, files.summary.get("history"))
        return Run(files.path, FitConfig.from_dict(files.config), network, files.summary, history,
                   files.samples or None)


def load_network(path: str) -> tuple[Network, dict]:
    """Only what predicting needs, read and verified as :func:`load` does: (network, summary)."""
    files = store.read(path)
    with validate.content_errors(files.path):
        return checked_network(files), files.summary


def checked_network(files: store.RunFiles) -> Network:
    """The network of files read by store.read, after the content checks every reader makes."""
    validate.check(files)  # sizes, counts and scalers, before anything is allocated from them
    s, arch = files.summary, files.summary["architecture"]
    y_state = files.scalers.get("y")
    network = Network.from_state(
        files.state, stacked=bool(s.get("ensemble")), activation=arch["activation"],
        output_activation=arch["output_activation"], x_scaler=Standardizer.from_state(files.scalers["x"]),
        y_scaler=None if y_state is None else Standardizer.from_state(y_state), inputs=s["inputs"],
        outputs=s["outputs"], task=s["task"], classes=s.get("classes"), encoding=table_encoding(files),
        link=link_of(files.config))
    members = len(s["members"]) if s.get("ensemble") else 1
    check_shapes(network, [int(size) for size in arch["sizes"]], members, os.path.join(files.path, "model.safetensors"))
    return network


def check_shapes(network: Network, sizes: list[int], members: int, where: str) -> None:
    """The weights chain as summary.json's sizes say, with one stacked slice per member of an ensemble."""
    if {name: tuple(array.shape) for name, array in network.state_arrays().items()} != state_shapes(sizes, members):
        found = [tuple(w.shape) for w in network.weights]
        raise RunFolderError(f"{where} does not fit the architecture in summary.json ({found} for sizes {sizes}): re-run the fit")


def table_encoding(files: store.RunFiles):
    """The run's TableEncoding, checked against the model's inputs, or None (formulas, images, older runs)."""
    if files.encoding is None:
        return None
    # Imported here: the encoding module needs pandas (0.25 s), which a formula or image run never uses.
    from mlpfit.data.sources.encoding import TableEncoding

    name = os.path.join(files.path, store.ENCODING_FILE)
    encoding = TableEncoding.from_dict(files.encoding, name)
    if encoding.names != files.summary["inputs"]:
        raise RunFolderError(f"{name} does not match the inputs in summary.json: re-run the fit")
    return encoding


def link_of(config: dict) -> str:
    """The output link the run's loss implies: bce trains logits of 0/1 targets, poisson log-rates."""
    return link_of_loss(config.get("train", {}).get("loss"))
