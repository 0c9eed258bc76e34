"""``mlpfit explain RUN``: what the trained network is, read back from its run folder.

The layers as a table; for a linear model its equation in original units (seed 000's weights
[1, 1]); otherwise per-layer weight statistics and, for activations that can switch a unit off,
how many hidden units never switch on over the run's stored training sample. For every run with a
stored sample, the inputs' sensitivities (report.sensitivity); with ``symbolic``, a short formula
when one fits (report.symbolic).
"""

from __future__ import annotations

import numpy as np

from mlpfit.network.equation import coefficient_spread, equations, is_linear
from mlpfit.report.importance import importance
from mlpfit.report.sensitivity import sensitivities
from mlpfit.report.symbolic import format_text as symbolic_text
from mlpfit.report.symbolic import search
from mlpfit.runfolder import store as runs
from mlpfit.runfolder.run import checked_network
from mlpfit.runfolder.validate import content_errors
from mlpfit.scratch.network import forward

# Per activation, when a hidden unit is useless on every stored input: (what it is called, test
# on the pre-activations z of one unit over all rows). ReLU units with z <= 0 everywhere pass no
# gradient (dead); tanh/sigmoid units with |z| > 3 everywhere have slope < 0.05 (saturated).
INACTIVE_RULES = {
    "relu": ("dead", "z <= 0 on every sample", lambda z: (z <= 0).all(axis=0)),
    "leaky_relu": ("dead", "z <= 0 on every sample (slope 0.01 only)", lambda z: (z <= 0).all(axis=0)),
    "tanh": ("saturated", "|z| > 3 on every sample", lambda z: (np.abs(z) > 3).all(axis=0)),
    "sigmoid": ("saturated", "|z| > 5 on every sample", lambda z: (np.abs(z) > 5).all(axis=0)),
}


def explain(path: str, symbolic: bool = False) -> dict:
    """Everything ``explain`` shows, as plain data (the --json object); an edited run folder is one RunFolderError."""
    with content_errors(path):
        return explain_files(runs.read(path), symbolic)


def explain_files(files, symbolic: bool = False) -> dict:
    """``explain`` of a run folder's files (runfolder.store.read)."""
    path, summary = files.path, files.summary
    fitted = checked_network(files)
    samples = dict(files.samples) if files.samples else None
    # An ensemble's weights and units are shown for its first member (the equation is the mean's).
    params = {k: np.asarray(v, dtype=np.float64) for k, v in fitted.member(0).state_arrays().items()}
    linear = is_linear(fitted.sizes, fitted.activation, fitted.output_activation)
    eqs = equations(fitted) if linear else None  # None for a linear classifier: its logits are no equation
    result = {
        "run": path,
        "members": fitted.members,
        "coefficient_spread": coefficient_spread(fitted) if eqs else None,
        "inputs": fitted.inputs,
        "outputs": fitted.outputs,
        "layers": layer_table(fitted.sizes, fitted.activation, fitted.output_activation),
        "parameters": fitted.parameter_count,
        "linear": linear,
        "equations": eqs,
        "weights": None if eqs else weight_stats(params),
        "inactive_units": None,
        "sensitivity": sensitivities(fitted, samples),  # {output: {input: mean |∂y/∂x|}}, original units
        "importance": importance(fitted, samples),  # {output: {column: how far shuffling it moves the output}}
        "diagnostics": shown_diagnostics(summary.get("diagnostics")),
    }
    if symbolic:
        result.update(search(fitted, summary, samples))
    if not linear and fitted.activation in INACTIVE_RULES and samples and "train_X" in samples:
        X = fitted.x_scaler.transform(np.asarray(samples["train_X"], dtype=np.float64))
        result["inactive_units"] = inactive_units(params, X, fitted.activation, fitted.output_activation)
    return result


def shown_diagnostics(items) -> list[dict]:
    """The diagnostics summary.json records, each with the code, message and hint format_text prints."""
    items = items if isinstance(items, list) else []
    return [d for d in items if isinstance(d, dict) and all(isinstance(d.get(k), str) for k in ("code", "message", "hint"))]


def layer_table(sizes: list[int], activation: str, output_activation: str) -> list[dict]:
    """One row per Linear layer: its sizes, the activation after it, and its parameter count."""
    last = len(sizes) - 2
    return [
        {"layer": i, "in": a, "out": b, "activation": output_activation if i == last else activation,
         "parameters": a * b + b}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))
    ]


def weight_stats(params: dict) -> list[dict]:
    """Mean, std, min, max and L2 norm of every weight matrix and bias vector."""
    return [
        {"name": name, "shape": list(v.shape), "mean": float(v.mean()), "std": float(v.std()),
         "min": float(v.min()), "max": float(v.max()), "norm": float(np.linalg.norm(v))}
        for name, v in params.items()
    ]


def inactive_units(params: dict, X: np.ndarray, activation: str, output_activation: str) -> list[dict]:
    """Per hidden layer, the units that are off (dead or saturated) on every row of X (scaled)."""
    kind, rule, test = INACTIVE_RULES[activation]
    _, cache = forward(params, X, activation, output_activation)
    rows = []
    for i, z in enumerate(cache["pre_activations"][:-1]):  # the last layer is the output, not hidden
        off = np.flatnonzero(test(z))
        rows.append({"layer": i, "units": int(z.shape[1]), kind: int(len(off)), "which": off.tolist(),
                     "kind": kind, "rule": rule, "samples": int(len(X))})
    return rows


def format_text(info: dict) -> str:
    """The human-readable explanation."""
    inputs = ", ".join(info["inputs"][:6]) + (f" … ({len(info['inputs'])} inputs)" if len(info["inputs"]) > 6 else "")
    lines = [f"run {info['run']}: {inputs} → {', '.join(info['outputs'])}",
             f"  {'layer':<6}{'in':>6}{'out':>6}  {'activation':<12}{'parameters':>11}"]
    for row in info["layers"]:
        lines.append(f"  {row['layer']:<6}{row['in']:>6}{row['out']:>6}  "
                     f"{row['activation']:<12}{row['parameters']:>11}")
    lines.append(f"  {'total':<32}{info['parameters']:>11}")
    if info["equations"]:
        lines.append("the network is linear, so it is this equation (original units):")
        lines += [f"  {eq}" for eq in info["equations"]]
    if info["weights"]:
        lines.append(f"  {'weights':<16}{'mean':>9}{'std':>9}{'min':>9}{'max':>9}{'norm':>9}")
        for w in info["weights"]:
            lines.append(f"  {w['name']:<16}" + "".join(f"{w[k]:>9.3g}" for k in ("mean", "std", "min", "max", "norm")))
    for row in info["inactive_units"] or []:
        lines.append(f"  layer {row['layer']}: {row[row['kind']]} of {row['units']} units {row['kind']} "
                     f"({row['rule']}, {row['samples']} training samples)")
    lines += ranked_lines(IMPORTANCE_TITLE, info.get("importance"))
    lines += ranked_lines(SENSITIVITY_TITLE, info.get("sensitivity"))
    if "symbolic" in info:
        lines.append(symbolic_text(info))
    for d in info["diagnostics"]:
        lines.append(f"  ! {d['code']}: {d['message']}\n    → {d['hint']}")
    return "\n".join(lines)


IMPORTANCE_TITLE = "importance, how far shuffling a column moves the output over held-out rows (larger = matters more):"
SENSITIVITY_TITLE = "sensitivity, mean |∂output/∂input| over the stored sample (original units):"


def ranked_lines(title: str, values_by_output: dict | None, limit: int = 8) -> list[str]:
    """Per output, its largest values first under ``title``: ``price: area 1.2e+05, district 2e+04``."""
    if not values_by_output:
        return []
    lines = [title]
    for output, values in values_by_output.items():
        ranked = sorted(values.items(), key=lambda item: -item[1])
        more = f", … ({len(ranked) - limit} more)" if len(ranked) > limit else ""
        lines.append(f"  {output}: " + ", ".join(f"{name} {v:.3g}" for name, v in ranked[:limit]) + more)
    return lines
