"""``mlpfit sweep``: many settings of one target; the best refit into a run folder."""

from __future__ import annotations

import json
import os
import shutil

import click

from mlpfit.cli.app import app
from mlpfit.cli.fit import build_fit_config, fit, precheck_target


EPILOG_SWEEP = """\b
Every option of `mlpfit fit` sets the base setting; --grid or --trials varies it.
Settings of one shape (hidden, activation, epochs, batch size) train as one batched model.
\b
Examples:
  mlpfit sweep "x**2 + y**2" --domain -14:14 --grid "lr=1e-3,3e-3,1e-2 hidden=32x2,64x2"
  mlpfit sweep curve10 --trials 40 --space "lr=1e-3:3e-2 depth=1:2"
  mlpfit sweep "sin(x)" --trials 20 --storage sweep.journal --study sines   (run it in several shells)
"""


@app.command(epilog=EPILOG_SWEEP)
@click.argument("target")
@click.option("--grid", metavar="SPEC", help='Settings to try, all combinations: "lr=1e-3,1e-2 hidden=32x2,64-32 activation=tanh,silu" '
              "(keys: lr, hidden, activation, batch_size, epochs, seed, optimizer).")
@click.option("--trials", type=int, metavar="N", help="Let Optuna (TPE, median pruning) choose N settings instead of a grid.")
@click.option("--space", metavar="SPEC", help='Ranges for --trials, e.g. "lr=1e-4:1e-2 width=32,64 depth=1:3 activation=tanh,silu". '
              "Default: lr 1e-4:3e-2 (log), width 16,32,64,128, depth 1:4, activation tanh,silu,gelu,relu.")
@click.option("--storage", metavar="URL", help="Optuna storage for --trials: a journal file path (several local workers "
              "share it) or a database URL. Default: in memory.")
@click.option("--study", metavar="NAME", help="Study name in --storage. Default mlpfit-sweep.")
def sweep(target, grid, trials, space, storage, study, **options):
    """Try many settings on TARGET; write sweep.csv and refit the best into <out>/best."""
    from mlpfit.fitting import sweep as sweeping
    from mlpfit.fitting.sweep_plan import check_base, make_plan

    plan = make_plan(grid, trials, space, storage, study)
    config = build_fit_config(target, {**options, "ensemble": 1})
    check_base(config)
    precheck_target(config)
    say = (lambda text: None) if config.run.json or config.run.quiet else (lambda text: click.echo(text, err=True))
    result = sweeping.run(config, plan, progress=say)
    if config.run.json:
        click.echo(json.dumps({"sweep": result.out, "csv": result.csv, "best": result.best, "best_run": result.best_run,
                               "rows": result.rows}, allow_nan=True))
    elif not config.run.quiet:
        from rich.console import Console

        Console(width=max(120, shutil.get_terminal_size().columns)).print(sweeping.table(result))
        from mlpfit.report.text import next_command

        with open(os.path.join(result.best_run, "summary.json"), encoding="utf-8") as handle:
            best = {**json.load(handle), "run": result.best_run}
        click.echo(f"best: {json.dumps(result.best)} → {result.best_run}\nnext: {next_command(best)}")


# The sweep takes every option of `fit` (defined once, above) except --ensemble and --resume.
sweep.params[1:1] = [p for p in fit.params if isinstance(p, click.Option) and p.name not in ("ensemble", "resume")]
