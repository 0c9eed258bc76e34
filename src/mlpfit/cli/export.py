"""``mlpfit export``: a run's model as an ONNX graph or a NumPy-only Python module."""

# Deferred imports: the library (NumPy, pandas, the fit, the report) loads inside the command when it runs, so
# `mlpfit --help` and a mistyped option answer at once.

from __future__ import annotations

import json

import click

from mlpfit.cli.app import app


@app.command()
@click.argument("run_dir", metavar="RUN")
@click.option("--format", "fmt", required=True, metavar="NAME", help="onnx (one graph for ONNX Runtime) or python (a .py needing only NumPy).")
@click.option("--out", metavar="FILE", help="The file to write. Default: model.onnx or model.py inside RUN.")
@click.option("--force", is_flag=True, help="Replace an earlier export at --out (never a file mlpfit did not write).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object describing what was written.")
def export(run_dir, fmt, out, force, as_json):
    """Write the model in RUN as an ONNX graph or a NumPy-only Python module: raw inputs in, original units out.

    \b
    Examples:
      mlpfit export runs/my-run --format onnx
      mlpfit export runs/my-run --format python --out my_model.py
    """
    from mlpfit.export import describe, export_run

    result = export_run(run_dir, fmt, out, force)
    click.echo(json.dumps(result) if as_json else describe(result))
