"""Checkpoints: the whole state of an unfinished fit, saved on Ctrl-C and read by ``--resume``.

A checkpoint lives in ``RUN/checkpoint/``: the arrays in a safetensors file, everything else in
JSON, and a ``manifest.json`` with the format version and a SHA-256 per file (as in a run folder).
No pickle: nested state (engine, optimizer, callbacks, history) is *packed*, every array
replaced by a named reference into the safetensors file, so the JSON stays plain data. Engines give
their state as NumPy (the torch engines convert their tensors themselves), so reading and writing a
checkpoint never needs torch.

The data files carry a content hash in their names and the manifest is written last, so writing
a new checkpoint switches from the old to the new in one atomic rename; a crash half-way leaves
the previous checkpoint whole. What the state *means* is checked by the trainer and engine that
take it (mlpfit.train.trainer.Trainer.load_state_dict), against the model they were built with.
"""

# Deferred imports: safetensors loads when a checkpoint is written or read.

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from mlpfit.errors import RunFolderError, quoted_error
from mlpfit import atomic
from mlpfit.runfolder import files as safe_files, store

FORMAT = "mlpfit-checkpoint"
FORMAT_VERSION = 2  # 2: one trainer state for every engine (1: the torch loop's own)
FOLDER = "checkpoint"



# ---------------------------------------------------------------- packing nested state


def pack(obj, arrays: dict, name: str = "t"):
    """Plain-JSON copy of ``obj``; each array goes into ``arrays`` under a unique name."""
    if isinstance(obj, np.ndarray):
        key = f"{name}#{len(arrays)}"
        arrays[key] = np.array(obj, order="C")  # a copy; a 0-d array (torch's optimizer step) stays 0-d
        return {"__tensor__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: pack(v, arrays, f"{name}.{k}") for k, v in obj.items()}
        # Optimizer state is keyed by int parameter index; JSON would turn the keys into strings.
        return {"__items__": [[pack(k, arrays, name), pack(v, arrays, f"{name}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [pack(v, arrays, name) for v in obj]}
    if isinstance(obj, list):
        return [pack(v, arrays, f"{name}.{i}") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot checkpoint a {type(obj).__name__} at {name}")


def unpack(obj, arrays: dict):
    """The inverse of :func:`pack`."""
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return arrays[obj["__tensor__"]]  # an older checkpoint's "torch" flag: the engine converts it
        if "__items__" in obj:
            return {unpack(k, arrays): unpack(v, arrays) for k, v in obj["__items__"]}
        if "__tuple__" in obj:
            return tuple(unpack(v, arrays) for v in obj["__tuple__"])
        return {k: unpack(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unpack(v, arrays) for v in obj]
    return obj


# ---------------------------------------------------------------- files


def folder(run_dir: str) -> str:
    return os.path.join(run_dir, FOLDER)


def save(run_dir: str, state: dict) -> str:
    """Write ``state`` to RUN/checkpoint atomically (manifest last); returns the folder."""
    from safetensors.numpy import save as save_arrays

    arrays: dict = {}
    packed = pack(state, arrays)
    contents = {
        "tensors": save_arrays(arrays, metadata={"format": FORMAT, "version": str(FORMAT_VERSION)}),
        "state": (json.dumps(packed, allow_nan=True) + "\n").encode(),
    }
    path = folder(run_dir)
    if os.path.islink(path):
        raise RunFolderError(f"{path} is a symbolic link: mlpfit writes checkpoints only into a real folder of the run")
    os.makedirs(path, exist_ok=True)
    names = {}
    for role, data in contents.items():
        extension = "safetensors" if role == "tensors" else "json"
        names[role] = f"{role}-{hashlib.sha256(data).hexdigest()[:16]}.{extension}"  # new content, new name
        atomic.write_bytes(os.path.join(path, names[role]), data)
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "files": names,
                "sha256": {names[role]: hashlib.sha256(data).hexdigest() for role, data in contents.items()}}
    manifest["self"] = store.manifest_digest(manifest)
    previous = written_files(path)
    atomic.write_json(os.path.join(path, "manifest.json"), manifest)  # the switch to the new checkpoint
    for name in previous - set(names.values()):
        os.unlink(os.path.join(path, name))  # the previous checkpoint's files, now that no manifest names them
    return path


def written_files(path: str) -> set:
    """The data files the current manifest of ``path`` names (only those are ever removed)."""
    try:
        manifest = read_manifest(path)
    except (RunFolderError, OSError):
        return set()
    return {name for name in manifest["files"].values() if safe_files.is_regular(os.path.join(path, name))}


def exists(run_dir: str) -> bool:
    return os.path.isfile(os.path.join(folder(run_dir), "manifest.json"))


def load(run_dir: str) -> dict:
    """Read and verify RUN/checkpoint; any problem is one RunFolderError naming the file."""
    path = folder(run_dir)
    if not os.path.isdir(run_dir):
        raise RunFolderError(f"run folder {run_dir!r} does not exist: pass the folder of the interrupted fit")
    if os.path.islink(path):
        raise RunFolderError(f"{path} is a symbolic link: mlpfit resumes only from a real checkpoint folder inside the run "
                             "(start a new fit)")
    if not exists(run_dir):
        done = os.path.isfile(os.path.join(run_dir, "manifest.json"))
        why = "the fit finished, nothing to resume" if done else "it holds no checkpoint of an interrupted fit"
        raise RunFolderError(f"{os.path.join(path, 'manifest.json')} is missing: {why} (start a new fit instead)")
    manifest = read_manifest(path)
    files = manifest["files"]
    raw = {role: store.read_verified(path, files[role], manifest, expected=set(files.values()))
           for role in ("tensors", "state")}
    arrays = parse_arrays(path, files["tensors"], raw["tensors"])
    packed = store.parse_json(path, files["state"], raw["state"])
    try:
        return unpack(packed, arrays)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise RunFolderError(f"{os.path.join(path, files['state'])} does not match its tensors: start a new fit") from None


def parse_arrays(path: str, name: str, data: bytes) -> dict:
    from safetensors.numpy import load as load_arrays

    try:
        return load_arrays(data)
    except Exception as err:  # safetensors raises its own SafetensorError and others on bad bytes
        raise RunFolderError(f"{os.path.join(path, name)} cannot be read ({quoted_error(err)}): start a new fit") from None


def read_manifest(path: str) -> dict:
    name = os.path.join(path, "manifest.json")
    data = safe_files.read_regular(name, safe_files.MAX_JSON_BYTES, "start a new fit")
    if data is None:
        raise RunFolderError(f"{name} is missing: start a new fit")
    manifest = store.parse_json(path, "manifest.json", data)
    ok = (isinstance(manifest, dict) and manifest.get("format") == FORMAT and isinstance(manifest.get("sha256"), dict)
          and isinstance(manifest.get("files"), dict)
          and all(isinstance(manifest["files"].get(role), str) for role in ("tensors", "state")))
    if not ok:
        raise RunFolderError(f"{name} is not an mlpfit checkpoint manifest: start a new fit")
    version = manifest.get("version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        fix = "upgrade mlpfit" if newer else "start a new fit (checkpoints of older mlpfit versions cannot be resumed)"
        raise RunFolderError(f"{name} has format version {version!r}, this mlpfit reads {FORMAT_VERSION}: {fix}")
    if manifest.get("self") != store.manifest_digest(manifest):
        raise RunFolderError(f"{name} does not match its own checksum: the checkpoint was changed or damaged (start a new fit)")
    if not all(safe_files.is_plain_name(n) for n in [*manifest["files"].values(), *manifest["sha256"]]):
        raise RunFolderError(f"{name} names a file outside the checkpoint folder: start a new fit")
    return manifest


def discard(run_dir: str) -> None:
    """Remove the checkpoint once the run it belonged to is complete: only the files it wrote."""
    path = folder(run_dir)
    if os.path.islink(path) or not os.path.isdir(path):
        return
    for name in written_files(path) | {"manifest.json"}:
        full = os.path.join(path, name)
        if safe_files.is_regular(full):
            os.unlink(full)
    try:
        os.rmdir(path)  # only when nothing else is left in it
    except OSError:
        pass
