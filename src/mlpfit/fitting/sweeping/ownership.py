"""A stored study belongs to one target and its data.

Trials of one study are compared by validation loss, so they must all have seen the same data:
a study reused for another target (``--force`` over an older sweep's folder, one ``--storage``
shared by two sweeps) would show the old trials, count them toward --trials and refit the other
target's best. So a study records what it was made for, and a sweep of anything else is refused.

The record is a fingerprint of the data as every worker sees it: names, task, classes, and the
values (as float32, so a last-bit difference between two machines' ``sin`` does not split a
study), with the split settings. The target's text is kept beside it to name it in the message.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from mlpfit.errors import UsageError

DATA_ATTR = "mlpfit_data"  # the fingerprint, in the study's user attributes
TARGET_ATTR = "mlpfit_target"  # the target as typed, for the message


def fingerprint(shared) -> str:
    """SHA-256 of the data a sweep trains on (Shared: dataset and base config)."""
    dataset, data = shared.dataset, shared.base.data
    digest = hashlib.sha256()
    about = {"inputs": list(dataset.inputs), "outputs": list(dataset.outputs), "task": dataset.task,
             "classes": [str(c) for c in dataset.classes or []], "shape": list(np.shape(dataset.X)),
             "val": data.val_fraction, "test": data.test_fraction, "scale": data.scale, "seed": shared.base.train.seed}
    digest.update(json.dumps(about, sort_keys=True).encode())
    for values in (np.asarray(dataset.X), np.asarray(dataset.Y)):
        exact = not np.issubdtype(values.dtype, np.floating)  # pixels and class indices: their own bytes, no copy
        digest.update(np.ascontiguousarray(values if exact else values.astype(np.float32)).data)
    return digest.hexdigest()


def claim_study(study, shared, where: str) -> None:
    """Mark ``study`` as this data's, or refuse when it was made for other data (``where`` names the storage)."""
    mine = fingerprint(shared)
    attrs = study.user_attrs
    if attrs.get(DATA_ATTR) not in (None, mine):
        made_for = str(attrs.get(TARGET_ATTR, "another target"))[:80]
        raise UsageError(f"{where} holds study {study.study_name!r} of {made_for!r} (other data than "
                         f"{shared.base.data.target[:80]!r} here): its trials cannot be compared with this sweep's; "
                         "name another --study or --storage (or another --out)")
    if DATA_ATTR not in attrs:
        study.set_user_attr(DATA_ATTR, mine)
        study.set_user_attr(TARGET_ATTR, shared.base.data.target)
