"""What a sweep shows: its rows (from this process, or from a shared study), a table, sweep.csv, and
one line per finished trial while workers run."""

# Deferred imports: pandas, rich and click load inside the functions that print or write.

from __future__ import annotations

import json
import math
import os
import shutil

from mlpfit import atomic
from mlpfit.report.text import next_command

COLUMNS = ("#", "lr", "hidden", "activation", "batch", "epochs", "seed", "val loss", "SCORE", "best ep", "state",
           "batched")
LEFT = ("hidden", "activation", "state", "worker")
# A trial that no worker finished: the state Optuna keeps for it.
UNFINISHED = {"RUNNING": "running", "WAITING": "waiting", "FAIL": "failed"}


def study_rows(study) -> list[dict]:
    """One row per trial of the study, from every worker: the row each worker stored with its result,
    or for a trial still running, queued or whose worker died, its setting and Optuna's state."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        head = trial.user_attrs.get("row")
        if not head:
            continue  # not an mlpfit trial
        row = {**head, "trial": trial.number}
        if "val_loss" not in head or trial.state.name in ("RUNNING", "WAITING"):
            row.update(state=UNFINISHED.get(trial.state.name, trial.state.name.lower()), val_loss=math.nan,
                       val_score=math.nan, best_epoch="", batched_with="")
        retry_of = trial.system_attrs.get("failed_trial")
        if retry_of is not None:
            row["retry_of"] = retry_of
        rows.append(row)
    return rows


def study_task(study) -> str:
    return study.user_attrs.get("task", "regress")


def write_csv(path: str, rows: list[dict]) -> None:
    import pandas as pd

    atomic.write_text(path, pd.DataFrame(rows).to_csv(index=False))


def make_table(rows: list[dict], task: str, title: str):
    """A rich table of the rows, completed ones first, best first."""
    from rich.table import Table

    extra = [name for name, key in (("worker", "worker"), ("retry of", "retry_of")) if any(key in r for r in rows)]
    one_host = len({r.get("worker", "").rpartition(":")[0] for r in rows}) == 1
    grid = Table(title=title)
    for name in (*COLUMNS, *extra):
        name = name.replace("SCORE", "val acc" if task == "classify" else "val R²")
        grid.add_column(name, justify="left" if name in LEFT else "right", no_wrap=True)
    ordered = sorted(rows, key=lambda r: (r["state"] != "complete", finite(r["val_loss"])))
    for i, r in enumerate(ordered, 1):
        cells = [str(r.get("trial", i)), f"{r['lr']:.3g}", r["hidden"], r["activation"], str(r["batch_size"]),
                 str(r["epochs"]), str(r["seed"]), f"{r['val_loss']:.4g}", f"{r['val_score']:.5f}",
                 str(r["best_epoch"]), r["state"], str(r["batched_with"])]
        cells += [short_worker(r.get("worker", ""), one_host) if name == "worker" else str(r.get("retry_of", ""))
                  for name in extra]
        grid.add_row(*cells)
    return grid


def trial_line(worker: str, row: dict, done: int, total: int) -> str:
    """``w2  trial 7  lr 0.00312  16x2 tanh  val loss 0.0123  complete  (8/20)``: a worker's finished trial."""
    return (f"{worker:<4} trial {row['trial']:<4} lr {row['lr']:<9.3g} {row['hidden']:<7} {row['activation']:<8} "
            f"val loss {row['val_loss']:<10.4g} {row['state']:<9} ({done}/{total})")


def short_worker(worker: str, one_host: bool = False) -> str:
    """host:pid with the host cut to its first label (or only the pid when all ran on one host)."""
    host, _, pid = worker.rpartition(":")
    return pid if one_host or not host else f"{host.split('.')[0]}:{pid}"


def finite(value: float) -> float:
    return value if isinstance(value, (int, float)) and math.isfinite(value) else math.inf


# ---------------------------------------------------------------- printing (the CLI's side)


def trial_printer(plan, say):
    """on_trial(worker, row) for sweeping.run: one line per finished trial, counted against --trials."""
    done = 0
    alone = plan.storage is None and plan.workers == 1  # nobody to tell apart

    def on_trial(worker: str, row: dict) -> None:
        nonlocal done
        done += 1
        say(trial_line("" if alone else short_worker(worker), row, done, plan.trials or 0).lstrip())

    return on_trial


def print_result(result, run, program: str = "mlpfit") -> None:
    """The sweep's table and next step (``program``: how it names mlpfit), or its JSON object; nothing under --quiet."""
    import click

    if run.json:
        click.echo(json.dumps({"sweep": result.out, "csv": result.csv, "best": result.best, "best_run": result.best_run,
                               "rows": result.rows}, allow_nan=True))
        return
    if run.quiet:
        return
    for note in result.notes:
        click.echo(note, err=True)
    console().print(make_table(result.rows, result.task, f"sweep: {len(result.rows)} settings (best refit in {result.best_run})"))
    click.echo(f"best: {json.dumps(result.best)} → {result.best_run}\nnext: {best_next_command(result.best_run, program)}")


def best_next_command(best_run: str, program: str = "mlpfit") -> str:
    """A command that works as printed for the refit run (the fit's own rule: report/text.py)."""
    with open(os.path.join(best_run, "summary.json"), encoding="utf-8") as handle:
        return next_command({**json.load(handle), "run": best_run}, program)


def print_study(rows: list[dict], task: str, title: str, as_json: bool) -> None:
    import click

    if as_json:
        click.echo(json.dumps({"rows": rows}, allow_nan=True))
    else:
        console().print(make_table(rows, task, title))


def console():
    from rich.console import Console

    return Console(width=max(140, shutil.get_terminal_size().columns))
