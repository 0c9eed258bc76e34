"""``report.html``: one self-contained page per run (images inline, CSS inline, no network).

The page is built from the run folder alone, so ``mlpfit report RUN`` in a fresh process gives
the same page as the fit did. Plots and the page are derived files: they are rewritten freely
(without an fsync: the run can always draw them again) and then registered in the manifest's
``derived`` section, so damage to them shows as damage to any other file does. Everything drawing needs is imported with this module, so a report
drawer made ready ahead (report.ahead) has nothing left to import once the run arrives.
"""

from __future__ import annotations

import base64
import html
import json
import os

from mlpfit import atomic
from mlpfit.network import equation
from mlpfit.report import figures
from mlpfit.report.plots import run_name
from mlpfit.report.text import examples, how_it_ended
from mlpfit.runfolder import store as runs
from mlpfit.runfolder.run import checked_network
from mlpfit.runfolder.validate import content_errors
from mlpfit.train.history import History

REPORT_FILE = "report.html"

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; word-break: break-word; }
h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: .25em .8em; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #666; font-size: .9em; }
.diag { border-left: 4px solid #dd8452; padding: .3em .8em; margin: .5em 0; background: #fdf6f0; }
.diag.error { border-color: #c44e52; background: #fbeeee; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; }
.eq { font-family: ui-monospace, Menlo, Consolas, monospace; }
"""

# Caption per plot file, in the order the page shows them.
PLOT_CAPTIONS = {
    "fit.png": "What the network learned against the data (and the truth, when the target is a formula).",
    "images.png": "Test images with the predicted label; mistakes first, in red, with the true label.",
    "confusion.png": "Test examples by true class (rows) and predicted class (columns).",
    "units.png": "What each hidden unit computes over the input box, layer by layer; the frame shows the size "
                 "(thickness) and, into a single output, the sign (red +, blue −) of the unit's outgoing weights.",
    "sensitivity.png": "Which input columns matter: how far the predictions move when a column is shuffled among "
                       "held-out rows (a text column's levels and a date's parts together), and how the prediction "
                       "moves with each of the top columns when the others keep their sampled values.",
    "loss.png": "Training and validation loss per epoch; the dashed line marks the epoch whose weights were kept.",
}


def _esc(value) -> str:
    return html.escape(str(value))


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return _esc(value)


def _r2(value) -> str:
    """R² with fixed decimals: 0.999994 must not print as "1"."""
    return "—" if value is None else f"{value:.6f}"


def _image(path: str) -> str:
    data = base64.b64encode(open(path, "rb").read()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_esc(os.path.basename(path))}">'


def facts_section(summary: dict, equations: list[str] | None) -> str:
    arch = summary.get("architecture", {})
    ex = summary.get("examples", {})
    rows = [
        ("inputs", ", ".join(summary.get("inputs", [])[:12]) + (" …" if len(summary.get("inputs", [])) > 12 else "")),
        ("outputs", ", ".join(map(str, summary.get("outputs", [])))),
        ("task", summary.get("task")),
        ("network", f"{'-'.join(map(str, arch.get('sizes', [])))} {arch.get('activation', '')}, "
                    f"output {arch.get('output_activation', '')}, {summary.get('parameters')} parameters"),
        ("examples", examples(ex)),
        ("training", f"{summary.get('epochs')} epochs in {summary.get('seconds', 0):.2f} s"
                     + (f", weights of epoch {summary['best_epoch']} kept" if summary.get("best_epoch") else "")
                     + how_it_ended(summary)),
        ("device", f"{summary.get('device')}, {summary.get('threads')} thread(s)"),
        ("created", f"{summary.get('created')} by mlpfit {summary.get('mlpfit')}"),
    ]
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    eq = "".join(f'<p class="eq">{_esc(e)}</p>' for e in equations or [])
    return f"<table>{body}</table>" + (f"<h2>Learned equation</h2>{eq}" if eq else "")


def metrics_section(summary: dict) -> str:
    metrics = summary.get("metrics", {})
    splits = [s for s in ("train", "val", "test") if s in metrics]
    if summary.get("task") == "classify":
        head = "<tr><th>split</th><th>accuracy</th><th>loss</th><th>examples</th></tr>"
        body = "".join(f"<tr><td>{s}</td><td class=num>{_number(metrics[s].get('accuracy'))}</td>"
                       f"<td class=num>{_number(metrics[s].get('loss'))}</td>"
                       f"<td class=num>{_number(metrics[s].get('n'))}</td></tr>" for s in splits)
        return f"<table>{head}{body}</table>" + per_class_table(summary)
    head = "<tr><th>output</th><th>split</th><th>R²</th><th>MSE</th></tr>"
    body = ""
    for k, output in enumerate(summary.get("outputs", [])):
        for s in splits:
            m = metrics[s]
            body += (f"<tr><td>{_esc(output) if s == splits[0] else ''}</td><td>{s}</td>"
                     f"<td class=num>{_r2(m['r2'][k])}</td><td class=num>{_number(m['mse'][k])}</td></tr>")
    return f"<table>{head}{body}</table>"


def per_class_table(summary: dict, limit: int = 30) -> str:
    """Test precision and recall per class: which classes the net confuses (short class lists only)."""
    test, classes = summary.get("metrics", {}).get("test", {}), summary.get("classes") or []
    if not classes or len(classes) > limit or "precision" not in test:
        return ""
    rows = "".join(f"<tr><td>{_esc(c)}</td><td class=num>{_number(p)}</td><td class=num>{_number(r)}</td></tr>"
                   for c, p, r in zip(classes, test["precision"], test["recall"]))
    return f"<h3>Per class (test)</h3><table><tr><th>class</th><th>precision</th><th>recall</th></tr>{rows}</table>"


def diagnostics_section(summary: dict) -> str:
    items = summary.get("diagnostics", [])
    if not items:
        return "<p>No pitfall found.</p>"
    return "".join(f'<div class="diag {_esc(d.get("severity", "warning"))}"><b>{_esc(d["code"])}</b>: '
                   f"{_esc(d['message'])}<br>→ {_esc(d['hint'])}</div>" for d in items)


def config_section(config: dict) -> str:
    rows = ""
    for section, values in config.items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            rows += f"<tr><th>{_esc(section)}.{_esc(key)}</th><td><code>{_esc(json.dumps(value))}</code></td></tr>"
    return f"<table>{rows}</table>"


def plots_section(plot_paths: list[str]) -> str:
    by_name = {os.path.basename(p): p for p in plot_paths}
    names = [n for n in PLOT_CAPTIONS if n in by_name] + [n for n in by_name if n not in PLOT_CAPTIONS]
    return "".join(f"<figure>{_image(by_name[n])}<figcaption>{_esc(PLOT_CAPTIONS.get(n, n))}</figcaption></figure>"
                   for n in names)


def render(summary: dict, config: dict, plot_paths: list[str], equations: list[str] | None = None) -> str:
    """The whole page as a string."""
    notes = "".join(f"<li>{_esc(n)}</li>" for n in summary.get("notes", []))
    run = summary.get("run") or ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlpfit: {_esc(run_name(summary))}</title>
<style>{CSS}</style></head>
<body>
<h1>{_esc(run_name(summary))}</h1>
<p class="sub">mlpfit run <code>{_esc(run)}</code></p>
{facts_section(summary, equations)}
<h2>Scores</h2>
{metrics_section(summary)}
<h2>Diagnostics</h2>
{diagnostics_section(summary)}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Plots</h2>
{plots_section(plot_paths)}
<h2>Configuration</h2>
{config_section(config)}
</body></html>
"""


def write_report(run_dir: str) -> str:
    """Redraw the plots and report.html of a run folder from its files; returns the page's path."""
    files = runs.read(run_dir, check_derived=False)  # damaged plots are what this redraws
    with content_errors(run_dir):  # an edited summary or sample file: one line, as predict says it
        fitted, summary = checked_network(files), files.summary
        history = History.from_csv(files.history_csv, summary.get("history"))
        equations = equation.equations(fitted)
        samples = None if files.samples is None else dict(files.samples)
        paths = figures.write_all(run_dir, summary, history, fitted, samples, equations)
        page = render(summary, files.config, paths, equations)
    path = os.path.join(run_dir, REPORT_FILE)
    atomic.write_text(path, page, derived=True)  # `mlpfit report` writes it again
    runs.register_derived(run_dir, [os.path.basename(p) for p in paths] + [REPORT_FILE])
    return path
