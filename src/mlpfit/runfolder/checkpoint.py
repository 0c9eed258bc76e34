"""Checkpoints: the whole state of an unfinished fit, saved on Ctrl-C and read by ``--resume``.

A checkpoint lives in ``RUN/checkpoint/``: the tensors in a safetensors file, everything else in
JSON, and a ``manifest.json`` with the format version and a SHA-256 per file (as in a run folder).
No pickle: nested state (optimizer, scheduler, callbacks) is *packed*, every tensor replaced by a
named reference into the safetensors file, so the JSON stays plain data.

The data files carry a content hash in their names and the manifest is written last, so writing
a new checkpoint switches from the old to the new in one atomic rename; a crash half-way leaves
the previous checkpoint whole.

Resume is exact: the state includes the shuffling generator as it was at the start of the
interrupted epoch, and the loop replays that epoch's permutation, skipping the steps already done.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys

import torch

from mlpfit.runfolder import files as atomic
from mlpfit.runfolder import store as runs
from mlpfit.errors import RunFolderError
from mlpfit.interrupt import Interrupted, stop_signals
from mlpfit.train.callbacks import DivergenceGuard, EarlyStopping

FORMAT = "mlpfit-checkpoint"
FORMAT_VERSION = 1
FOLDER = "checkpoint"
STATEFUL_CALLBACKS = (EarlyStopping, DivergenceGuard)  # their state decides when training stops


# ---------------------------------------------------------------- packing nested state


def pack(obj, tensors: dict, name: str = "t"):
    """Plain-JSON copy of ``obj``; each tensor goes into ``tensors`` under a unique name."""
    if isinstance(obj, torch.Tensor):
        key = f"{name}#{len(tensors)}"
        tensors[key] = obj.detach().cpu().clone().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: pack(v, tensors, f"{name}.{k}") for k, v in obj.items()}
        # Optimizer state is keyed by int parameter index; JSON would turn the keys into strings.
        return {"__items__": [[pack(k, tensors, name), pack(v, tensors, f"{name}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [pack(v, tensors, name) for v in obj]}
    if isinstance(obj, list):
        return [pack(v, tensors, f"{name}.{i}") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot checkpoint a {type(obj).__name__} at {name}")


def unpack(obj, tensors: dict):
    """The inverse of :func:`pack`."""
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__items__" in obj:
            return {unpack(k, tensors): unpack(v, tensors) for k, v in obj["__items__"]}
        if "__tuple__" in obj:
            return tuple(unpack(v, tensors) for v in obj["__tuple__"])
        return {k: unpack(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unpack(v, tensors) for v in obj]
    return obj


# ---------------------------------------------------------------- loop state


def capture(loop, config: dict) -> dict:
    """Everything needed to continue ``loop`` exactly where it stopped."""
    return {
        "config": config,
        "epoch": loop.epoch,
        "step": loop.step,
        "model": loop.model.state_dict(),
        "optimizer": loop.optimizer.state_dict(),
        "scheduler": loop.scheduler.state_dict(),
        "callbacks": [vars(cb) if isinstance(cb, STATEFUL_CALLBACKS) else None for cb in loop.callbacks],
        "history": {"rows": loop.history.rows, **loop.history.meta()},
        "rng": {"shuffle_epoch_start": loop.epoch_rng, "torch": torch.get_rng_state()},
        "partial_loss": loop.partial_loss,
        "seconds": loop.seconds,
    }


def restore(loop, state: dict, where: str = "the checkpoint") -> None:
    """Put a freshly built loop (same config, same data) into the captured state, or refuse in one line."""
    try:
        _restore(loop, state)
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as err:
        # Checksums matched, so this is a checkpoint from another mlpfit or an edited one: say so plainly.
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise RunFolderError(f"{where} does not fit this model and optimizer ({first}): start a new fit") from None


def _restore(loop, state: dict) -> None:
    loop.model.load_state_dict(state["model"])
    loop.optimizer.load_state_dict(state["optimizer"])
    loop.scheduler.load_state_dict(state["scheduler"])
    for cb, saved in zip(loop.callbacks, state["callbacks"]):
        if saved is not None and isinstance(cb, STATEFUL_CALLBACKS):
            vars(cb).update(saved)
    history = dict(state["history"])
    loop.history.rows = history.pop("rows")
    vars(loop.history).update(history)
    loop.epoch, loop.step = state["epoch"], state["step"]
    loop.partial_loss = state["partial_loss"]
    loop.seconds = state["seconds"]
    device = loop.data.X.device
    if isinstance(loop.partial_loss, torch.Tensor):
        loop.partial_loss = loop.partial_loss.to(device)
    if state["rng"]["shuffle_epoch_start"] is not None:
        loop.generator.set_state(state["rng"]["shuffle_epoch_start"])
    torch.set_rng_state(state["rng"]["torch"])


# ---------------------------------------------------------------- files


def folder(run_dir: str) -> str:
    return os.path.join(run_dir, FOLDER)


def save(run_dir: str, state: dict) -> str:
    """Write ``state`` to RUN/checkpoint atomically (manifest last); returns the folder."""
    from safetensors.torch import save as save_tensors

    tensors: dict = {}
    packed = pack(state, tensors)
    contents = {
        "tensors": save_tensors(tensors, metadata={"format": FORMAT, "version": str(FORMAT_VERSION)}),
        "state": (json.dumps(packed, allow_nan=True) + "\n").encode(),
    }
    path = folder(run_dir)
    os.makedirs(path, exist_ok=True)
    names = {}
    for role, data in contents.items():
        extension = "safetensors" if role == "tensors" else "json"
        names[role] = f"{role}-{hashlib.sha256(data).hexdigest()[:16]}.{extension}"  # new content, new name
        atomic.write_bytes(os.path.join(path, names[role]), data)
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "files": names,
                "sha256": {names[role]: hashlib.sha256(data).hexdigest() for role, data in contents.items()}}
    manifest["self"] = runs._manifest_digest(manifest)
    atomic.write_json(os.path.join(path, "manifest.json"), manifest)  # the switch to the new checkpoint
    _remove_unlisted(path, set(names.values()) | {"manifest.json"})
    return path


def _remove_unlisted(path: str, keep: set) -> None:
    """Drop the files of the previous checkpoint, now that the manifest no longer names them."""
    for name in os.listdir(path):
        if name not in keep and not name.startswith("."):
            os.unlink(os.path.join(path, name))


def exists(run_dir: str) -> bool:
    return os.path.isfile(os.path.join(folder(run_dir), "manifest.json"))


def load(run_dir: str) -> dict:
    """Read and verify RUN/checkpoint; any problem is one RunFolderError naming the file."""
    path = folder(run_dir)
    if not os.path.isdir(run_dir):
        raise RunFolderError(f"run folder {run_dir!r} does not exist: pass the folder of the interrupted fit")
    if not exists(run_dir):
        done = os.path.isfile(os.path.join(run_dir, "manifest.json"))
        why = "the fit finished, nothing to resume" if done else "it holds no checkpoint of an interrupted fit"
        raise RunFolderError(f"{os.path.join(path, 'manifest.json')} is missing: {why} (start a new fit instead)")
    manifest = _read_manifest(path)
    files = manifest["files"]
    raw = {role: runs._read_verified(path, files[role], manifest) for role in ("tensors", "state")}
    tensors = runs._parse_tensors(path, raw["tensors"], files["tensors"])
    packed = runs._parse_json(path, files["state"], raw["state"])
    try:
        return unpack(packed, tensors)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise RunFolderError(f"{os.path.join(path, files['state'])} does not match its tensors: start a new fit") from None


def _read_manifest(path: str) -> dict:
    name = os.path.join(path, "manifest.json")
    manifest = runs._parse_json(path, "manifest.json", open(name, "rb").read())
    ok = (isinstance(manifest, dict) and manifest.get("format") == FORMAT and isinstance(manifest.get("sha256"), dict)
          and isinstance(manifest.get("files"), dict)
          and all(isinstance(manifest["files"].get(role), str) for role in ("tensors", "state")))
    if not ok:
        raise RunFolderError(f"{name} is not an mlpfit checkpoint manifest: start a new fit")
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RunFolderError(f"{name} has format version {version!r}, newer than this mlpfit reads ({FORMAT_VERSION}): upgrade mlpfit")
    if manifest.get("self") != runs._manifest_digest(manifest):
        raise RunFolderError(f"{name} does not match its own checksum: the checkpoint was changed or damaged (start a new fit)")
    if any(os.sep in n or n.startswith(".") for n in manifest["files"].values()):
        raise RunFolderError(f"{name} names a file outside the checkpoint folder: start a new fit")
    return manifest


def discard(run_dir: str) -> None:
    """Remove the checkpoint once the run it belonged to is complete."""
    shutil.rmtree(folder(run_dir), ignore_errors=True)


# ---------------------------------------------------------------- the resumable run


def run(loop, config, run_dir: str | None, state: dict | None = None):
    """``loop.run()`` that stops cleanly on SIGINT/SIGTERM, saving a checkpoint to ``run_dir``."""
    if state is not None:
        restore(loop, state, folder(run_dir) if run_dir else "the checkpoint")
    with stop_signals() as request:
        loop.should_stop = lambda: request.requested
        if run_dir is not None and not (config.run.quiet or config.run.json):  # --json: stderr stays clean
            print(f"mlpfit: training {config.train.epochs} epochs; Ctrl-C stops after the current step and saves "
                  "a checkpoint", file=sys.stderr, flush=True)
        history = loop.run()
        if loop.interrupted:
            _stop(loop, config, run_dir, request.signal_name)
    return history


def _stop(loop, config, run_dir, signal_name) -> None:
    where = f"epoch {loop.epoch} of {loop.epochs}, step {loop.step}"
    if run_dir is None:
        raise Interrupted(f"interrupted by {signal_name} at {where}; nothing saved (no run folder)")
    save(run_dir, capture(loop, config.to_dict()))
    raise Interrupted(f"interrupted by {signal_name} at {where}; checkpoint saved in {folder(run_dir)}: "
                      f"resume with mlpfit fit --resume {run_dir}")
