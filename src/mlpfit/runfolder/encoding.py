"""How a run's raw inputs and outputs are read: a table's encoding (raw columns -> inputs), read back from
encoding.json and checked, and the output link its loss implies."""

from __future__ import annotations

import os

from mlpfit.errors import RunFolderError
from mlpfit.network.network import link_of_loss
from mlpfit.runfolder import store


def table_encoding(files: store.RunFiles):
    """The run's TableEncoding, checked against the model's inputs, or None (formulas, images, older runs)."""
    if files.encoding is None:
        return None
    # Imported here: the encoding module needs pandas (0.25 s), which a formula or image run never uses.
    from mlpfit.data.sources.encoding import TableEncoding

    name = os.path.join(files.path, store.ENCODING_FILE)
    encoding = TableEncoding.from_dict(files.encoding, name)
    if encoding.names != files.summary["inputs"]:
        raise RunFolderError(f"{name} does not match the inputs in summary.json: re-run the fit")
    return encoding


def link_of(config: dict) -> str:
    """The output link the run's loss implies: bce trains logits of 0/1 targets, poisson log-rates."""
    return link_of_loss(config.get("train", {}).get("loss"))
