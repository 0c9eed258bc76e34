"""The export itself: read the run, build the file, write it atomically, check it against mlpfit."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid

import numpy as np

from mlpfit import atomic
from mlpfit.data.sources.raw_rows import encode_rows
from mlpfit.errors import UsageError
from mlpfit.export import check, destination, network, to_onnx, to_python
from mlpfit.runfolder.run import load


def export_run_folder(run_dir: str, fmt: str, out: str | None = None, force: bool = False) -> dict:
    """Export the run folder ``run_dir``; ``out`` defaults to ``model.onnx`` / ``model.py`` inside it."""
    # one verified read (the loader's checks and messages: not a run folder, damaged, ...): the network, and the
    # training sample whose range is the domain of a CSV run's inputs
    run = load(run_dir)
    return export_model(run.network, run.summary, fmt, out, force, samples=run.samples, run_dir=run_dir)


def export_model(fitted, summary: dict, fmt: str, out: str | None = None, force: bool = False,
                 samples: dict | None = None, run_dir: str | None = None) -> dict:
    """Export a fitted model in memory (the API's ``Result.export``); returns what was written."""
    destination.check_format(fmt)
    path = destination.resolve(run_dir, fmt, out)
    net = network.from_fitted(fitted, summary, samples)
    if not all(np.isfinite(a).all() for a in [*net.weights, *net.biases]):
        raise UsageError("the run's weights are not all finite numbers (the fit diverged): refit, e.g. with a smaller --lr, "
                         "then export")
    if fmt == "onnx":
        written, error = export_onnx(net, fitted, path, force)
        interface = {"tensors": to_onnx.output_lines(net), "column_inputs": to_onnx.input_lines(net)}
    else:
        written, error = export_python(net, fitted, path, force)
        interface = {"functions": to_python.functions(net),
                     "columns": [c["name"] for c in net.encoding["columns"]] if net.encoding else None}
    return {"format": fmt, "path": path, "files": written, "bytes": sum(os.path.getsize(f) for f in written),
            "max_error": error, "checked_points": len(network.fresh_points(net)), "inputs": net.inputs,
            "outputs": net.outputs, "classes": net.classes, "members": net.members, **interface}


def export_onnx(net, fitted, path: str, force: bool) -> tuple[list[str], float]:
    to_onnx.require_onnx()
    destination.check_replace(path, force, onnx_is_ours)
    data, error = to_onnx.to_bytes(net, fitted)  # checked in ONNX Runtime before anything is written
    atomic.write_bytes(path, data)
    return [path], error


def onnx_is_ours(path: str) -> bool:
    onnx, _ = to_onnx.require_onnx()
    try:
        return onnx.load(path, load_external_data=False).producer_name == to_onnx.PRODUCER
    except Exception:  # not an ONNX file at all (protobuf raises its own DecodeError, and others)
        return False


def export_python(net, fitted, path: str, force: bool) -> tuple[list[str], float]:
    npz = to_python.npz_path(path) if net.parameters > to_python.INLINE_PARAMETERS else None
    destination.check_replace(path, force, lambda p: destination.head_contains(p, to_python.MARKER))
    if npz:
        destination.check_replace(npz, force, lambda p: destination.zip_has(p, to_python.NPZ_MARKER + ".npy"))
    written, digest = [], None
    try:
        if npz:
            data = to_python.npz_bytes(net)
            digest = to_python.sha256(data)
            atomic.write_bytes(npz, data)
            written.append(npz)
        source = to_python.module_source(net, example(net, fitted, path), npz and os.path.basename(npz), digest)
        atomic.write_text(path, source)
        written.insert(0, path)
        return written, check_module(path, net, fitted)
    except BaseException:
        destination.remove_written(written)  # a module that disagrees with mlpfit is not left behind
        raise


def example(net, fitted, path: str) -> dict:
    """A point in the middle of the inputs' range and mlpfit's answer there, for the module's docstring."""
    box = net.about.get("domain")
    X = np.array([[sum(box[name]) / 2 for name in net.inputs]]) if box else net.x_mean[None, :]
    X = np.array([[float(f"{v:.4g}") for v in X[0]]])  # the point as the docstring prints it
    module = os.path.basename(path)[:-3]
    if net.task == "classify":
        proba = fitted.predict_proba(X)
        return {"module": module, "X": X, "predict": repr([net.classes[int(proba.argmax())]]),
                "proba": "[[" + ", ".join(f"{p:.4f}" for p in proba[0]) + "]]"}
    return {"module": module, "X": X, "predict": "[[" + ", ".join(f"{v:.6g}" for v in fitted.predict(X)[0]) + "]]"}


def check_module(path: str, net, fitted) -> float:
    """Import the written module (no bytecode cache is written beside it) and compare it with mlpfit."""
    spec = importlib.util.spec_from_file_location(f"mlpfit_export_check_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    if net.encoding:  # raw rows in, against mlpfit's encoding of the same rows
        feed = check.check_rows(net.encoding)
        X = encode_rows(feed, net.encoding)
    else:
        X = feed = network.fresh_points(net)
    if net.task == "classify":
        index = {label: i for i, label in enumerate(net.classes)}
        labels = module.predict(feed)
        got = {"probabilities": module.predict_proba(feed), "label_index": np.array([index[c.item()] for c in labels])}
        if net.members:
            got["probabilities_std"] = module.predict_std(feed)
    else:
        got = {"Y": module.predict(feed), **({"Y_std": module.predict_std(feed)} if net.members else {})}
    return check.require_agreement(f"the Python module {path}", check.reference(fitted, net, X), got)
