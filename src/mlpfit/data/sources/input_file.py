"""An input file must be a regular file that fits in memory: never a FIFO that waits forever,
a device like /dev/zero that never ends, or a file larger than what mlpfit may allocate."""

from __future__ import annotations

import os
import stat

from mlpfit.data.sources.messages import data_error
from mlpfit.errors import DataError
from mlpfit.memory_budget import require

PARSE_FACTOR = 4  # text, the parsed frame and the float64 matrix, per byte of file, roughly


def require_regular(path: str | os.PathLike, kind: str, fix: str) -> None:
    """DataError unless ``path`` is a regular file (links followed) whose parsing fits the memory budget."""
    info = os.stat(path)  # FileNotFoundError and other OSErrors are the caller's to word
    if stat.S_ISDIR(info.st_mode):
        raise data_error(path, f"is a folder, not {kind}", fix)
    if not stat.S_ISREG(info.st_mode):
        raise data_error(path, f"is not a regular file (a device, FIFO or socket), not {kind}", fix)
    require(info.st_size * PARSE_FACTOR, f"reading {os.fspath(path)} ({info.st_size} bytes)",
            "pass a smaller file, or split it", error=DataError)
