"""CSV files uploaded from the page, kept under --runs/uploads so a link or a reload finds them again.

A file is named by its content's hash plus a cleaned-up name, so the same table uploaded twice is
one file and a name can never climb out of the folder; the folder itself must be a real folder
inside --runs (a symbolic link in its place is refused, never written through). It is read at once through the library's
table reader; a table it refuses is deleted again (the server wrote it) and the page is told why.
"""

# Deferred imports: the table reader (pandas) loads only for an uploaded table.

from __future__ import annotations

import hashlib
import os
import re

from mlpfit import atomic, boundary
from mlpfit.errors import MlpfitError, UsageError
from mlpfit.play.settings import UPLOAD_DIR, UPLOAD_PREFIX

MAX_UPLOAD_BYTES = 5 * 2**20  # 5 MiB: about 100,000 rows of a few numbers
MAX_UPLOAD_COLUMNS = 1000  # the page draws every input; reading a wider table would hold a server thread for seconds
SEPARATORS = b",;\t|"  # what the table reader may detect: the widest reading of the header counts


def store(runs_dir: str, filename: str, data: bytes) -> dict:
    """Write the upload, read it as a table; returns its target (``upload:NAME``) and columns."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UsageError(f"the file is {len(data) / 2**20:.1f} MiB; the playground takes at most "
                         f"{MAX_UPLOAD_BYTES // 2**20} MiB: use mlpfit fit FILE.csv for larger tables")
    columns = max(data.split(b"\n", 1)[0].count(bytes([sep])) for sep in SEPARATORS) + 1
    if columns > MAX_UPLOAD_COLUMNS:
        raise UsageError(f"the table has about {columns} columns; the playground takes at most {MAX_UPLOAD_COLUMNS}: "
                         "use mlpfit fit FILE.csv for wider tables")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.splitext(os.path.basename(filename or ""))[0]).strip("._")[:60]
    name = f"{hashlib.sha256(data).hexdigest()[:12]}-{stem or 'table'}.csv"
    folder = upload_folder(runs_dir)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    existed = boundary.is_regular(path)
    if not existed:
        _refuse_unsafe(boundary.check_write_target, path)
        atomic.write_bytes(path, data)
    try:
        columns = _columns(path, filename)
    except MlpfitError:
        if not existed:
            os.remove(path)
        raise
    return {"target": UPLOAD_PREFIX + name, "columns": columns, "default_target": columns[-1]}


def upload_folder(runs_dir: str) -> str:
    """--runs/uploads, refused when it is a link or not a folder (missing is fine: it is made on first upload)."""
    folder = os.path.join(runs_dir, UPLOAD_DIR)
    _refuse_unsafe(boundary.check_write_folder, folder)
    return folder


def _refuse_unsafe(check, path: str) -> None:
    try:
        check(path)
    except boundary.Unsafe as err:  # the page sees the problem; the path under --runs is the server's business
        shown = os.path.join(UPLOAD_DIR, os.path.basename(path)) if path.endswith(".csv") else UPLOAD_DIR
        raise UsageError(f"{shown} under the playground's --runs {err.problem}: remove it, "
                         "or start mlpfit play with another --runs") from None


def _columns(path: str, shown_name: str) -> list[str]:
    from mlpfit.data.sources.table import read_table

    try:
        table = read_table(path, impute=True)  # as `mlpfit fit` reads it: holes filled, not refused
    except MlpfitError as err:  # the message names the stored path; the user knows the file by its own name
        raise type(err)(str(err).replace(path, shown_name or "the file")) from None
    return [*table.features, *table.targets]
