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

from __future__ import annotations

import copy
import os

import numpy as np

from mlpfit.config import schema as cfg
from mlpfit.errors import DataError, UsageError

FRAME = "<DataFrame>"  # the TARGET recorded for a table given in memory


def fit(data=None, /, *, target=None, domain=None, samples=None, target_columns=None, features=None, drop=None,
        impute=True, data_dir=None, task=None, hidden=None, activation=None, output_activation="identity", dropout=None,
        ensemble=1, epochs=None, batch_size=None, lr=None, optimizer="adam", loss=None, schedule="onecycle",
        patience=None, scale=True, seed=0, device="auto", threads=None, engine="torch", out=None, force=False,
        callbacks=()) -> "Result":
    """Fit an MLP to ``data`` and return a :class:`Result`.

    ``data`` is a formula, a CSV path, an IDX folder or an example name (as ``mlpfit fit TARGET``),
    or a table in memory: a pandas DataFrame, a dict of columns, or a NumPy array with named fields.
    For a table, ``target`` names the column(s) to predict (default: the last), ``features`` the
    inputs (default: the others, less ``drop`` and row identifiers); text columns are one-hot
    encoded and missing inputs filled, as for a CSV file. ``fit(target="x**2")`` still works.
    ``domain`` is ``(lo, hi)``, ``{"x": (lo, hi), ...}`` or the CLI's ``"lo:hi"``; ``hidden`` is an
    int, a list of widths, or the CLI's ``"64,64"`` / ``"32x5"`` / ``"none"``. With ``out`` the run
    folder is written there, as ``mlpfit fit --out`` does.

    >>> r = fit("x**2 + y**2", domain=(-1, 1), samples=500, hidden=16, epochs=20, seed=1)
    >>> r.summary["inputs"], r.summary["epochs"], len(r.history.rows)
    (['x', 'y'], 20, 20)
    """
    from mlpfit.fitting import pipeline
    from mlpfit.estimators import python_words

    options = dict(locals())
    data, options["target_columns"] = _data_and_targets(data, target, target_columns)
    frame = as_frame(data)
    config = build_config(FRAME if frame is not None else data, options)
    try:
        if frame is None:
            result = pipeline.fit(config, callbacks=callbacks, save=out is not None)
        else:
            from mlpfit.data.sources import frame_dataset

            result = pipeline.fit_dataset(config, frame_dataset(config, frame), callbacks, save=out is not None)
    except (UsageError, DataError) as err:  # found once data or device are in hand, e.g. device="cuda" without a GPU
        raise python_words(err) from None
    return Result(result.config, result.fitted, result.history, result.summary,
                  samples=pipeline.split_samples(result.dataset, result.split, result.config.train.seed),
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


def build_config(target: str, o: dict) -> cfg.FitConfig:
    """The keyword arguments of :func:`fit` as a validated FitConfig (the CLI's rules, in Python's words)."""
    from mlpfit.estimators import python_words

    try:
        return _build_config(target, o)
    except UsageError as err:
        raise python_words(err) from None


def _build_config(target, o: dict) -> cfg.FitConfig:
    from mlpfit.data.sources.applicable import check_applicable
    from mlpfit.estimators import hidden_sizes

    target = os.fspath(target) if isinstance(target, os.PathLike) else target
    if not isinstance(target, str) or not target.strip():
        raise UsageError(f"target must be a formula, CSV path, IDX folder, example name or a DataFrame, got {target!r}: "
                         "e.g. 'x**2 + y**2'")
    data = cfg.DataConfig(target=target, domain=_domain(o["domain"]), samples=o["samples"],
                          target_columns=_columns(o["target_columns"]), feature_columns=_columns(o["features"]),
                          drop=_columns(o.get("drop")), impute=bool(o.get("impute", True)),
                          data_dir=o["data_dir"], task=o["task"], scale=bool(o["scale"]))
    check_applicable(data, "frame" if target == FRAME else None, spell=lambda option: option[2:].replace("-", "_"))
    model = cfg.ModelConfig(hidden=hidden_sizes(o["hidden"]), activation=o["activation"],
                            output_activation=o["output_activation"], dropout=o["dropout"], ensemble=o["ensemble"])
    train = cfg.TrainConfig(epochs=o["epochs"], batch_size=o["batch_size"], lr=o["lr"], optimizer=o["optimizer"],
                            loss=o["loss"], schedule=o["schedule"], patience=o["patience"], seed=o["seed"],
                            device=o["device"], threads=o["threads"], engine=o["engine"])
    run = cfg.RunConfig(out=None if o["out"] is None else os.fspath(o["out"]), quiet=True, force=o["force"])
    return cfg.validate(cfg.FitConfig(data, model, train, run))


def _domain(domain):
    if domain is None or isinstance(domain, str):
        return None if domain is None else cfg.parse_domain(domain)
    if isinstance(domain, dict):
        return {str(k): _interval(v, domain) for k, v in domain.items()}
    return _interval(domain, domain)


def _interval(value, whole) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise UsageError(f"domain {whole!r} is not (lo, hi): write e.g. (-1, 1) or {{'x': (0, 1)}}") from None
    return cfg.parse_domain(f"{lo!r}:{hi!r}")


def _columns(columns):
    if columns is None or isinstance(columns, str):
        return cfg.parse_columns(columns)
    return cfg.parse_columns(",".join(map(str, columns)))


def load(path) -> "Result":
    """Read a run folder (from ``mlpfit fit`` or :meth:`Result.save`) into a :class:`Result`.

    >>> import tempfile, os
    >>> folder = os.path.join(tempfile.mkdtemp(), "run")
    >>> fit("2*x", samples=100, hidden="none", epochs=50, out=folder).summary["run"] == folder
    True
    >>> load(folder).summary["formula"]
    '2*x'
    """
    from mlpfit.fitting import pipeline
    from mlpfit.runfolder import store as runs

    files = runs.read(os.fspath(path))
    config, fitted, summary, history = pipeline.fitted_from_files(files)
    samples = {k: v.numpy() for k, v in files.samples.items()} if files.samples else None
    return Result(config, fitted, history, summary, samples=samples, run_dir=files.path)


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

    def explain(self) -> str:
        """The architecture, the scores and, for a linear network, its equation in original units."""
        from mlpfit.nn.equation import equations

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

    def plot(self, folder=None) -> list[str]:
        """Draw every plot that fits this run (the ones ``mlpfit fit`` writes) as PNGs; returns their paths.

        ``folder`` defaults to the run folder; a run that was never saved needs one.
        """
        from mlpfit.report import plots
        from mlpfit.nn.equation import equations

        folder = os.fspath(folder) if folder is not None else self.run_dir
        if folder is None:
            raise UsageError("this result was not saved: pass a folder, e.g. result.plot('plots'), or save it first")
        os.makedirs(folder, exist_ok=True)
        return plots.write_all(folder, self.summary, self.history, self.fitted, self.samples, equations(self.fitted))

    def save(self, path, force: bool = False) -> str:
        """Write a run folder at ``path`` (what ``mlpfit fit --out`` writes); returns the path."""
        from mlpfit.fitting import pipeline
        from mlpfit.runfolder import store as runs

        path = os.fspath(path)
        runs.prepare_dir(path, force)
        config = copy.deepcopy(self.config)
        config.run.out = path
        self.summary = {**self.summary, "run": path}
        pipeline.write_run(path, config, self.fitted, self.history, self.summary, self.samples)
        self.run_dir = path
        return path
