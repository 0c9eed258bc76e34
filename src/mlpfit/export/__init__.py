"""``mlpfit export``: a run as one ONNX graph, or as one .py file that needs only NumPy.

Both take inputs in original units and give what ``mlpfit predict`` gives; both are run on fresh
points and compared with mlpfit's own predictions before they are kept (see :mod:`.check`).
The default file is ``model.onnx`` / ``model.py`` inside the run folder, beside the weights it
came from. This module stays light (no torch, no onnx): the format and ``--out`` are checked
before anything heavy is imported, so a mistake is answered at once.
"""

from __future__ import annotations

from mlpfit.export.destination import FORMATS, check_format, resolve
from mlpfit.export.write import export_model, export_run_folder

__all__ = ["FORMATS", "describe", "export_fitted", "export_run"]


def export_run(run_dir: str, fmt: str, out: str | None = None, force: bool = False) -> dict:
    """Export the run folder ``run_dir`` as ``fmt`` (onnx or python) to ``out``; returns what was written."""
    check_format(fmt)
    resolve(run_dir, fmt, out)  # a bad --out is refused before the run is read

    return export_run_folder(run_dir, fmt, out, force)


def export_fitted(fitted, summary: dict, fmt: str, out, force: bool = False, samples: dict | None = None) -> dict:
    """Export a model in memory (``Result.export``); ``samples`` give a CSV run's input ranges."""
    check_format(fmt)
    resolve(None, fmt, out)

    return export_model(fitted, summary, fmt, out, force, samples=samples)


def describe(result: dict) -> str:
    """What ``mlpfit export`` prints: the files, the tensors or functions, and the check."""
    kb = f"{result['bytes'] / 1024:.1f} KB"
    inputs = result["inputs"]
    names = ", ".join(map(str, inputs[:6])) + (f", ... ({len(inputs)} in all)" if len(inputs) > 6 else "")
    lines = [f"wrote {' and '.join(result['files'])} ({kb})"]
    if result["format"] == "onnx":
        if result.get("column_inputs"):
            lines += [f"  input   {line}" for line in result["column_inputs"]]
        else:
            lines.append(f"  input   X float64 [batch, {len(inputs)}]: {names}")
        lines += [f"  output  {name}" for name in result["tensors"]]
    else:
        if result.get("columns"):
            columns = ", ".join(result["columns"][:6]) + (", ..." if len(result["columns"]) > 6 else "")
            lines.append(f"  needs only NumPy; predict(rows) takes the table's raw rows (columns {columns}), "
                         f"or rows of the {len(inputs)} encoded inputs")
        else:
            lines.append(f"  needs only NumPy; predict(X) takes rows of {len(inputs)} values: {names}")
        lines.append(f"  functions: {', '.join(result['functions'])}")
    lines.append(f"  checked: agrees with mlpfit predict on {result['checked_points']} fresh points "
                 f"(largest difference {result['max_error']:.1e} of each column's scale)")
    return "\n".join(lines)
