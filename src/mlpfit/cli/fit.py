"""``mlpfit fit``: options → FitConfig → :func:`mlpfit.fitting.pipeline.fit` → printed summary."""

from __future__ import annotations

import json
import warnings

import click

from mlpfit.cli.app import app, choice_help
from mlpfit.config import schema as cfg
from mlpfit.errors import MlpfitError, MlpfitWarning, UsageError

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


@app.command(epilog=EPILOG_FIT, context_settings={"ignore_unknown_options": False})
@click.argument("target", required=False)
@click.option("--domain", metavar="LO:HI", help="Sampling box for a formula: -1:1 for all inputs, or x1=0:1,x2=-2:2. Default -1:1.")
@click.option("--samples", type=int, metavar="N", help="Points to sample from a formula. Default 10000.")
@click.option("--target", "target_columns", metavar="COL[,COL]", help="CSV column(s) to predict. Default: the last column.")
@click.option("--features", metavar="COL[,COL]", help="CSV input columns. Default: every other column.")
@click.option("--drop", metavar="COL[,COL]", help="CSV columns to leave out of the inputs (row ids are left out by themselves).")
@click.option("--no-impute", is_flag=True, help="Refuse missing CSV inputs instead of filling them (median / most frequent, plus a marker input).")
@click.option("--data-dir", metavar="DIR", help="Folder of MNIST-format IDX files for mnist / fashion-mnist.")
@click.option("--task", metavar="KIND", help=choice_help("regress or classify; default: detected from the target.", cfg.TASKS))
@click.option("--hidden", metavar="SPEC", help="Hidden layer widths: 64,64 or 32x5 (five layers of 32) or none (one Linear layer). Default 64,64; images 512,256.")
@click.option("--activation", metavar="NAME", help=choice_help("Between layers. Default tanh; images relu.", cfg.ACTIVATIONS))
@click.option("--output-activation", metavar="NAME", default="identity", show_default=True,
              help="On the output layer; keep identity unless the targets are bounded.")
@click.option("--dropout", type=float, metavar="P", help="Share of hidden units dropped while training. Default 0.2 for images, else 0.")
@click.option("--epochs", type=int, metavar="N", help="Passes over the training data. Default: about 6000 optimizer steps; images 30.")
@click.option("--batch-size", type=int, metavar="N", help="Examples per step. Default: all up to 512, else 256.")
@click.option("--lr", type=float, metavar="X", help="Peak learning rate. Default 0.01 (adam; images 0.002), 0.1 (sgd), 1 (lbfgs).")
@click.option("--optimizer", metavar="NAME", default="adam", show_default=True, help=choice_help("", cfg.OPTIMIZERS))
@click.option("--loss", metavar="NAME", help=choice_help("Default mse, or cross_entropy for classes.", cfg.LOSSES))
@click.option("--schedule", metavar="NAME", default="onecycle", show_default=True, help=choice_help("Learning-rate schedule.", cfg.SCHEDULES))
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
    if config.run.quiet:  # "nothing but errors"
        warnings.simplefilter("ignore", MlpfitWarning)
    precheck_target(config)
    from mlpfit.fitting import pipeline
    from mlpfit.cli.progress import progress_callbacks

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
    from mlpfit.fitting import pipeline
    from mlpfit.cli.progress import progress_callbacks

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
        drop=cfg.parse_columns(o["drop"]),
        impute=not o["no_impute"],
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
    """Parse a formula target now, before torch is imported, so a bad one fails instantly; refuse
    (or warn about) options that do not apply to this kind of target."""
    from mlpfit.data.sources import target_kind
    from mlpfit.data.sources.applicable import check_applicable

    check_applicable(config.data)
    if target_kind(config.data.target) == "formula":
        from mlpfit.data.sources.formula import parse_formula

        formula = parse_formula(config.data.target)
        if config.data.domain is not None:
            from mlpfit.data.sources.sampling import resolve_domain

            resolve_domain(formula.inputs, config.data.domain)


def show_fit(result, run: cfg.RunConfig) -> None:
    if run.json:
        click.echo(json.dumps(result.summary, allow_nan=True))
    elif not run.quiet:
        from mlpfit.report.text import fit_report

        from mlpfit.fitting.ensemble import report_lines

        click.echo("\n".join([fit_report(result.summary), *report_lines(result.summary)]))
