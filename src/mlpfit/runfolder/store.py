"""The run folder: everything a fit leaves behind, and everything ``predict`` needs.

```
config.json        the resolved config (every default made concrete)
model.safetensors  the weights (no pickle anywhere)
scalers.json       input / target standardization, undone by predict
history.csv        one row per epoch
summary.json       what happened: data, metrics, diagnostics, timing (the --json output)
encoding.json      (tables) how columns became inputs: one-hot levels, fill values, ranges; applied by predict
manifest.json      format version and a SHA-256 per file, checked on load
.mlpfit-run        the marker that says mlpfit made this folder (runfolder.claim)
```
Files are written atomically, manifest last, so a folder with a valid manifest is complete.
Reads go through runfolder.files: plain names only, regular files only, sizes capped.
"""

# Deferred imports: safetensors loads when a run folder is written or read.

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass

import numpy as np

from mlpfit import atomic, boundary
from mlpfit.errors import RunFolderError, quoted_error
from mlpfit.runfolder import files

FORMAT_VERSION = 1
FILES = ("config.json", "model.safetensors", "scalers.json", "history.csv", "summary.json")
# Optional files, checked like the others when the manifest lists them.
SAMPLE_FILE = "samples.safetensors"  # a capped sample of train and test data, raw units, for plots and explain
ENCODING_FILE = "encoding.json"  # a table's columns -> inputs (one-hot levels, fill values, ranges), for predict


def default_run_dir(name: str, root: str = "runs") -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")[:40] or "run"
    base = os.path.join(root, f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}")
    path, k = base, 2
    while os.path.exists(path):
        path, k = f"{base}-{k}", k + 1
    return path


def save(path: str, *, config: dict, state: dict, scalers: dict, history_csv: str, summary: dict,
         extra: dict[str, bytes] | None = None) -> None:
    """``state``: the weights as NumPy arrays by name (Network.state_arrays)."""
    from safetensors.numpy import save as save_arrays

    contents = {
        "config.json": json_bytes(config),
        "model.safetensors": save_arrays({k: np.ascontiguousarray(v) for k, v in state.items()},
                                         metadata={"format": "mlpfit", "version": str(FORMAT_VERSION)}),
        "scalers.json": json_bytes(scalers),
        "history.csv": history_csv.encode(),
        "summary.json": json_bytes(summary),
        **(extra or {}),
    }
    previous = listed_files(path)
    for name, data in contents.items():
        atomic.write_bytes(os.path.join(path, name), data)
    manifest = {"format": "mlpfit-run", "version": FORMAT_VERSION,
                "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}}
    manifest["self"] = manifest_digest(manifest)
    atomic.write_json(os.path.join(path, "manifest.json"), manifest)
    for name in previous - set(contents):  # a forced re-run: the previous run's plots, report, samples
        if files.is_regular(os.path.join(path, name)):
            os.unlink(os.path.join(path, name))


def listed_files(path: str) -> set:
    """The plain file names an existing manifest of ``path`` lists (the only files a re-run may remove)."""
    try:
        manifest = _read_manifest(path)
    except RunFolderError:
        return set()
    return {n for n in [*manifest["sha256"], *(manifest.get("derived") or {})] if files.is_plain_name(n)}


def manifest_digest(manifest: dict) -> str:
    """SHA-256 of the manifest's own entries, so a damaged checksum blames manifest.json, not the file it names."""
    body = {k: v for k, v in manifest.items() if k != "self"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=2) + "\n").encode()


@dataclass
class RunFiles:
    path: str
    config: dict
    state: dict  # name -> NumPy array
    scalers: dict
    history_csv: str
    summary: dict
    samples: dict | None = None  # name -> tensor from samples.safetensors, when the run has one
    encoding: dict | None = None  # encoding.json, when the run was fit on a table


def register_derived(path: str, names: list[str]) -> None:
    """Add plots and report (drawn after the run was saved) to the manifest, so damage to them shows too."""
    manifest = _read_manifest(path)
    manifest["derived"] = {name: sha256_file(os.path.join(path, name)) for name in names}
    manifest["self"] = manifest_digest(manifest)
    atomic.write_json(os.path.join(path, "manifest.json"), manifest)


def sha256_file(name: str) -> str:
    data = files.read_regular(name, files.MAX_TEXT_BYTES)
    if data is None:
        raise RunFolderError(f"{name} is missing: redraw the plots and report with `mlpfit report {os.path.dirname(name)}`")
    return hashlib.sha256(data).hexdigest()


def _check_derived(path: str, manifest: dict) -> None:
    fix = f"redraw the plots and report with `mlpfit report {path}`"
    for name, digest in (manifest.get("derived") or {}).items():
        full = os.path.join(path, name)
        data = files.read_regular(full, files.MAX_TEXT_BYTES, fix)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            problem = "is missing" if data is None else "does not match its checksum in manifest.json"
            raise RunFolderError(f"{full} {problem}: {fix}")


def read(path: str, check_derived: bool = True) -> RunFiles:
    """Read and verify a run folder; any problem is one RunFolderError naming the file.

    ``check_derived=False`` skips the plots and report (for `mlpfit report`, which redraws them).
    The weights and samples come as NumPy arrays: reading a run never needs torch.
    """
    if not os.path.isdir(path):
        raise RunFolderError(f"run folder {path!r} does not exist: pass the folder that `mlpfit fit` printed")
    manifest = _read_manifest(path)
    raw = {name: read_verified(path, name, manifest) for name in FILES}
    if check_derived:
        _check_derived(path, manifest)
    return RunFiles(
        path=path,
        config=parse_json(path, "config.json", raw["config.json"]),
        state=parse_tensors(path, raw["model.safetensors"]),
        scalers=parse_json(path, "scalers.json", raw["scalers.json"]),
        history_csv=raw["history.csv"].decode("utf-8", errors="replace"),
        summary=parse_json(path, "summary.json", raw["summary.json"]),
        samples=parse_tensors(path, read_verified(path, SAMPLE_FILE, manifest), SAMPLE_FILE)
        if SAMPLE_FILE in manifest["sha256"] else None,
        encoding=parse_json(path, ENCODING_FILE, read_verified(path, ENCODING_FILE, manifest))
        if ENCODING_FILE in manifest["sha256"] else None,
    )


def _read_manifest(path: str) -> dict:
    name = os.path.join(path, "manifest.json")
    data = files.read_regular(name, files.MAX_JSON_BYTES)
    if data is None:
        if os.path.isfile(os.path.join(path, "checkpoint", "manifest.json")):
            raise RunFolderError(f"{name} is missing: the fit in {path!r} was interrupted; finish it with mlpfit fit --resume {path}")
        raise RunFolderError(f"{name} is missing: {path!r} is not a complete mlpfit run folder (re-run the fit)")
    manifest = parse_json(path, "manifest.json", data)
    if (not isinstance(manifest, dict) or manifest.get("format") != "mlpfit-run" or not isinstance(manifest.get("sha256"), dict)
            or not isinstance(manifest.get("derived") or {}, dict)):
        raise RunFolderError(f"{name} is not an mlpfit manifest: re-run the fit to make a new run folder")
    files.require_plain_names(name, [*manifest["sha256"], *(manifest.get("derived") or {})])
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RunFolderError(f"{name} has format version {version!r}, newer than this mlpfit reads ({FORMAT_VERSION}): upgrade mlpfit")
    if "self" in manifest and manifest["self"] != manifest_digest(manifest):  # absent in the first run folders
        raise RunFolderError(f"{name} does not match its own checksum: the manifest was changed or damaged (re-run the fit)")
    return manifest


def read_verified(path: str, name: str, manifest: dict, expected=FILES + (SAMPLE_FILE,)) -> bytes:
    """The bytes of ``name`` when they match the manifest's checksum; ``name`` must be a plain file name."""
    full = os.path.join(path, name)
    if not files.is_plain_name(name):
        raise RunFolderError(f"{os.path.join(path, 'manifest.json')} names {name[:60]!r}, which is not a plain file name "
                             "inside the folder (re-run the fit)")
    data = files.read_regular(full)
    if name not in expected and (data is None or hashlib.sha256(data).hexdigest() != manifest["sha256"].get(name)):
        # One message for both: which outside names exist is none of the reader's business.
        raise RunFolderError(f"{full} is missing or does not match manifest.json (re-run the fit)")
    if data is None:
        raise RunFolderError(f"{full} is missing: the run folder is incomplete (re-run the fit)")
    if hashlib.sha256(data).hexdigest() != manifest["sha256"].get(name):
        raise RunFolderError(f"{full} does not match its checksum in manifest.json: the file was changed or damaged (re-run the fit)")
    return data


def parse_json(path: str, name: str, data: bytes):
    try:
        return boundary.parse_json(data, os.path.join(path, name))
    except boundary.Unsafe as err:
        raise RunFolderError(f"{err}: re-run the fit") from None


def parse_tensors(path: str, data: bytes, name: str = "model.safetensors") -> dict:
    """The arrays of a safetensors file as NumPy arrays by name."""
    from safetensors.numpy import load as load_tensors

    try:
        return load_tensors(data)
    except Exception as err:  # safetensors raises its own SafetensorError and others on bad bytes
        raise RunFolderError(f"{os.path.join(path, name)} cannot be read ({quoted_error(err)}): re-run the fit") from None
