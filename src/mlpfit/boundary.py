"""The one boundary between mlpfit and files that someone else may have put in its way.

Run folders, the playground's --runs (and its uploads), and sweep journals may hold links, FIFOs,
devices, or files edited by anyone. So everything mlpfit reads from them comes through
:func:`read_regular` / :func:`read_json`, and everything it writes into them is checked by
:func:`check_write_target` / :func:`check_write_folder` first:

* links: a path is opened without following a link (O_NOFOLLOW), so a name inside the folder cannot
  mean a file outside it (callers that take names from outside check them as plain names first);
* regular files only: a FIFO would hang the reader, a device would never end (opened non-blocking,
  without following a link, and checked with fstat on the open descriptor, so no swap in between);
* sizes capped before a byte is read, JSON nesting capped before it is parsed (Python's parser
  recurses, so a deep document would otherwise be a RecursionError instead of one line);
* no symbolic link followed for writing: a link in place of a file or folder mlpfit writes is refused.

Each refusal is an :class:`Unsafe` (a DataError: one line, exit 2); readers with a better fix to offer
(the run folder: "re-run the fit") reword it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat

import numpy as np

from mlpfit.errors import DataError, quoted_error

MAX_JSON_DEPTH = 64  # arrays and objects inside each other; mlpfit's own files nest 10 deep at most (a checkpoint)
STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)  # JSON strings, whose brackets do not nest


class Unsafe(DataError):
    """A file that is not what mlpfit may read or write: ``path`` and the ``problem`` (one clause)."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path} {problem}")
        self.path, self.problem = path, problem


def read_regular(path: str, limit: int) -> bytes | None:
    """The bytes of ``path``; None when it does not exist. Refuses links, non-regular files and files over ``limit``."""
    with _open_regular(path) as handle:
        if handle is None:
            return None
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise Unsafe(path, f"is {size} bytes, more than the {limit} such a file may have")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Unsafe(path, f"grew beyond {limit} bytes while being read")
    return data


def read_head(path: str, limit: int) -> bytes | None:
    """The first ``limit`` bytes of ``path`` (a file that may be larger); None when it does not exist."""
    with _open_regular(path) as handle:
        return None if handle is None else handle.read(limit)


@contextlib.contextmanager
def _open_regular(path: str):
    """A binary handle on the regular file ``path`` (None when missing), never through a link or into a FIFO."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if os.path.islink(path):
        raise Unsafe(path, "is a symbolic link: mlpfit reads only files inside the folder")
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    except (FileNotFoundError, NotADirectoryError):
        yield None
        return
    except OSError as err:
        raise Unsafe(path, f"cannot be read ({err.strerror or err})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # the open file itself: no swap after a check
            raise Unsafe(path, "is not a regular file")
        yield handle


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in the JSON ``data`` (brackets inside strings do not count)."""
    skeleton = np.frombuffer(STRINGS.sub(b'""', data), dtype=np.uint8)
    steps = (np.isin(skeleton, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(skeleton, (ord("]"), ord("}"))).astype(np.int64))
    return int(np.cumsum(steps).max(initial=0))


def parse_json(data: bytes, name: str, max_depth: int = MAX_JSON_DEPTH):
    """The value of the JSON ``data`` (read from ``name``); Unsafe when it nests too deep or is not JSON."""
    depth = json_depth(data)
    if depth > max_depth:
        raise Unsafe(name, f"nests arrays or objects {depth} deep, more than the {max_depth} mlpfit reads")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise Unsafe(name, f"is not valid JSON ({quoted_error(err)})") from None


def read_json(path: str, limit: int, max_depth: int = MAX_JSON_DEPTH):
    """The JSON value in ``path`` (None when missing), read through :func:`read_regular` and :func:`parse_json`."""
    data = read_regular(path, limit)
    return None if data is None else parse_json(data, path, max_depth)


def is_regular(path: str) -> bool:
    """A real file (not a link, FIFO, device or folder)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def check_write_target(path: str) -> None:
    """Refuse to write ``path`` when something other than a regular file (a link, a FIFO, a device) is in its place."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as err:
        raise Unsafe(path, f"cannot be checked ({err.strerror or err})") from None
    if stat.S_ISLNK(mode):
        raise Unsafe(path, "is a symbolic link: mlpfit does not write through links")
    if not stat.S_ISREG(mode):
        raise Unsafe(path, "is not a regular file")


def check_write_folder(path: str) -> None:
    """Refuse a folder to write into that is a symbolic link or not a folder at all (missing is fine)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise Unsafe(path, "is a symbolic link: mlpfit does not write through links")
    if not stat.S_ISDIR(mode):
        raise Unsafe(path, "is not a folder")


def open_for_append(path: str):
    """A binary append handle on ``path`` that never follows a link (created if missing)."""
    check_write_target(path)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as err:
        raise Unsafe(path, f"cannot be opened for writing ({err.strerror or err})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Unsafe(path, "is not a regular file")
    return os.fdopen(fd, "ab")
