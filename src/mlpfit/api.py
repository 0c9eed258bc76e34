"""The Python API: ``mlpfit.fit(...)`` and ``mlpfit.load(path)``, as good as the command line.

Keyword names are the CLI's option names (``--batch-size`` → ``batch_size``); ``scale=False`` is
``--no-scale``, ``impute=False`` is ``--no-impute``, and ``target`` (or ``target_columns``) is
``--target``. The data may also be a DataFrame (or a dict of columns, or a NumPy array with named
fields), read by the rules of a CSV file. Nothing is written unless ``out`` is given.

>>> import mlpfit
>>> result = mlpfit.fit("3*x + 1", samples=200, hidden="none", epochs=300, lr=0.1)
>>> result.predict([[0.5]]).round(2).tolist()
[[2.5]]
>>> print(result.explain().splitlines()[-1])
y = 3.0000·x + 1.0000
"""

# Deferred imports: pandas, the estimators (scikit-learn) and what reports draw load inside the functions that need
# them.

from __future__ import annotations

import copy
import os

import numpy as np

from mlpfit.config import schema as cfg
from mlpfit.config.from_options import help_text, to_config
from mlpfit.config.options import OPTIONS
from mlpfit.data.sources.applicable import check_applicable
from mlpfit.errors import DataError, UsageError
from mlpfit.export import export_fitted
from mlpfit.fitting.fit import fit as run_fit
from mlpfit.fitting.summary import split_samples
from mlpfit.network.equation import equations
from mlpfit.report.sensitivity import sensitivities
from mlpfit.report.symbolic import search
from mlpfit.runfolder import run as runs
from mlpfit.runfolder.claim import prepare_dir

FRAME = "<DataFrame>"  # the TARGET recorded for a table given in memory


def fit(data=None, /, *, target=None, callbacks=(), **options) -> "Result":
    """Fit an MLP to ``data`` and return a :class:`Result`.

    ``data`` is a formula, a CSV path, an IDX folder or an example name (as ``mlpfit fit TARGET``),
    or a table in memory: a pandas DataFrame, a dict of columns, or a NumPy array with named fields.
    For a table, ``target`` names the column(s) to predict (default: the last), ``features`` the
    inputs (default: the others, less ``drop`` and row identifiers); text columns are one-hot
    encoded and missing inputs filled, as for a CSV file. ``fit(target="x**2")`` still works.

    The other keywords are the options of ``mlpfit fit`` (config/options.py's table, listed below),
    with ``_`` for ``-`` and the CLI's values or Python ones: ``domain`` is ``(lo, hi)``,
    ``{"x": (lo, hi), ...}`` or ``"lo:hi"``; ``hidden`` an int, a list of widths, or ``"64,64"`` /
    ``"32x5"`` / ``"none"``; ``scale=False`` is ``--no-scale``, ``plots=False`` ``--no-plots``.
    With ``out`` the run folder is written there, as ``mlpfit fit --out`` does.

    >>> r = fit("x**2 + y**2", domain=(-1, 1), samples=500, hidden=16, epochs=20, seed=1)
    >>> r.summary["inputs"], r.summary["epochs"], len(r.history.rows)
    (['x', 'y'], 20, 20)
    """
    from mlpfit.estimators.params import python_words

    data, columns = _data_and_targets(data, target, options.pop("target_columns", None))
    options["target_columns"] = columns
    frame = as_frame(data)
    config = build_config(FRAME if frame is not None else data, options)
    try:
        dataset = None
        if frame is not None:
            from mlpfit.data.sources import frame_dataset

            dataset = frame_dataset(config, frame)
        result = run_fit(config, dataset=dataset, callbacks=callbacks, save=config.run.out is not None)
    except (UsageError, DataError) as err:  # found once data or device are in hand, e.g. device="cuda" without a GPU
        raise python_words(err) from None
    return Result(result.config, result.fitted, result.history, result.summary,
                  samples=split_samples(result.dataset, result.split, result.config.train.seed),
                  run_dir=result.run_dir)


def _data_and_targets(data, target, target_columns):
    """``fit(data, target=COLUMNS)``, or the older ``fit(target=DATA, target_columns=COLUMNS)``."""
    if data is None:
        return target, target_columns
    if target is not None and target_columns is not None:
        raise UsageError("give the target column(s) once, as target= or target_columns=, not both")
    return data, target if target is not None else target_columns


def as_frame(data):
    """A DataFrame for a table in memory (DataFrame, dict of columns, array with named fields), else None."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict) or (isinstance(data, np.ndarray) and data.dtype.names):
        return pd.DataFrame(data)
    return None


def build_config(target, options: dict) -> cfg.FitConfig:
    """The keyword arguments of :func:`fit` as a validated FitConfig (the CLI's rules, in Python's words)."""
    from mlpfit.estimators.params import python_words

    target = os.fspath(target) if isinstance(target, os.PathLike) else target
    if not isinstance(target, str) or not target.strip():
        raise UsageError(f"target must be a formula, CSV path, IDX folder, example name or a DataFrame, got {target!r}: "
                         "e.g. 'x**2 + y**2'")
    if options.get("out") is not None:
        options = {**options, "out": os.fspath(options["out"])}

    try:
        config = to_config(target, options)
        check_applicable(config.data, "frame" if target == FRAME else None, spell=lambda flag: flag[2:].replace("-", "_"))
    except UsageError as err:
        raise python_words(err) from None
    config.run.quiet = True
    return config


def option_list() -> str:
    """The keywords of :func:`fit`, one line each, from the table of options."""

    return "\n".join(f"    {o.key}: {help_text(o)}" for o in OPTIONS)


fit.__doc__ += "\n    Keywords (``mlpfit fit --help`` says the same):\n\n" + option_list() + "\n"


def load(path) -> "Result":
    """Read a run folder (from ``mlpfit fit`` or :meth:`Result.save`) into a :class:`Result`.

    >>> import tempfile, os
    >>> folder = os.path.join(tempfile.mkdtemp(), "run")
    >>> fit("2*x", samples=100, hidden="none", epochs=50, out=folder).summary["run"] == folder
    True
    >>> load(folder).summary["formula"]
    '2*x'
    """
    run = runs.load(os.fspath(path))
    return Result(run.config, run.network, run.history, run.summary, samples=run.samples, run_dir=run.path)


class Result:
    """A trained model with its config, history and summary; from :func:`fit` or :func:`load`.

    ``summary`` is the ``--json`` object; ``history`` the per-epoch losses; ``fitted`` the model
    with its scalers; ``run_dir`` the folder it was saved to or read from (None if neither).
    """

    def __init__(self, config, fitted, history, summary: dict, samples: dict | None = None, run_dir=None):
        self.config, self.fitted, self.history, self.summary = config, fitted, history, summary
        self.samples, self.run_dir = samples, run_dir

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.summary["architecture"]["sizes"]))
        return f"<mlpfit.Result {self.summary.get('target')!r} {sizes} {self.summary['task']}, {self.summary['epochs']} epochs>"

    @property
    def metrics(self) -> dict:
        """Scores per split (train/val/test) in the targets' units."""
        return self.summary["metrics"]

    def predict(self, X) -> np.ndarray:
        """Regression: [n, outputs] in original units. Classification: the class labels [n].

        A DataFrame (or dict of columns) is matched by column name, in any order; a column the model
        does not know is refused. An array is in input order; a 1-D X is one value per row for a
        one-input model, else one point. A row outside the training range warns (MlpfitWarning).
        """
        X = self._inputs(X)
        if self.fitted.task == "classify":
            return np.asarray(self.fitted.classes)[self.fitted.predict(X)]
        return self.fitted.predict(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities [n, classes] (classification only)."""
        if self.fitted.task != "classify":
            raise UsageError("predict_proba is for classification runs; this one is a regression: use predict")
        return self.fitted.predict_proba(self._inputs(X))

    def _inputs(self, X) -> np.ndarray:
        """The network's inputs for X, after a warning about rows outside the training range."""
        from mlpfit.fitting import predicting

        encoding = predicting.input_encoding(self.fitted, self.summary)
        frame = as_frame(X)
        if frame is not None:
            checked = predicting.rows_from_frame(frame, encoding)
        elif self.fitted.encoding is not None:  # raw table values in column order
            checked = predicting.rows_from_frame(self._rows(X, encoding.inputs, dtype=object), encoding)
        else:
            X = self._rows(X, encoding.inputs, dtype=np.float64)
            checked = predicting.Checked(X, encoding.outside(X), [[] for _ in X], [[] for _ in X])
        predicting.warn_about(checked, lambda row: f"row {row + 1}")
        return checked.X

    def _rows(self, X, names: list[str], dtype):
        X = np.asarray(X, dtype=dtype)
        n = len(names)
        if X.ndim <= 1:
            X = X.reshape(-1, 1) if n == 1 else X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != n:
            raise UsageError(f"the model takes {n} input(s) ({', '.join(names[:6])}), "
                             f"got an array of shape {X.shape}: pass rows of {n} values, or a DataFrame")
        return X if dtype is np.float64 else {name: X[:, k] for k, name in enumerate(names)}

    def explain(self, symbolic: bool = False):
        """The architecture, the scores and, for a linear network, its equation in original units.

        ``symbolic=True`` returns instead what ``mlpfit explain RUN --symbolic --json`` prints under
        ``symbolic`` (and ``symbolic_outputs`` for several outputs): a short formula for the network,
        with its R² against the network, the data and the truth (see mlpfit.report.symbolic).
        """
        if symbolic:
            return search(self.fitted, self.summary, self.samples)

        s, arch = self.summary, self.summary["architecture"]
        linear = len(arch["sizes"]) == 2 or arch["activation"] == "identity"
        lines = [f"{'-'.join(map(str, arch['sizes']))} MLP, {'linear' if linear else arch['activation']} "
                 f"hidden units, {arch['output_activation']} output, {s['parameters']} parameters"]
        test = s["metrics"].get("test")
        if test:
            score = f"accuracy {test['accuracy']:.4f}" if s["task"] == "classify" else "R² " + ", ".join(f"{v:.5f}" for v in test["r2"])
            lines.append(f"test {score} after {s['epochs']} epochs")
        lines += equations(self.fitted) or []
        return "\n".join(lines)

    def sensitivity(self) -> dict | None:
        """Mean |∂output/∂input| per output and input over the stored sample, in original units
        (``explain --json``'s ``sensitivity``); None when the result holds no sample."""
        return sensitivities(self.fitted, self.samples)

    def plot(self, folder=None) -> list[str]:
        """Draw every plot that fits this run (the ones ``mlpfit fit`` writes) as PNGs; returns their paths.

        ``folder`` defaults to the run folder; a run that was never saved needs one.
        """
        from mlpfit.report import figures

        folder = os.fspath(folder) if folder is not None else self.run_dir
        if folder is None:
            raise UsageError("this result was not saved: pass a folder, e.g. result.plot('plots'), or save it first")
        os.makedirs(folder, exist_ok=True)
        return figures.write_all(folder, self.summary, self.history, self.fitted, self.samples, equations(self.fitted))

    def export(self, path, format: str, force: bool = False) -> str:
        """Write the model as ``format="onnx"`` (one ONNX graph) or ``"python"`` (a .py needing only NumPy).

        Both take inputs in original units and are checked against :meth:`predict` before they are
        kept; an existing file is replaced only with ``force`` and only if mlpfit export wrote it.
        Returns the path (a large net's Python module also writes an .npz of weights beside it).
        """
        from mlpfit.estimators.params import python_words

        try:
            return export_fitted(self.fitted, self.summary, format, os.fspath(path), force, samples=self.samples)["path"]
        except UsageError as err:
            raise python_words(err) from None

    def save(self, path, force: bool = False) -> str:
        """Write a run folder at ``path`` (what ``mlpfit fit --out`` writes); returns the path."""

        path = os.fspath(path)
        prepare_dir(path, force)
        config = copy.deepcopy(self.config)
        config.run.out = path
        self.summary = {**self.summary, "run": path}
        runs.save(path, config.to_dict(), self.fitted, self.history, self.summary, self.samples)
        self.run_dir = path
        return path
