"""``mlpfit fit``: options → FitConfig → :func:`mlpfit.fitting.fit.fit` → printed summary."""

# Deferred imports: the library (NumPy, pandas, the fit, the report) loads inside the command when it runs, so
# `mlpfit --help` and a mistyped option answer at once.

from __future__ import annotations

import json
import warnings

import click

from mlpfit.cli.app import app
from mlpfit.cli.program import invoked_as
from mlpfit.config import schema as cfg
from mlpfit.config.from_options import help_text, to_config
from mlpfit.config.options import BY_KEY, OPTIONS
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


def table_options(command):
    """Add every option of config/options.py's table to ``command`` (the same table makes the API's keywords)."""
    for option in reversed(OPTIONS):
        text = help_text(option)
        if option.kind in ("flag", "off"):  # a flag sets the config's value: True (--force), False (--no-scale)
            decorator = click.option(option.cli_flag, option.key, flag_value=option.kind == "flag", default=None,
                                     help=text)
        else:
            kind = {"int": int, "float": float}.get(option.kind, str)
            decorator = click.option(option.cli_flag, option.key, type=kind, metavar=option.metavar, help=text)
        command = decorator(command)
    return command


@app.command(epilog=EPILOG_FIT, context_settings={"ignore_unknown_options": False})
@click.argument("target", required=False)
@table_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the summary) and nothing else on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--resume", metavar="RUN", help="Continue the fit in RUN that Ctrl-C stopped; its config is used (TARGET may be omitted).")
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
    from mlpfit.data.sources import target_kind
    from mlpfit.report.ahead import report_ahead

    # The report's drawer is forked now, before the fit's own imports and its data: matplotlib (0.4 s)
    # loads beside them, so it is ready when a small fit's training ends (0.5 s later).
    with report_ahead(config.run.plots, table=target_kind(config.data.target) == "csv") as ahead:
        from mlpfit.cli.progress import progress_callbacks
        from mlpfit.fitting.fit import fit as run_fit

        result = run_fit(config, callbacks=progress_callbacks(config.run.quiet, config.run.json),
                         on_saved=lambda done: show_fit(done, config.run), ahead=ahead)  # the numbers, then the pictures
    if any(d["severity"] == "error" for d in result.summary["diagnostics"]):
        first = next(d for d in result.summary["diagnostics"] if d["severity"] == "error")
        raise MlpfitError(f"{first['message']}: {first['hint']}")


def resume(target: str | None, options: dict) -> None:
    """``fit --resume RUN``: the checkpoint holds the config, so only --json and --quiet may be given."""
    context = click.get_current_context()
    given = [name for name in options if name not in ("as_json", "quiet")
             and context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
    if given:
        flag = BY_KEY[given[0]].cli_flag if given[0] in BY_KEY else "--" + given[0].replace("_", "-")
        raise UsageError(f"{flag} cannot change a resumed fit (its config comes from the checkpoint): drop {flag}")
    from mlpfit.cli.progress import progress_callbacks
    from mlpfit.fitting.fit import resume_fit

    run = context.params["resume"]
    resume_fit(run, target, json=options["as_json"] or None, quiet=options["quiet"] or None,
               callbacks=progress_callbacks(options["quiet"], options["as_json"]),
               on_saved=lambda done: show_fit(done, done.config.run))


def build_fit_config(target: str, o: dict) -> cfg.FitConfig:
    """The command line's values as a validated FitConfig (the table of options does the work)."""
    config = to_config(target, {key: value for key, value in o.items() if key in BY_KEY})
    config.run.json, config.run.quiet = bool(o.get("as_json")), bool(o.get("quiet"))
    return config


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

        click.echo(fit_report(result.summary, report_follows=run.plots, program=invoked_as()))
