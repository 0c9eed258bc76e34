"""``mlpfit sweep``: many settings of one target, on one machine or many; the best refit into a run folder."""

# Deferred imports: the library (NumPy, pandas, the fit, the report) loads inside the command when it runs, so
# `mlpfit --help` and a mistyped option answer at once.

from __future__ import annotations

import click

from mlpfit.cli.app import app
from mlpfit.cli.fit import build_fit_config, fit, precheck_target
from mlpfit.cli.program import invoked_as
from mlpfit.errors import UsageError

EPILOG_SWEEP = """\b
Every option of `mlpfit fit` sets the base setting; --grid or --trials varies it.
Settings of one shape (hidden, activation, epochs, batch size) train as one batched model.
With --storage, --trials N is the study's total, shared by every worker on it.
\b
Examples:
  mlpfit sweep "x**2 + y**2" --domain -14:14 --grid "lr=1e-3,3e-3,1e-2 hidden=32x2,64x2"
  mlpfit sweep curve10 --trials 40 --space "lr=1e-3:3e-2 depth=1:2"
  mlpfit sweep curve10 --trials 40 --workers 2 --out runs/sweep      (a journal in --out)
  mlpfit sweep curve10 --trials 200 --storage postgresql://me@db:5432/mlpfit --study curves   (on each machine)
  mlpfit sweep --storage postgresql://me@db:5432/mlpfit --study curves --show
"""


@app.command(epilog=EPILOG_SWEEP)
@click.argument("target", required=False)
@click.option("--grid", metavar="SPEC", help='Settings to try, all combinations: "lr=1e-3,1e-2 hidden=32x2,64-32 activation=tanh,silu" '
              "(keys: lr, hidden, activation, batch_size, epochs, seed, optimizer).")
@click.option("--trials", type=int, metavar="N", help="Let Optuna (TPE, median pruning) choose N settings instead of a grid.")
@click.option("--space", metavar="SPEC", help='Ranges for --trials, e.g. "lr=1e-4:1e-2 width=32,64 depth=1:3 activation=tanh,silu". '
              "Default: lr 1e-4:3e-2 (log), width 16,32,64,128, depth 1:4, activation tanh,silu,gelu,relu.")
@click.option("--storage", metavar="URL", help="Optuna storage for --trials: a journal file path (processes on one machine) "
              "or a database URL such as postgresql://user@host:5432/db (machines; pip install \"mlpfit[postgres]\"). "
              "Default: in memory.")
@click.option("--study", metavar="NAME", help="Study name in --storage. Default mlpfit-sweep.")
@click.option("--workers", type=int, default=1, show_default=True, metavar="N",
              help="Local worker processes on one study (a journal in --out unless --storage is given).")
@click.option("--show", is_flag=True, help="Print the table of the study in --storage (--study) without training.")
def sweep(target, grid, trials, space, storage, study, workers, show, **options):
    """Try many settings on TARGET; write sweep.csv and refit the best into <out>/best."""
    from mlpfit.fitting.sweeping import plan as plans, results, run as sweeping

    if show:
        rows, task = sweeping.show(storage, study)
        return results.print_study(rows, task, f"study {study or plans.DEFAULT_STUDY}: {len(rows)} trials", options["as_json"])
    if target is None:
        raise UsageError("missing TARGET: give a formula, CSV file, IDX folder or example, e.g. mlpfit sweep curve10 --trials 20")
    plan = plans.make_plan(grid, trials, space, storage, study, workers)
    config = build_fit_config(target, {**options, "ensemble": 1})
    plans.check_base(config)
    precheck_target(config)
    loud = not (config.run.json or config.run.quiet)
    say = (lambda text: click.echo(text, err=True)) if loud else (lambda text: None)
    result = sweeping.run(config, plan, progress=say, on_trial=results.trial_printer(plan, say))
    results.print_result(result, config.run, invoked_as())


# The sweep takes every option of `fit` (defined once, in the table of options) except --ensemble.
sweep.params[1:1] = [p for p in fit.params if isinstance(p, click.Option) and p.name not in ("ensemble", "resume")]
