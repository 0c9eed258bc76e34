"""A run folder back into a usable model, single or ensemble (JSON and safetensors only, no pickle)."""

from __future__ import annotations

import os

from mlpfit.config.schema import FitConfig
from mlpfit.data.scaling import Standardizer
from mlpfit.errors import RunFolderError
from mlpfit.engines.torch.fitted import FittedEnsemble, FittedModel
from mlpfit.engines.torch.model import MLP
from mlpfit.engines.torch.stacked_model import EnsembleMLP
from mlpfit.runfolder import store, validate
from mlpfit.runfolder.encoding import link_of, table_encoding
from mlpfit.runtime import choose_device
from mlpfit.train.history import History


def load_fitted(path: str, device: str = "cpu", check_derived: bool = True) -> tuple[FitConfig, FittedModel, dict, History]:
    """Read and verify ``path``; returns (config, fitted model, summary, history) or one RunFolderError."""
    return fitted_from_files(store.read(path, check_derived), device)


def fitted_from_files(files: store.RunFiles, device: str = "cpu") -> tuple[FitConfig, FittedModel, dict, History]:
    validate.check(files)  # sizes, counts and scalers, before anything is allocated from them
    with validate.content_errors(files.path):  # what the checks do not cover still ends as one line
        model, fitted_type, what = model_for(files.summary)
        return assemble(files, model, device, fitted_type, what)


def model_for(summary: dict):
    """An empty model of the architecture summary.json records: (module, FittedModel type, description)."""
    arch = summary["architecture"]
    sizes = [int(s) for s in arch["sizes"]]
    if summary.get("ensemble"):
        seeds = [int(m["seed"]) for m in summary["members"]]
        model = EnsembleMLP(sizes, arch["activation"], arch["output_activation"], seeds)
        return model, FittedEnsemble, f"the {len(seeds)}-member architecture"
    return MLP(sizes, arch["activation"], arch["output_activation"]), FittedModel, "the architecture"


def assemble(files: store.RunFiles, model, device: str, fitted_type, what: str):
    """Load a run's weights into ``model`` and wrap it with its scalers, names and history."""
    s = files.summary
    dtypes = {v.dtype for v in files.state.values()}
    if len(dtypes) == 1:
        model.to(dtypes.pop())  # the NumPy engine saves float64 weights
    try:
        model.load_state_dict(files.state)
    except RuntimeError as err:
        raise RunFolderError(f"{os.path.join(files.path, 'model.safetensors')} does not fit {what} in summary.json: "
                             f"{str(err).splitlines()[0]}") from None
    model.to(choose_device(device))
    y_state = files.scalers.get("y")
    fitted = fitted_type(model, Standardizer.from_state(files.scalers["x"]),
                         None if y_state is None else Standardizer.from_state(y_state),
                         s["inputs"], s["outputs"], s["task"], s.get("classes"), table_encoding(files),
                         link=link_of(files.config))
    history = History.from_csv(files.history_csv, s.get("history"))
    return FitConfig.from_dict(files.config), fitted, s, history
