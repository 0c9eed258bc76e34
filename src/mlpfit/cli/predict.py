"""``mlpfit predict``: a run folder's model at points given on the command line or in a CSV."""

from __future__ import annotations

import json

import click

from mlpfit.cli.app import app
from mlpfit.config import schema as cfg
from mlpfit.errors import UsageError


@app.command(context_settings={"ignore_unknown_options": True})
@click.argument("run_dir", metavar="RUN")
@click.argument("values", nargs=-1, metavar="[V ...]")
@click.option("--input", "input_path", metavar="FILE.csv", help="Predict every row of a CSV (header = input names).")
@click.option("--device", metavar="NAME", default="cpu", show_default=True, help="cpu, cuda or auto.")
@click.option("--json", "as_json", is_flag=True, help='Print {"predictions": [[...], ...]}.')
def predict(run_dir, values, input_path, device, as_json):
    """Evaluate the model in RUN at one point (V ... in input order) or at every row of --input.

    \b
    Examples:
      mlpfit predict runs/addition-20260101-120000 2 3
      mlpfit predict runs/my-run --input new.csv --json
    """
    cfg.check_choice("--device", device, cfg.DEVICES)
    X = _parse_point(values) if values else None
    if (X is None) == (input_path is None):
        raise UsageError("give either the input values (mlpfit predict RUN 2 3) or --input FILE.csv, not both or neither")
    from mlpfit.fitting.predicting import predict_rows, read_input_rows

    from mlpfit.runfolder.load import load_fitted

    _, fitted, summary, _ = load_fitted(run_dir, device)
    if X is None:
        X = read_input_rows(input_path, fitted.inputs)
    elif X.shape[1] != len(fitted.inputs):
        raise UsageError(
            f"the model takes {len(fitted.inputs)} input(s) ({', '.join(fitted.inputs)}), got {X.shape[1]} value(s): "
            f"e.g. mlpfit predict {run_dir} {' '.join(['1'] * len(fitted.inputs))}"
        )
    out = predict_rows(fitted, X)
    click.echo(json.dumps(out) if as_json else format_predictions(out))


def _parse_point(values):
    import numpy as np

    try:
        point = [float(v) for v in values]
    except ValueError:
        bad = next(v for v in values if not _is_float(v))
        raise UsageError(f"input value {bad!r} is not a number: give numbers in input order, e.g. 2 3") from None
    if not all(np.isfinite(point)):
        raise UsageError(f"input values must be finite numbers, got {' '.join(values)}")
    return np.array([point])


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def format_predictions(out: dict) -> str:
    if "classes" in out:
        return "\n".join(str(label) for label in out["labels"])
    return "\n".join(" ".join(f"{v:.6g}" for v in row) for row in out["predictions"])
