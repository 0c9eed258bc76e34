"""Reading one file of a run folder without letting the folder turn against the reader.

A run folder may have been edited by anyone, its manifest recomputed to match. So a name read
from a manifest must be a plain file name inside the folder (no ``..``, no separator, no absolute
path), the file must be a regular file (not a FIFO that hangs, a device that never ends, or a
symbolic link to somewhere else), and its size is checked before a byte is read.
"""

from __future__ import annotations

import os
import re
import stat

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
    limit = limit_for(full) if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if os.path.islink(full):
        raise RunFolderError(f"{full} is a symbolic link: mlpfit reads only files inside the run folder ({fix})")
    try:
        fd = os.open(full, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    except FileNotFoundError:
        return None
    except OSError as err:
        raise RunFolderError(f"{full} cannot be read ({err.strerror or err}): {fix}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RunFolderError(f"{full} is not a regular file: {fix}")
        if info.st_size > limit:
            raise RunFolderError(f"{full} is {info.st_size} bytes, more than the {limit} a run folder's file may have: {fix}")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise RunFolderError(f"{full} grew beyond {limit} bytes while being read: {fix}")
    return data


def is_regular(full: str) -> bool:
    """A real file (not a link, FIFO, device or folder)."""
    try:
        return stat.S_ISREG(os.lstat(full).st_mode)
    except OSError:
        return False
