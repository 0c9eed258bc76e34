"""Where an export goes, and whether mlpfit may write there.

mlpfit never replaces a file it did not write: an existing file is replaced only with ``--force``
and only when it is recognisably an earlier export (an ONNX file whose producer is mlpfit, a .py
carrying the export's marker line, an .npz holding the export's marker array).
"""

from __future__ import annotations

import keyword
import os
import sys
import zipfile

from mlpfit.config.schema import check_choice
from mlpfit.errors import UsageError

FORMATS = ("onnx", "python")
SUFFIX = {"onnx": ".onnx", "python": ".py"}
DEFAULT_NAME = {"onnx": "model.onnx", "python": "model.py"}  # inside the run folder when --out is not given


def check_format(fmt) -> None:
    if fmt is None:
        raise UsageError(f"no --format given: choose one of {', '.join(FORMATS)}")
    check_choice("--format", fmt, FORMATS)


def resolve(run_dir: str | None, fmt: str, out: str | None) -> str:
    """The file to write: ``out``, or ``model.onnx`` / ``model.py`` in the run folder; refused when unusable."""
    if out is None:
        if run_dir is None:
            raise UsageError("this model was not saved to a run folder: give the file to write, e.g. --out model.onnx")
        out = os.path.join(run_dir, DEFAULT_NAME[fmt])
    out = os.fspath(out)
    suffix = SUFFIX[fmt]
    if not out.endswith(suffix):
        raise UsageError(f"--out {out!r} does not end in {suffix}: name the file e.g. {DEFAULT_NAME[fmt]} for --format {fmt}")
    if os.path.isdir(out):
        raise UsageError(f"--out {out!r} is a folder: name a file in it, e.g. {os.path.join(out, DEFAULT_NAME[fmt])}")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UsageError(f"the folder of --out {out!r} does not exist: create {folder} first, or choose another --out")
    stem = os.path.basename(out)[: -len(suffix)]
    if fmt == "python" and (not stem.isidentifier() or keyword.iskeyword(stem)):
        fixed = "".join(c if c.isalnum() or c == "_" else "_" for c in stem).lstrip("0123456789") or "model"
        raise UsageError(f"--out {out!r} cannot be imported as a Python module (its name {stem!r} is not an identifier): "
                         f"use e.g. {os.path.join(os.path.dirname(out), fixed + suffix)}")
    if fmt == "python" and stem in shadowed_modules():
        raise UsageError(f"--out {out!r} would be imported in place of the module {stem!r} (the export imports numpy, and "
                         f"other code in its folder imports {stem!r} too): use e.g. "
                         f"{os.path.join(os.path.dirname(out), 'model' + suffix)}")
    return out


def shadowed_modules() -> set[str]:
    """Names a generated .py must not take: the standard library's modules, numpy (which it imports) and mlpfit."""
    return {*getattr(sys, "stdlib_module_names", ()), "numpy", "mlpfit"}


def check_replace(path: str, force: bool, ours) -> None:
    """Refuse to write ``path`` if it exists, unless ``force`` and ``ours(path)`` says mlpfit wrote it."""
    if not os.path.lexists(path):
        return
    if not os.path.isfile(path) or os.path.islink(path):
        raise UsageError(f"{path} exists and is not a plain file: choose another --out")
    if not force:
        raise UsageError(f"{path} already exists: add --force to replace it, or choose another --out")
    if not ours(path):
        raise UsageError(f"{path} exists and was not written by mlpfit export, so even --force does not replace it: "
                         "choose another --out, or move that file away yourself")


def head_contains(path: str, marker: str, size: int = 65536) -> bool:
    with open(path, "rb") as handle:
        return marker.encode() in handle.read(size)


def zip_has(path: str, member: str) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return member in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def remove_written(paths: list[str]) -> None:
    """Delete files this export has just written (after a failed check): never any other file."""
    for path in paths:
        if os.path.isfile(path):
            os.unlink(path)
