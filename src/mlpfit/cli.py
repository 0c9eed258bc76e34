"""The command line: parse options into a config, call the library, map errors to exit codes.

Nothing here trains or reads data itself. torch is imported only after every option has been
checked, so ``--help`` and mistakes answer instantly.

Exit codes: 0 success; 2 bad usage or input (one line on stderr); 1 unexpected failure;
130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys

import click

from mlpfit import config as cfg
from mlpfit.errors import MlpfitError, UsageError

EPILOG_FIT = """\b
TARGET is one of:
  a formula     "x1 + x2", "x**2 + y**2", "sin(x), cos(x)" (several outputs: commas)
  a CSV file    data.csv --target COL  (header row; other columns are inputs)
  an IDX folder MNIST-format files (train-images-idx3-ubyte[.gz], ...)
  an example    addition, curve10, circle, multi, digits, mnist, fashion-mnist

\b
Examples:
  mlpfit fit "x1 + x2" --domain 0:1 --hidden none
  mlpfit fit "x**2 + y**2" --domain -14:14
  mlpfit fit "x*exp(x) - 10, exp(x), x**2" --domain 0.1:2.1 --hidden 32x5 --activation gelu
  mlpfit fit curve10
"""


def _choice_help(text: str, choices) -> str:
    return f"{text} One of: {', '.join(choices)}."


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="mlpfit", prog_name="mlpfit")
def app():
    """Teach a multilayer perceptron a function, and see what it learned.

    \b
    mlpfit fit TARGET        train; writes a run folder (model, history, summary)
    mlpfit predict RUN V...  evaluate the trained model at a point (or --input FILE.csv)
    mlpfit examples          the built-in examples
    mlpfit explain RUN       the layers, the equation of a linear net, weights, dead units
    mlpfit report RUN        redraw the plots and report.html of a run
    """


@app.command(epilog=EPILOG_FIT, context_settings={"ignore_unknown_options": False})
@click.argument("target", required=False)
@click.option("--domain", metavar="LO:HI", help="Sampling box for a formula: -1:1 for all inputs, or x1=0:1,x2=-2:2. Default -1:1.")
@click.option("--samples", type=int, metavar="N", help="Points to sample from a formula. Default 10000.")
@click.option("--target", "target_columns", metavar="COL[,COL]", help="CSV column(s) to predict. Default: the last column.")
@click.option("--features", metavar="COL[,COL]", help="CSV input columns. Default: every other column.")
@click.option("--data-dir", metavar="DIR", help="Folder of MNIST-format IDX files for mnist / fashion-mnist.")
@click.option("--task", metavar="KIND", help=_choice_help("regress or classify; default: detected from the target.", cfg.TASKS))
@click.option("--hidden", metavar="SPEC", help="Hidden layer widths: 64,64 or 32x5 (five layers of 32) or none (one Linear layer). Default 64,64; images 512,256.")
@click.option("--activation", metavar="NAME", help=_choice_help("Between layers. Default tanh; images relu.", cfg.ACTIVATIONS))
@click.option("--output-activation", metavar="NAME", default="identity", show_default=True,
              help="On the output layer; keep identity unless the targets are bounded.")
@click.option("--dropout", type=float, metavar="P", help="Share of hidden units dropped while training. Default 0.2 for images, else 0.")
@click.option("--epochs", type=int, metavar="N", help="Passes over the training data. Default: about 6000 optimizer steps; images 30.")
@click.option("--batch-size", type=int, metavar="N", help="Examples per step. Default: all up to 512, else 256.")
@click.option("--lr", type=float, metavar="X", help="Peak learning rate. Default 0.01 (adam; images 0.002), 0.1 (sgd), 1 (lbfgs).")
@click.option("--optimizer", metavar="NAME", default="adam", show_default=True, help=_choice_help("", cfg.OPTIMIZERS))
@click.option("--loss", metavar="NAME", help=_choice_help("Default mse, or cross_entropy for classes.", cfg.LOSSES))
@click.option("--schedule", metavar="NAME", default="onecycle", show_default=True, help=_choice_help("Learning-rate schedule.", cfg.SCHEDULES))
@click.option("--patience", type=int, metavar="N", help="Stop after N epochs without validation improvement. Default: a fifth of the epochs.")
@click.option("--no-scale", is_flag=True, help="Do not standardize inputs and targets (the tutorials' naive setup).")
@click.option("--seed", type=int, default=0, show_default=True, help="Fixes sampling, split, init and shuffling.")
@click.option("--device", metavar="NAME", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--threads", type=int, metavar="N", help="CPU threads. Default: 1 for small models, 2 for large work (wide nets, ensembles); pass 1 on a busy machine.")
@click.option("--engine", metavar="NAME", default="torch", show_default=True, help="torch, or numpy (hand-written backprop).")
@click.option("--out", metavar="DIR", help="Run folder. Default runs/<name>-<time>.")
@click.option("--force", is_flag=True, help="Write into an existing run folder.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots and report.html (mlpfit report RUN makes them later).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the summary) and nothing else on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
# Interrupt and resume (issue 8).
@click.option("--resume", metavar="RUN", help="Continue the fit in RUN that Ctrl-C stopped; its config is used (TARGET may be omitted).")
@click.option("--ensemble", type=int, default=1, show_default=True, metavar="K",
              help="Train K members (init seeds seed..seed+K-1) as one batched model; predict gives their mean.")
def fit(target, **options):
    """Train an MLP on TARGET and write a run folder."""
    if options.pop("resume") is not None:
        return resume(target, options)
    if target is None:
        raise UsageError("missing TARGET: give a formula, CSV file, IDX folder or example, e.g. mlpfit fit \"x**2 + y**2\"")
    config = build_fit_config(target, options)
    precheck_target(config)
    from mlpfit import pipeline
    from mlpfit.progress import progress_callbacks

    result = pipeline.fit(config, callbacks=progress_callbacks(config.run.quiet, config.run.json))
    show_fit(result, config.run)
    if any(d["severity"] == "error" for d in result.summary["diagnostics"]):
        first = next(d for d in result.summary["diagnostics"] if d["severity"] == "error")
        raise MlpfitError(f"{first['message']}: {first['hint']}")


def resume(target: str | None, options: dict) -> None:
    """``fit --resume RUN``: the checkpoint holds the config, so only --json and --quiet may be given."""
    context = click.get_current_context()
    given = [name for name in options if name not in ("as_json", "quiet")
             and context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise UsageError(f"{flag} cannot change a resumed fit (its config comes from the checkpoint): drop {flag}")
    from mlpfit import pipeline
    from mlpfit.progress import progress_callbacks

    run = context.params["resume"]
    result = pipeline.resume_fit(run, target, json=options["as_json"] or None, quiet=options["quiet"] or None,
                                 callbacks=progress_callbacks(options["quiet"], options["as_json"]))
    show_fit(result, result.config.run)


def build_fit_config(target: str, o: dict) -> cfg.FitConfig:
    data = cfg.DataConfig(
        target=target,
        domain=None if o["domain"] is None else cfg.parse_domain(o["domain"]),
        samples=o["samples"],
        target_columns=cfg.parse_columns(o["target_columns"]),
        feature_columns=cfg.parse_columns(o["features"]),
        data_dir=o["data_dir"],
        task=o["task"],
        scale=not o["no_scale"],
    )
    model = cfg.ModelConfig(
        hidden=None if o["hidden"] is None else cfg.parse_hidden(o["hidden"]),
        activation=o["activation"],
        output_activation=o["output_activation"],
        dropout=o["dropout"],
        ensemble=o.get("ensemble", 1),
    )
    train = cfg.TrainConfig(
        epochs=o["epochs"], batch_size=o["batch_size"], lr=o["lr"], optimizer=o["optimizer"], loss=o["loss"],
        schedule=o["schedule"], patience=o["patience"], seed=o["seed"], device=o["device"], threads=o["threads"],
        engine=o["engine"],
    )
    run = cfg.RunConfig(out=o["out"], json=o["as_json"], quiet=o["quiet"], force=o["force"],
                        plots=not o["no_plots"])
    return cfg.validate(cfg.FitConfig(data, model, train, run))


def precheck_target(config: cfg.FitConfig) -> None:
    """Parse a formula target now, before torch is imported, so a bad one fails instantly."""
    from mlpfit.sources import target_kind

    if target_kind(config.data.target) == "formula":
        from mlpfit.sources.formula import parse_formula

        formula = parse_formula(config.data.target)
        if config.data.domain is not None:
            from mlpfit.sources.sampling import resolve_domain

            resolve_domain(formula.inputs, config.data.domain)


def show_fit(result, run: cfg.RunConfig) -> None:
    if run.json:
        click.echo(json.dumps(result.summary, allow_nan=True))
    elif not run.quiet:
        from mlpfit.textreport import fit_report

        from mlpfit.ensemble import report_lines

        click.echo("\n".join([fit_report(result.summary), *report_lines(result.summary)]))


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
    from mlpfit.predicting import predict_rows, read_input_rows

    from mlpfit.pipeline import load_fitted

    _, fitted, summary, _ = load_fitted(run_dir, device)
    if X is None:
        X = read_input_rows(input_path, fitted.inputs)
    elif X.shape[1] != len(fitted.inputs):
        raise UsageError(
            f"the model takes {len(fitted.inputs)} input(s) ({', '.join(fitted.inputs)}), got {X.shape[1]} value(s): "
            f"e.g. mlpfit predict {run_dir} {' '.join(['1'] * len(fitted.inputs))}"
        )
    out = predict_rows(fitted, X)
    click.echo(json.dumps(out) if as_json else _format_predictions(out, fitted))


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


def _format_predictions(out: dict, fitted) -> str:
    if "classes" in out:
        return "\n".join(str(label) for label in out["labels"])
    return "\n".join(" ".join(f"{v:.6g}" for v in row) for row in out["predictions"])


@app.command()
def examples():
    """List the built-in examples, one line each."""
    from mlpfit.sources import IMAGE_EXAMPLES
    from mlpfit.sources.examples import EXAMPLES

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
    from mlpfit.report import write_report

    click.echo(write_report(run_dir))


@app.command()
@click.argument("run_dir", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def explain(run_dir, as_json):
    """Show what the model in RUN learned: layers, its equation if linear, weights, dead units.

    \b
    Examples:
      mlpfit explain runs/addition-20260101-120000
      mlpfit explain runs/my-run --json
    """
    from mlpfit.explain import explain as explain_run, format_text

    info = explain_run(run_dir)
    click.echo(json.dumps(info) if as_json else format_text(info))
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
    from mlpfit.sweeping import run as sweeping, settings, table

    if show:
        rows, task = sweeping.show(storage, study)
        return table.print_study(rows, task, f"study {study or settings.DEFAULT_STUDY}: {len(rows)} trials", options["as_json"])
    if target is None:
        raise UsageError("missing TARGET: give a formula, CSV file, IDX folder or example, e.g. mlpfit sweep curve10 --trials 20")
    plan = settings.make_plan(grid, trials, space, storage, study, workers)
    config = build_fit_config(target, {**options, "ensemble": 1})
    settings.check_base(config)
    precheck_target(config)
    loud = not (config.run.json or config.run.quiet)
    say = (lambda text: click.echo(text, err=True)) if loud else (lambda text: None)
    result = sweeping.run(config, plan, progress=say, on_trial=table.trial_printer(plan, say))
    table.print_result(result, config.run)


# The sweep takes every option of `fit` (defined once, above) except --ensemble and --resume.
sweep.params[1:1] = [p for p in fit.params if isinstance(p, click.Option) and p.name not in ("ensemble", "resume")]


# ---------------------------------------------------------------- entry point and error mapping


def main(argv=None) -> None:
    """Run the CLI; never lets a traceback reach a user who made a mistake."""
    try:
        app.main(args=argv, prog_name="mlpfit", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.NoArgsIsHelpError as err:
        click.echo(err.ctx.get_help())  # plain `mlpfit`: the help is the answer, not an error
        sys.exit(0)
    except click.ClickException as err:
        # click's own messages (unknown option, missing argument, not an int) as one line.
        _fail(f"{err.format_message()} (see mlpfit {_command_name(argv)}--help)", 2)
    except click.Abort:
        _fail("interrupted", 130)
    except MlpfitError as err:
        _fail(str(err).replace("\n", " "), err.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as err:  # a bug: say so plainly, keep the traceback for those who ask
        if os.environ.get("MLPFIT_DEBUG"):
            raise
        _fail(f"unexpected {type(err).__name__}: {err} (this is a bug; MLPFIT_DEBUG=1 shows the traceback)", 1)
    sys.exit(0)


def _command_name(argv) -> str:
    args = sys.argv[1:] if argv is None else argv
    return f"{args[0]} " if args and args[0] in app.commands else ""


def _fail(message: str, code: int) -> None:
    click.echo(f"mlpfit: error: {message}", err=True)
    sys.exit(code)
