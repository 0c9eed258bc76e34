"""Atomic file writes: a crash or a full disk leaves the previous file, never half a file.

Everything mlpfit writes (run folders, checkpoints, plots, downloads, exports) goes through
:func:`replacing`: the bytes go to a temporary file beside the target, which is renamed over it
only when the whole write succeeded. The bytes are flushed to the disk (fsync) before the rename,
so a power cut cannot leave an empty file under the new name either, except where the caller
says the file is ``derived``: plots and report pages, which ``mlpfit report`` draws again from
the run. Skipping it there saves 20-30 ms per file on this project's disks (a quick start's
report writes five), and the write is still atomic against a crash of mlpfit itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile


@contextlib.contextmanager
def replacing(path: str, derived: bool = False):
    """A binary file handle for ``path``: renamed into place when the block ends, removed if it raises.
    ``derived``: a file that can be drawn again from others (not flushed to the disk first)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; a run folder is meant to be shared
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if not derived:
                os.fsync(handle.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows within one file system
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_bytes(path: str, data: bytes, derived: bool = False) -> None:
    with replacing(path, derived) as handle:
        handle.write(data)


def write_text(path: str, text: str, derived: bool = False) -> None:
    write_bytes(path, text.encode("utf-8"), derived)


def write_json(path: str, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, allow_nan=True) + "\n")


def umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
