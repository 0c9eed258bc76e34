"""Reading one file of a run folder without letting the folder turn against the reader.

A run folder may have been edited by anyone, its manifest recomputed to match. So a name read
from a manifest must be a plain file name inside the folder (no ``..``, no separator, no absolute
path), the file must be a regular file (not a FIFO that hangs, a device that never ends, or a
symbolic link to somewhere else), and its size is checked before a byte is read: the checks of
mlpfit.boundary, worded for a run folder.
"""

from __future__ import annotations

import re

from mlpfit import boundary
from mlpfit.errors import RunFolderError

MiB = 2**20
MAX_JSON_BYTES = 16 * MiB  # config, summary, scalers, manifests: a real one is a few KB
MAX_TEXT_BYTES = 256 * MiB  # history.csv: a million epochs of one line each
MAX_TENSOR_BYTES = 4 * 2**30  # model and samples; a bigger model would not fit the memory cap anyway
PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")


def limit_for(name: str) -> int:
    if name.endswith(".json"):
        return MAX_JSON_BYTES
    if name.endswith(".safetensors"):
        return MAX_TENSOR_BYTES
    return MAX_TEXT_BYTES


def is_plain_name(name) -> bool:
    """A file name that can only mean a file directly inside the folder."""
    return isinstance(name, str) and PLAIN_NAME.fullmatch(name) is not None and ".." not in name


def require_plain_names(manifest_path: str, names) -> None:
    for name in names:
        if not is_plain_name(name):
            raise RunFolderError(f"{manifest_path} names {str(name)[:60]!r}, which is not a plain file name inside the "
                                 "folder: mlpfit reads only its own files (re-run the fit)")


def read_regular(full: str, limit: int | None = None, fix: str = "re-run the fit") -> bytes | None:
    """The bytes of ``full``; None when it does not exist. Refuses links, non-regular files and files over ``limit``."""
    try:
        return boundary.read_regular(full, limit_for(full) if limit is None else limit)
    except boundary.Unsafe as err:
        raise RunFolderError(f"{err}: {fix}") from None


def is_regular(full: str) -> bool:
    """A real file (not a link, FIFO, device or folder)."""
    return boundary.is_regular(full)
