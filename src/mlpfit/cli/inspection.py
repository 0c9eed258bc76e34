"""``mlpfit examples``, ``report`` and ``explain``: look at what is built in and what a run learned."""

# Deferred imports: the library (NumPy, pandas, the fit, the report) loads inside the command when it runs, so
# `mlpfit --help` and a mistyped option answer at once.

from __future__ import annotations

import json

import click

from mlpfit.cli.app import app


@app.command()
def examples():
    """List the built-in examples, one line each."""
    from mlpfit.data.sources import IMAGE_EXAMPLES
    from mlpfit.data.sources.examples import EXAMPLES

    for name, example in EXAMPLES.items():
        click.echo(f"{name:<14} {example.summary}")
    for name, summary in IMAGE_EXAMPLES.items():
        click.echo(f"{name:<14} {summary}")
    click.echo("\nRun one with: mlpfit fit NAME   (options you give override the example's settings)")


@app.command()
@click.argument("run_dir", metavar="RUN")
def report(run_dir):
    """Redraw the plots of RUN and write RUN/report.html (one page, no network); prints its path.

    \b
    Example:
      mlpfit report runs/addition-20260101-120000
    """
    from mlpfit.report.html import write_report

    click.echo(write_report(run_dir))


@app.command()
@click.argument("run_dir", metavar="RUN")
@click.option("--symbolic", is_flag=True,
              help="Also search a short formula for what the network computes, with its R² (regression runs).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def explain(run_dir, symbolic, as_json):
    """Show what the model in RUN learned: layers, its equation if linear, weights, dead units, sensitivities.

    \b
    Examples:
      mlpfit explain runs/addition-20260101-120000
      mlpfit explain runs/my-run --json
      mlpfit explain runs/my-run --symbolic
    """
    from mlpfit.report.explain import explain as explain_run, format_text

    info = explain_run(run_dir, symbolic=symbolic)
    click.echo(json.dumps(info) if as_json else format_text(info))
