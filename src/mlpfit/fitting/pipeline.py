"""One fit, start to end: source → dataset → scaling → model → training → evaluation → run folder."""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass

import numpy as np
import torch

from mlpfit import __version__
from mlpfit.runfolder import checkpoint
from mlpfit.config import defaults
from mlpfit.fitting import diagnose
from mlpfit.runfolder import store as runs
from mlpfit.config.schema import FitConfig, validate
from mlpfit.data.dataset import Dataset, Split, split_indices
from mlpfit.data.checks import check_dataset
from mlpfit.nn.equation import equations
from mlpfit.fitting.metrics import classification_metrics, regression_metrics
from mlpfit.nn.fitted import FittedModel
from mlpfit.nn.model import MLP, layer_sizes
from mlpfit.runtime import choose_device, configure
from mlpfit.data.scaling import Standardizer
from mlpfit.data.sources import load_data, prepare
from mlpfit.train.callbacks import DivergenceGuard, EarlyStopping
from mlpfit.train.history import History
from mlpfit.train.loop import Loop, TrainData
from mlpfit.train import numpy_engine


@dataclass
class FitResult:
    config: FitConfig  # resolved: every default concrete
    fitted: FittedModel
    history: History
    summary: dict  # the --json object
    dataset: Dataset
    split: Split
    run_dir: str | None  # None when nothing was saved


def load_dataset(config: FitConfig) -> Dataset:
    """Validate, apply the example's settings, and read or sample the data."""
    validate(config)
    prepare(config)
    defaults.resolve_data_defaults(config.data)
    return load_data(config)


def fit(config: FitConfig, callbacks=(), save: bool = True, resume: dict | None = None) -> FitResult:
    """Train and (by default) save; ``resume`` is a checkpoint state from :func:`resume_fit`."""
    config = copy.deepcopy(config)
    dataset = load_dataset(config)
    return fit_dataset(config, dataset, callbacks, save, resume)


def fit_dataset(config: FitConfig, dataset: Dataset, callbacks=(), save: bool = False,
                resume: dict | None = None) -> FitResult:
    """Train on a Dataset already in memory (the estimators' and API's path); resolves ``config`` in place.

    A test fraction of 0 holds nothing out for testing (estimators are scored by their caller).
    """
    validate(config)
    check_dataset(dataset)
    split = split_indices(len(dataset.X), config.data.val_fraction, config.data.test_fraction, config.train.seed,
                          dataset.fixed_test)
    defaults.resolve(config, len(split.train), dataset.X.shape[1], _n_outputs(dataset), dataset.task,
                     images=dataset.image_shape is not None)
    if config.train.engine == "numpy":
        numpy_engine.check_supported(config, dataset.task)
    run_dir = _run_dir(config, dataset, resume) if save else None

    device = choose_device("cpu" if config.train.engine == "numpy" else config.train.device)  # NumPy runs on the CPU
    configure(config.train.threads, config.train.seed)
    if config.model.ensemble > 1:  # K members as one batched model: see ensemble.py
        from mlpfit.fitting import ensemble

        return ensemble.fit(config, dataset, split, device, run_dir, callbacks, save)
    fitted, data = _build(config, dataset, split, device)
    before = diagnose.before_training(config=config, X=dataset.X, Y=dataset.Y, rows=split.train,
                                      task=dataset.task, x_scaler=fitted.x_scaler, y_scaler=fitted.y_scaler,
                                      parameters=fitted.model.parameter_count, outputs=dataset.outputs)
    history, seconds = _train(config, fitted, data, dataset, split, run_dir, resume, callbacks)
    diagnostics = before + diagnose.after_training(history=history, config=config)
    summary = _summary(config, dataset, split, fitted, history, seconds, diagnostics, device, run_dir)
    summary["diagnostics"] += [d.to_dict() for d in diagnose.after_evaluation(summary)]
    result = FitResult(config, fitted, history, summary, dataset, split, run_dir)
    if save:
        save_result(result)
        checkpoint.discard(run_dir)
        if config.run.plots:
            from mlpfit.report.html import write_report

            write_report(run_dir)  # from the saved files, so `mlpfit report` later draws the same
    return result


def _run_dir(config: FitConfig, dataset: Dataset, resume: dict | None) -> str:
    """The run folder, created empty (or refused) unless a resumed run continues in its own."""
    run_dir = config.run.out or runs.default_run_dir(dataset.name)
    if resume is None:
        runs.prepare_dir(run_dir, config.run.force)
    config.run.out = run_dir
    return run_dir


def _train(config, fitted, data, dataset, split, run_dir, resume, callbacks) -> tuple[History, float]:
    """Run the chosen engine; returns the history and the training seconds."""
    if config.train.engine == "numpy":  # hand-written backprop; torch only holds the result
        return numpy_engine.train(fitted, dataset, split, config)
    loop = Loop(fitted.model, data, epochs=config.train.epochs, batch_size=config.train.batch_size,
                lr=config.train.lr, optimizer=config.train.optimizer, loss=config.train.loss,
                schedule=config.train.schedule, seed=config.train.seed,
                callbacks=[DivergenceGuard(), EarlyStopping(config.train.patience, monitor=_monitor(config)),
                           *callbacks])
    history = checkpoint.run(loop, config, run_dir, resume)  # Ctrl-C: checkpoint, then Interrupted (exit 130)
    return history, loop.seconds


def _monitor(config: FitConfig) -> str:
    return "val_error" if config.train.loss == "cross_entropy" else "val_loss"


def resume_fit(run_dir: str, target: str | None = None, *, json: bool | None = None, quiet: bool | None = None,
               callbacks=()) -> FitResult:
    """Continue the interrupted fit in ``run_dir`` from its checkpoint, with the config saved there."""
    state = checkpoint.load(run_dir)
    try:
        config = FitConfig.from_dict(state["config"])
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        from mlpfit.errors import RunFolderError

        raise RunFolderError(f"{checkpoint.folder(run_dir)} holds no usable config ({err}): start a new fit") from None
    if target is not None and target != config.data.target:
        from mlpfit.errors import UsageError

        raise UsageError(f"TARGET {target!r} differs from the checkpoint's {config.data.target!r}: "
                         f"omit TARGET with --resume {run_dir}")
    config.run.out = run_dir  # the folder may have been moved since
    config.run.json = config.run.json if json is None else json
    config.run.quiet = config.run.quiet if quiet is None else quiet
    return fit(config, callbacks, resume=state)


def _n_outputs(dataset: Dataset) -> int:
    return len(dataset.classes) if dataset.task == "classify" else dataset.Y.shape[1]


def _build(config, dataset, split, device) -> tuple[FittedModel, TrainData]:
    X, Y = dataset.X, dataset.Y
    scale = config.data.scale
    x_scaler = _input_scaler(dataset, split) if scale else Standardizer.identity(X.shape[1])
    classify = dataset.task == "classify"
    y_scaler = None if classify else (Standardizer.fit(Y[split.train]) if scale else Standardizer.identity(Y.shape[1]))

    def tensors(index):
        x = _scaled_inputs(X[index], x_scaler, device)
        if classify:
            return x, torch.as_tensor(Y[index], dtype=torch.long, device=device)
        return x, torch.as_tensor(y_scaler.transform(Y[index]), dtype=torch.float32, device=device)

    sizes = layer_sizes(X.shape[1], config.model.hidden, _n_outputs(dataset))
    model = MLP(sizes, config.model.activation, config.model.output_activation, config.model.dropout).to(device)
    fitted = FittedModel(model, x_scaler, y_scaler, dataset.inputs, dataset.outputs, dataset.task, dataset.classes,
                         dataset.encoding)
    return fitted, TrainData(*tensors(split.train), *tensors(split.val))


def _input_scaler(dataset: Dataset, split: Split) -> Standardizer:
    """Per-column standardization; for images one mean and std for all pixels (seed 001's Normalize)."""
    if dataset.image_shape is None:
        return Standardizer.fit(dataset.X[split.train])
    from mlpfit.data.sources.images import pixel_statistics

    mean, std = pixel_statistics(dataset.X[split.train])
    columns = dataset.X.shape[1]
    return Standardizer(mean=np.full(columns, mean), std=np.full(columns, std))


def _scaled_inputs(X: np.ndarray, scaler: Standardizer, device) -> torch.Tensor:
    """Float inputs are scaled in float64 first (precision); uint8 pixels go to the device as they
    are and are scaled there, so no float64 copy of an image set is ever made."""
    if X.dtype == np.uint8:
        return scaler.transform(torch.as_tensor(X, device=device).to(torch.float32))
    return torch.as_tensor(scaler.transform(X), dtype=torch.float32, device=device)


def _encoding(files: runs.RunFiles):
    """The run's TableEncoding, checked against the model's inputs, or None (formulas, images, older runs)."""
    if files.encoding is None:
        return None
    from mlpfit.data.sources.encoding import TableEncoding
    from mlpfit.errors import RunFolderError

    name = os.path.join(files.path, runs.ENCODING_FILE)
    encoding = TableEncoding.from_dict(files.encoding, name)
    if encoding.names != files.summary["inputs"]:
        raise RunFolderError(f"{name} does not match the inputs in summary.json: re-run the fit")
    return encoding


def split_metrics(fitted: FittedModel, dataset: Dataset, split: Split) -> dict:
    metrics = {}
    for name in ("train", "val", "test"):
        index = getattr(split, name)
        if len(index) == 0:  # nothing held out (test fraction 0): no score rather than a NaN one
            metrics[name] = None
            continue
        X, Y = dataset.X[index], dataset.Y[index]
        if dataset.task == "classify":
            metrics[name] = classification_metrics(Y, fitted.predict_proba(X), dataset.classes)
        else:
            metrics[name] = regression_metrics(Y, fitted.predict(X))
    return metrics


def _summary(config, dataset, split, fitted, history, seconds, diagnostics, device, run_dir) -> dict:
    notes = list(dataset.notes)
    if not split.held_out:
        notes.append(f"only {len(dataset.X)} examples: all are used for training, so val and test scores are training scores")
    coverage = truth_off_the_points(fitted, dataset)
    if coverage:
        notes.append(coverage)
    return {
        "run": run_dir,
        "name": dataset.name,
        "target": config.data.target,
        "task": dataset.task,
        "inputs": dataset.inputs,
        "outputs": dataset.outputs,
        "classes": dataset.classes,
        "formula": dataset.formula,
        "domain": dataset.domain,
        "table": None if dataset.encoding is None else dataset.encoding.summary(),  # encoded, filled, left out
        "image_shape": dataset.image_shape,  # (h, w) for pixel inputs: plots draw the test images
        "seconds": round(seconds, 4),
        "epochs": history.epochs,
        "best_epoch": history.best_epoch,
        "stopped_early": history.stopped_early,
        "parameters": fitted.model.parameter_count,
        "architecture": {"sizes": fitted.model.sizes, "activation": config.model.activation,
                         "output_activation": config.model.output_activation, "dropout": config.model.dropout},
        "metrics": split_metrics(fitted, dataset, split),
        "equations": equations(fitted),  # a linear net read back in original units; None otherwise
        "held_out": split.held_out,
        "examples": {"train": len(split.train), "val": len(split.val), "test": len(split.test)},
        "diagnostics": [d.to_dict() for d in diagnostics],
        "notes": notes,
        "device": str(device),
        "threads": config.train.threads,
        "mlpfit": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def truth_off_the_points(fitted: FittedModel, dataset: Dataset, n: int = 4000) -> str | None:
    """For fixed points with a known truth (seed 003's circle): how the model does on the whole box.

    A fit can pass through every given point and still know nothing about the function between
    them; scoring it on fresh points of the points' bounding box shows that in one number.
    """
    if dataset.formula is None or dataset.domain is not None or dataset.task != "regress":
        return None
    from mlpfit.fitting.metrics import r2_per_output
    from mlpfit.data.sources.formula import parse_formula

    lows, highs = dataset.X.min(axis=0), dataset.X.max(axis=0)
    X = lows + (highs - lows) * np.random.default_rng(0).random((n, len(lows)))
    r2 = min(r2_per_output(parse_formula(dataset.formula).numpy(X), fitted.predict(X)))
    box = " × ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in zip(lows, highs))
    return (f"against the true {dataset.formula} at {n} fresh points of the box {box}, R² is {r2:.3g}: "
            "the given points do not pin the function down between them")


def save_result(result: FitResult) -> None:
    write_run(result.run_dir, result.config, result.fitted, result.history, result.summary,
              split_samples(result.dataset, result.split, result.config.train.seed))


def write_run(path: str, config: FitConfig, fitted: FittedModel, history: History, summary: dict,
              samples: dict[str, np.ndarray] | None) -> None:
    """Write every file of a run folder (runs.save); the one place that knows what goes in it."""
    from safetensors.numpy import save as save_arrays

    scalers = {"x": fitted.x_scaler.state(), "y": None if fitted.y_scaler is None else fitted.y_scaler.state()}
    extra = {runs.SAMPLE_FILE: save_arrays({k: np.ascontiguousarray(v) for k, v in samples.items()})} if samples else {}
    if fitted.encoding is not None:  # a table's columns -> inputs, applied again by predict
        extra[runs.ENCODING_FILE] = runs.json_bytes(fitted.encoding.to_dict())
    runs.save(path, config=config.to_dict(), state=fitted.model.state_dict(), scalers=scalers,
              history_csv=history.to_csv(), summary={**summary, "history": history.meta()}, extra=extra)


# A run folder keeps at most this many values per split sample (~4 MB as float32), so plots and
# explain can be redrawn in a fresh process without the original data.
SAMPLE_VALUES = 1_000_000


def split_samples(dataset: Dataset, split: Split, seed: int) -> dict[str, np.ndarray]:
    """train_X/train_Y/test_X/test_Y: a seeded random subset of each split in raw units."""
    rng = np.random.default_rng(seed)
    rows = max(1, min(10_000, SAMPLE_VALUES // max(1, dataset.X.shape[1])))
    samples = {}
    for name in ("train", "test"):
        index = getattr(split, name)
        if len(index) > rows:
            index = np.sort(rng.choice(index, rows, replace=False))
        samples[f"{name}_X"] = dataset.X[index].astype(np.float32)
        samples[f"{name}_Y"] = dataset.Y[index].astype(np.int64 if dataset.task == "classify" else np.float64)
    return samples


def load_fitted(path: str, device: str = "cpu") -> tuple[FitConfig, FittedModel, dict, History]:
    """Read a run folder back into a usable model (no pickle: JSON and safetensors only)."""
    files = runs.read(path)
    try:
        return fitted_from_files(files, device)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        # The checksums matched, so the manifest was rewritten to fit edited files: refuse them plainly.
        from mlpfit.errors import RunFolderError

        raise RunFolderError(f"{path}: config.json, summary.json, scalers.json or history.csv has unexpected content "
                             f"({type(err).__name__}: {err}) although manifest.json matches: re-run the fit") from None


def fitted_from_files(files: runs.RunFiles, device: str = "cpu") -> tuple[FitConfig, FittedModel, dict, History]:
    if files.summary.get("ensemble"):
        from mlpfit.fitting import ensemble

        return ensemble.load_files(files, device)
    arch = files.summary["architecture"]
    model = MLP(arch["sizes"], arch["activation"], arch["output_activation"])
    return assemble(files, model, device)


def assemble(files: runs.RunFiles, model, device: str = "cpu", fitted_type=FittedModel,
             what: str = "the architecture") -> tuple[FitConfig, FittedModel, dict, History]:
    """Load a run's weights into ``model`` and wrap it with its scalers, names and history."""
    s = files.summary
    try:
        model.load_state_dict(files.state)
    except RuntimeError as err:
        from mlpfit.errors import RunFolderError

        raise RunFolderError(f"{os.path.join(files.path, 'model.safetensors')} does not fit {what} in summary.json: "
                             f"{str(err).splitlines()[0]}") from None
    model.to(choose_device(device))
    y_state = files.scalers.get("y")
    fitted = fitted_type(model, Standardizer.from_state(files.scalers["x"]),
                         None if y_state is None else Standardizer.from_state(y_state),
                         s["inputs"], s["outputs"], s["task"], s.get("classes"), _encoding(files))
    history = History.from_csv(files.history_csv, s.get("history"))
    return FitConfig.from_dict(files.config), fitted, s, history
