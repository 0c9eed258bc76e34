"""A table run's encoding (raw columns -> inputs), read back from encoding.json and checked."""

from __future__ import annotations

import os

from mlpfit.data.sources.encoding import TableEncoding
from mlpfit.errors import RunFolderError
from mlpfit.runfolder import store


def table_encoding(files: store.RunFiles):
    """The run's TableEncoding, checked against the model's inputs, or None (formulas, images, older runs)."""
    if files.encoding is None:
        return None
    name = os.path.join(files.path, store.ENCODING_FILE)
    encoding = TableEncoding.from_dict(files.encoding, name)
    if encoding.names != files.summary["inputs"]:
        raise RunFolderError(f"{name} does not match the inputs in summary.json: re-run the fit")
    return encoding
