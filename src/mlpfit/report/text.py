"""The plain-text report that ``mlpfit fit`` prints: what was fit, how well, what to do next."""

from __future__ import annotations

import math
import os
import shlex


def metrics_table(summary: dict) -> list[str]:
    metrics = summary["metrics"]
    if summary["task"] == "classify":
        lines = [f"  {'split':<6} {'accuracy':>9} {'loss':>9}"]
        for split in ("train", "val", "test"):
            m = metrics[split]
            lines.append(f"  {split:<6} {m['accuracy']:>9.4f} {m['loss']:>9.4f}")
        return lines
    lines = []
    for k, output in enumerate(summary["outputs"]):
        lines.append(f"  {output}")
        lines.append(f"    {'split':<6} {'R²':>9} {'MSE':>11}")
        for split in ("train", "val", "test"):
            m = metrics[split]
            lines.append(f"    {split:<6} {m['r2'][k]:>9.5f} {m['mse'][k]:>11.4g}")
    return lines


def examples(ex: dict) -> str:
    """'742 train / 82 val / 82 test', and how the members hold out their own validation rows where they do."""
    if ex.get("member_val"):
        return (f"{ex['train']} train and validation (each member validates on its own {ex['member_val']}, "
                f"{ex['val']} in all) / {ex['test']} test")
    return f"{ex.get('train')} train / {ex.get('val')} val / {ex.get('test')} test"


def how_it_ended(summary: dict) -> str:
    """Why training ended before its last epoch, if it did, for the line that counts the epochs."""
    if summary.get("settled"):
        return " (settled: validation R² reached --settle after the first of two cycles)"
    extra = summary.get("extra_cycles") or 0
    trained_on = f" (trained on {extra} more cycle(s) while validation R² still rose: --extend)" if extra else ""
    return trained_on + (" (stopped early)" if summary.get("stopped_early") else "")


def fit_report(summary: dict, report_follows: bool = False, program: str = "mlpfit") -> str:
    """``report_follows``: report.html is drawn right after this is printed (mlpfit fit prints first);
    ``program``: how the `next:` line names mlpfit (cli/program.py)."""
    arch = summary["architecture"]
    shape = "-".join(map(str, arch["sizes"]))
    act = arch["activation"] if len(arch["sizes"]) > 2 else "linear"
    if arch.get("input_units"):  # runs from before --input-units have none
        act += f" (its first {arch['sizes'][1]} units: {arch['input_units']} of each input's own)"
    ex = summary["examples"]
    inputs = _inputs_line(summary)
    if summary["task"] == "classify":
        target = f"{summary['outputs'][0]} (classification, {len(summary['classes'])} classes)"
    else:
        target = f"{', '.join(summary['outputs'])} (regression)"
    lines = [
        f"fit {summary['target']!r}: {inputs} → {target}",
        f"  model {shape} {act}, {summary['parameters']} parameters; "
        f"{examples(ex)} examples",
        f"  {summary['epochs']} epochs in {summary['seconds']:.2f} s"
        + (f", best at epoch {summary['best_epoch']}" if summary.get("best_epoch") else "")
        + how_it_ended(summary),
        *metrics_table(summary),
        *ensemble_lines(summary),
    ]
    for equation in summary.get("equations") or []:
        lines.append(f"  learned: {equation}")
    for d in summary["diagnostics"]:
        lines.append(f"  ! {d['code']}: {d['message']}\n    → {d['hint']}")
    for note in summary.get("notes", []):
        lines.append(f"  note: {note}")
    run = summary.get("run")
    if run:
        lines.append(f"run folder: {run}")
        page = os.path.join(run, "report.html")
        if report_follows or os.path.exists(page):
            lines.append(f"report: {page} (plots, metrics, diagnostics; open it in a browser)")
        lines.append(f"next: {next_command(summary, program)}")
    return "\n".join(lines)


def ensemble_lines(summary: dict) -> list[str]:
    """The spread of an ensemble's member scores (the table above scores the mean prediction)."""
    members = summary.get("members") or []
    if not members or not all(m["metrics"].get("test") for m in members):
        return []
    if summary["task"] == "classify":
        scores, label = [m["metrics"]["test"]["accuracy"] for m in members], "test accuracy"
    else:
        scores, label = [min(m["metrics"]["test"]["r2"]) for m in members], "test R² (worst output)"
    return [f"  ensemble of {len(members)} members (mean prediction above); member {label}: "
            f"mean {sum(scores) / len(scores):.5f}, worst {min(scores):.5f}, best {max(scores):.5f}"]


def _inputs_line(summary: dict) -> str:
    """'3 input(s) [a, b, c]', or for a table whose text became several inputs '3 column(s) [...] as 7 inputs'."""
    columns = (summary.get("table") or {}).get("columns") or summary["inputs"]
    listed = f"[{', '.join(columns[:6])}{' …' if len(columns) > 6 else ''}]"
    if len(columns) != len(summary["inputs"]):
        return f"{len(columns)} column(s) {listed} as {len(summary['inputs'])} inputs"
    return f"{len(columns)} input(s) {listed}"


def next_command(summary: dict, program: str = "mlpfit") -> str:
    """A command that works as printed: predict on the fit's own CSV file, at a point inside a formula's
    domain, or (images, whose pixels nobody types) explain."""
    run, target = shlex.quote(summary["run"]), summary.get("target") or ""
    if summary.get("table") is not None:
        source = shlex.quote(target) if target.lower().endswith(".csv") else "FILE.csv"
        return f"{program} predict {run} --input {source}"
    if summary.get("image_shape"):
        return f"{program} explain {run}"
    domain = summary.get("domain") or {}
    values = [sample_value(*domain[name], k) if name in domain else "1" for k, name in enumerate(summary["inputs"])]
    return f"{program} predict {run} {' '.join(values)}"


def sample_value(lo: float, hi: float, k: int) -> str:
    """A short number inside [lo, hi] for input k, off the middle and further up for each input: at the
    middle of a symmetric box many functions sit at a value that tells little (x² + y² at 0 0), while
    x² + y² on [-14, 14] at 3 4 shows the 25 it learned."""
    width = hi - lo
    if not (width / 10 > 0 and math.isfinite(width)):  # one point, or a width no float's log can take
        return _short(lo)
    digits = math.floor(math.log10(width / 10))  # round to one significant digit of a tenth of the width
    point = lo + width * (0.6 + 0.05 * (k % 7))  # 60% to 90% of the way up
    return _short(min(max(round(point, -digits), lo), hi))


def _short(value: float) -> str:
    """The shortest text that reads back as exactly this float (3.0 as '3')."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
