"""Writing a run folder: the one place that knows which files a fit leaves behind."""

from __future__ import annotations

import numpy as np

from mlpfit.runfolder import store
from mlpfit.train.history import History


def write_run(path: str, config: dict, fitted, history: History, summary: dict,
              samples: dict[str, np.ndarray] | None) -> None:
    """Write every file of a run folder (store.save); ``config`` is the resolved config as a dict, ``fitted``
    a FittedModel or Network (the files are the same)."""
    from safetensors.numpy import save as save_arrays

    scalers = {"x": fitted.x_scaler.state(), "y": None if fitted.y_scaler is None else fitted.y_scaler.state()}
    extra = {store.SAMPLE_FILE: save_arrays({k: np.ascontiguousarray(v) for k, v in samples.items()})} if samples else {}
    if fitted.encoding is not None:  # a table's columns -> inputs, applied again by predict
        extra[store.ENCODING_FILE] = store.json_bytes(fitted.encoding.to_dict())
    store.save(path, config=config, state=fitted.state_arrays(), scalers=scalers,
               history_csv=history.to_csv(), summary={**summary, "history": history.meta()}, extra=extra)
