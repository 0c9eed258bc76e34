"""Claiming a run folder: mlpfit writes only into a folder it made, one fit at a time.

A folder mlpfit makes holds a marker, ``.mlpfit-run`` (a small JSON naming the format). It is
created exclusively (``O_EXCL``), and while a fit writes, the fit holds a lock on it (``flock``,
released by the kernel when the process ends, so a killed fit leaves no stale lock). So:

* ``--force`` starts over only in a folder with the marker (or an older mlpfit run's manifest);
  anything else is refused, whatever it holds;
* starting over replaces the previous run's files and removes only those its manifests list that the
  new run does not write (store.save, checkpoint.discard), never any other file;
* a second fit on the same folder, while the first still runs, exits 2;
* ``--out`` that is empty, a symbolic link, or under a file is refused in one line.

Locks need POSIX ``fcntl``; where it is missing (Windows) the marker still guards ``--force``.
"""

from __future__ import annotations

import json
import os

from mlpfit import boundary
from mlpfit.errors import UsageError
from mlpfit.runfolder import checkpoint, files

MARKER = ".mlpfit-run"
MARKER_FORMAT = "mlpfit-run-folder"
MARKER_BYTES = (json.dumps({"format": MARKER_FORMAT, "version": 1}) + "\n").encode()

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class Claim:
    """A run folder this process may write into; :meth:`release` ends the claim (the marker stays)."""

    def __init__(self, path: str, handle):
        self.path = path
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing drops the flock
            self._handle = None


def claim(path: str, force: bool = False, resuming: bool = False) -> Claim:
    """Create (or, with ``force``, take over) the run folder ``path`` and lock it; UsageError otherwise."""
    check_out_path(path)
    existed = not make_folder(path)
    if resuming:
        return Claim(path, lock(path, create_marker(path) or open_marker(path)))
    if existed and os.listdir(path):
        if not force:
            refuse_existing(path)
        if not made_by_mlpfit(path):
            raise UsageError(f"--force refused: {path!r} is not a folder mlpfit made (it has no {MARKER} marker and no "
                             "mlpfit manifest), so mlpfit will not write or delete anything in it: choose another --out")
    # Nothing is deleted here: the previous run stays readable until the new one's files replace it, and
    # store.save then removes only the files the previous manifest listed that the new run no longer has.
    return Claim(path, lock(path, create_marker(path) or open_marker(path)))


def prepare_dir(path: str, force: bool) -> None:
    """Claim ``path`` for a write that is over at once (a sweep's folder, ``FitResult.save``)."""
    claim(path, force).release()


def check_out_path(path: str) -> None:
    if not isinstance(path, str) or not path.strip():
        raise UsageError("--out is empty: name a folder, e.g. --out runs/my-run (or leave --out out for a new folder under runs/)")
    if "\x00" in path:
        raise UsageError(f"--out {path!r} contains a NUL character: name a plain folder")
    if os.path.islink(path.rstrip("/\\") or path):
        raise UsageError(f"--out {path!r} is a symbolic link: mlpfit writes only into a real folder, name one")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--out {path!r} is a file: name a folder for the run")


def make_folder(path: str) -> bool:
    """Create ``path`` (and its parents); True when this call created it."""
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(f"--out {path!r} lies under a file, not a folder: name a folder, e.g. --out runs/my-run") from None
    except OSError as err:
        raise UsageError(f"--out {path!r} cannot be created ({err.strerror or err}): choose a folder you can write") from None
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        if not os.path.isdir(path) or os.path.islink(path):
            raise UsageError(f"--out {path!r} is not a folder: name a folder for the run") from None
        return False
    except NotADirectoryError:
        raise UsageError(f"--out {path!r} lies under a file, not a folder: name a folder, e.g. --out runs/my-run") from None
    except OSError as err:
        raise UsageError(f"--out {path!r} cannot be created ({err.strerror or err}): choose a folder you can write") from None


def refuse_existing(path: str) -> None:
    if is_locked(path):
        raise UsageError(f"run folder {path!r} is being written by another mlpfit fit: wait for it, or choose another --out")
    if os.path.isfile(os.path.join(path, "checkpoint", "manifest.json")):
        raise UsageError(f"run folder {path!r} holds an interrupted fit: continue it with mlpfit fit --resume {path}, "
                         "or add --force to start over")
    raise UsageError(f"run folder {path!r} already exists and is not empty: choose another --out, or add --force")


def made_by_mlpfit(path: str) -> bool:
    """The marker, or (for folders of mlpfit before the marker) a run or checkpoint manifest."""
    for name, fmt in ((MARKER, MARKER_FORMAT), ("manifest.json", "mlpfit-run"),
                      (os.path.join("checkpoint", "manifest.json"), checkpoint.FORMAT)):
        if json_format(os.path.join(path, name)) == fmt:
            return True
    return False


def json_format(full: str):
    try:
        content = boundary.read_json(full, files.MAX_JSON_BYTES)
    except boundary.Unsafe:  # a link, a FIFO, bad or deeply nested JSON is no marker
        return None
    return content.get("format") if isinstance(content, dict) else None


def create_marker(path: str):
    """A handle on a new marker, or None when one exists already."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(os.path.join(path, MARKER), flags, 0o644)
    except FileExistsError:
        return None
    handle = os.fdopen(fd, "r+b")
    handle.write(MARKER_BYTES)
    handle.flush()
    return handle


def open_marker(path: str):
    full = os.path.join(path, MARKER)
    if not files.is_regular(full):
        if os.path.lexists(full):
            raise UsageError(f"{full} is not a regular file: mlpfit will not use {path!r} as a run folder; choose another --out")
        return create_marker(path) or open_marker(path)  # an older run folder: mark it now
    return open(full, "rb")


def lock(path: str, handle):
    if fcntl is None:
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise UsageError(f"run folder {path!r} is being written by another mlpfit fit: wait for it, or choose another --out") from None
    return handle


def is_locked(path: str) -> bool:
    full = os.path.join(path, MARKER)
    if fcntl is None or not files.is_regular(full):
        return False
    with open(full, "rb") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False
