"""``mlpfit predict``: a run folder's model at points given on the command line or in a CSV."""

# Deferred imports: the library (NumPy, pandas, the fit, the report) loads inside the command when it runs, so
# `mlpfit --help` and a mistyped option answer at once.

from __future__ import annotations

import json
import os
import shlex

import click

from mlpfit.cli.app import app
from mlpfit.config import schema as cfg
from mlpfit.errors import UsageError


@app.command(context_settings={"ignore_unknown_options": True})
@click.argument("run_dir", metavar="RUN")
@click.argument("values", nargs=-1, metavar="[V ...]")
@click.option("--input", "input_path", metavar="FILE.csv", help="Predict every row of a CSV (header = input names).")
@click.option("--output", "output_path", metavar="FILE.csv",
              help="Write the inputs plus predictions (probabilities, ensemble std) as a CSV.")
@click.option("--force", is_flag=True, help="Let --output replace an existing file.")
@click.option("--sep", metavar="CHAR", help="--input's field separator: , ; tab or |. Default: detected from the file.")
@click.option("--decimal", metavar="CHAR", help="--input's decimal mark: . or ,. Default: detected from the file.")
@click.option("--thousands", metavar="CHAR", help="--input's thousands separator: , . space ' or none. Default: detected.")
@click.option("--device", metavar="NAME", default="cpu", show_default=True, help="cpu, cuda or auto.")
@click.option("--json", "as_json", is_flag=True, help='Print {"predictions": [[...], ...]}.')
def predict(run_dir, values, input_path, output_path, force, device, as_json, sep, decimal, thousands):
    """Evaluate the model in RUN at one point (V ... in input order, or NAME=V by name) or at every row of --input.

    Values and columns of a table may be text (its categories); a missing value is left empty.
    Points outside the training range are flagged (a warning, and "extrapolation" in --json).

    \b
    Examples:
      mlpfit predict runs/addition-20260101-120000 2 3
      mlpfit predict runs/my-run x=3 y=4
      mlpfit predict runs/my-run --input new.csv --json
      mlpfit predict runs/my-run --input new.csv --output predicted.csv
    """
    cfg.check_choice("--device", device, cfg.DEVICES)
    marks = (cfg.check_mark("--sep", sep, cfg.SEPARATORS), cfg.check_mark("--decimal", decimal, cfg.DECIMALS),
             cfg.check_mark("--thousands", thousands, cfg.THOUSANDS))
    if bool(values) == (input_path is not None):
        raise UsageError("give either the input values (mlpfit predict RUN 2 3) or --input FILE.csv, not both or neither")
    if values and not os.path.isdir(run_dir):
        _numbers(values)  # a typo in a value is the first thing to fix; then the missing folder
    if output_path is not None:
        from mlpfit.report.predictions import check_output_path

        check_output_path(output_path, force)
    from mlpfit.fitting import predicting

    from mlpfit.runfolder.run import load_network

    fitted, summary = load_network(run_dir)  # NumPy alone: a small prediction answers in a fraction of a second
    if device != "cpu":
        from mlpfit.engines import on_device

        fitted = on_device(fitted, device)
    encoding = predicting.input_encoding(fitted, summary)
    if input_path is not None:
        sheet, checked = predicting.rows_from_csv(input_path, encoding, *marks)
    else:
        example = f"mlpfit predict {shlex.quote(run_dir)} " + (
            "--input FILE.csv" if encoding.has_text or len(encoding.inputs) > 8 else " ".join(["1"] * len(encoding.inputs)))
        sheet, checked = predicting.rows_from_values(list(values), encoding, example)
    out = predicting.predict_rows(fitted, checked, encoding)
    predicting.warn_about(checked, sheet.where if input_path is not None else None)
    # a class comes with its probability, as it does for --input
    header = input_path is not None or len(fitted.outputs) > 1 or fitted.task == "classify"
    _show(out, fitted, sheet, output_path, as_json, header=header)


def _show(out, fitted, sheet, output_path, as_json, header) -> None:
    from mlpfit.report import predictions

    if output_path is not None:
        predictions.write_csv(output_path, predictions.as_frame(sheet.cells_as_written(), out, fitted.outputs))
        out = {**out, "output": output_path}
    if as_json:
        click.echo(json.dumps(out))
    elif output_path is not None:
        click.echo(f"wrote {len(out['predictions'])} row(s) of inputs and predictions to {output_path}")
    else:
        click.echo(predictions.as_text(out, fitted.outputs, header))


def _numbers(values) -> None:
    for value in values:
        try:
            float(value.rpartition("=")[2] if value[:1].isalpha() else value)  # x=3: the value after the name
        except ValueError:
            raise UsageError(f"input value {value!r} is not a number: give numbers in input order, e.g. 2 3") from None
