"""The front of a table run's ONNX graph: one named input per column, encoded inside the graph.

- a number column: float64 ``[batch, 1]``; NaN is a missing value (filled as in training, and marked);
  then squashed as in training (``raw_rows.squashed``), and cut into its bins' inputs where it has them
  (``raw_rows.binned``);
- a text column: string ``[batch, 1]``; ``""`` is a missing value. One-hot levels and many-level codes
  both go through ``ai.onnx.ml.OneHotEncoder`` (levels plus ``""``; an unseen text gives all zeros),
  then one constant matrix maps that to the network's inputs: each level's own input (one-hot) or
  its code (target encoding), the fill for ``""``, the missing marker; an unseen level gets the
  overall mean code;
- a date column cannot be parsed inside ONNX, so it takes its numbers: float64 ``[batch, parts]``,
  days since the encoding's origin, then year, month and weekday (0 = Monday) as the parts list says;
  NaN days is a missing date. The input's doc string and the model's metadata say so.
"""

from __future__ import annotations

import datetime

import numpy as np

from mlpfit.data.sources.raw_rows import SQUASH_BOUND, date_numbers, encode_rows, is_missing, level_text, table_columns

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 3
MISSING_TEXT = ""


def input_doc(column: dict) -> str:
    kind = column["kind"]
    if kind == "number":
        return f"{column['name']}: a number (NaN = missing)"
    if kind == "date":
        return (f"{column['name']}: a date as {len(column['parts'])} numbers: "
                + ", ".join(_part_doc(part, column["origin"]) for part in column["parts"]) + " (NaN days = missing)")
    return f"{column['name']}: text, one of the training levels ('' = missing; another text = unseen)"


def _part_doc(part: str, origin: str) -> str:
    return {"days": f"days since {origin}", "year": "year", "month": "month 1-12",
            "weekday": "weekday 0-6 (Monday 0)"}[part]


def table_front(g, encoding: dict) -> tuple[list, str]:
    """(the graph's inputs, the name of the encoded matrix X [batch, inputs] float64)."""
    T = g.onnx.TensorProto
    inputs, parts = [], []
    for column in encoding["columns"]:
        name = g.fresh(column["name"])
        kind = column["kind"]
        if kind in ("number", "date"):
            width = 1 if kind == "number" else len(column["parts"])
            inputs.append(g.onnx.helper.make_tensor_value_info(name, T.DOUBLE, ["batch", width], doc_string=input_doc(column)))
            parts += _numbers(g, name, column, _fill_values(column))
        else:
            inputs.append(g.onnx.helper.make_tensor_value_info(name, T.STRING, ["batch", 1], doc_string=input_doc(column)))
            parts.append(_texts(g, name, column))
    x = g.op("Concat", *parts, axis=1, out="X") if len(parts) > 1 else g.op("Identity", parts[0], out="X")
    return inputs, x


def _squashed(g, value: str, column: dict) -> str:
    """raw_rows.squashed inside the graph: z / sqrt(1 + (z / bound)²) of z = (x - center) / spread."""
    if column.get("center") is None:
        return value
    name = column["name"]
    z = g.op("Div", g.op("Sub", value, g.const(f"{name}_center", [[column["center"]]], np.float64)),
             g.const(f"{name}_spread", [[column["spread"]]], np.float64))
    bounded = g.op("Div", z, g.const("squash_bound", [[SQUASH_BOUND]], np.float64))
    one = g.const("one_f64", [[1.0]], np.float64)
    return g.op("Div", z, g.op("Sqrt", g.op("Add", one, g.op("Mul", bounded, bounded))))


def _binned(g, value: str, column: dict) -> list[str]:
    """raw_rows.binned inside the graph: min(max((x - lower edges) / widths, 0), 1), [batch, bins]."""
    edges = np.asarray(column.get("edges") or [], dtype=np.float64)
    if len(edges) < 2:
        return []
    name = column["name"]
    scaled = g.op("Div", g.op("Sub", value, g.const(f"{name}_bin_starts", [edges[:-1]], np.float64)),
                  g.const(f"{name}_bin_widths", [np.diff(edges)], np.float64))
    return [g.op("Min", g.op("Max", scaled, g.const("zero_f64", [[0.0]], np.float64)), g.const("one_f64", [[1.0]], np.float64))]


def _fill_values(column: dict) -> list[float] | None:
    if column["fill"] is None:
        return None
    if column["kind"] == "number":
        return [float(column["fill"])]
    return date_numbers(datetime.datetime.fromisoformat(column["fill"]), column)


def _numbers(g, name: str, column: dict, fill: list[float] | None) -> list[str]:
    if fill is None:
        return [_squashed(g, name, column), *_binned(g, name, column)]
    first = g.op("Slice", name, g.const("zero", [0], np.int64), g.const("one", [1], np.int64),
                 g.const("axis1", [1], np.int64)) if len(fill) > 1 else name
    holes = g.op("IsNaN", first)  # a missing row: NaN in its (first) number
    filled = g.op("Where", holes, g.const(f"{column['name']}_fill", [fill], np.float64), name)
    out = [_squashed(g, filled, column), *_binned(g, filled, column)]
    if column["indicator"]:
        out.append(g.op("Cast", holes, to=g.onnx.TensorProto.DOUBLE))
    return out


def _texts(g, name: str, column: dict) -> str:
    """OneHotEncoder over the levels and '' -> [batch, L+1], then one matrix to the column's inputs."""
    levels = column["levels"] if column["kind"] == "category" else list(column["codes"])
    onehot = g.op("OneHotEncoder", name, domain=ML_DOMAIN, cats_strings=[*levels, MISSING_TEXT], zeros=1)
    flat = g.op("Cast", g.op("Reshape", onehot, g.const("shape", [-1, len(levels) + 1], np.int64)),
                to=g.onnx.TensorProto.DOUBLE)
    matrix, unseen = _mapping(column, levels)
    out = g.op("MatMul", flat, g.const(f"{column['name']}_map", matrix, np.float64))
    if unseen is not None:  # a text none of the levels: the overall mean code
        none = g.op("Sub", g.scalar(1.0, np.float64), g.op("ReduceSum", flat, g.const("axis1", [1], np.int64),
                                                               keepdims=1))
        out = g.op("Add", out, g.op("Mul", none, g.const(f"{column['name']}_unseen", [unseen], np.float64)))
    return out


def _mapping(column: dict, levels: list[str]) -> tuple[np.ndarray, list[float] | None]:
    """[L+1 (levels, then ''), inputs of the column], and the unseen level's row (target codes only)."""
    fill = column["fill"]
    if column["kind"] == "category":
        own = np.vstack([np.eye(len(levels)), np.eye(len(levels))[levels.index(fill)] if fill is not None
                         else np.zeros(len(levels))])
        unseen = None
    else:
        codes = [column["codes"][level] for level in levels]
        missing = column["codes"][fill] if fill is not None else column["default"]
        own, unseen = np.array([*codes, missing], dtype=np.float64), list(column["default"])
    if column["indicator"]:
        marker = np.zeros((len(levels) + 1, 1))
        marker[-1] = 1.0
        own = np.hstack([own, marker])
        if unseen is not None:
            unseen = [*unseen, 0.0]
    return own, unseen


def feeds(encoding: dict, rows) -> dict[str, np.ndarray]:
    """The graph's inputs for raw rows (as ``encode_rows`` takes them): numbers, texts, date parts."""
    columns = table_columns(rows)
    out = {}
    for column in encoding["columns"]:
        values, kind = columns[column["name"]], column["kind"]
        if kind == "date":
            single = {"columns": [{**column, "indicator": False}], "marks": encoding.get("marks")}
            parts = encode_rows({column["name"]: values}, single)
            holes = np.array([is_missing(v) for v in values])
            parts[holes, 0] = np.nan
            out[column["name"]] = parts
        elif kind == "number":
            # the graph squashes and bins them itself
            raw = {**column, "indicator": False, "fill": float("nan"), "center": None, "edges": []}
            single = {"columns": [raw], "marks": encoding.get("marks")}
            out[column["name"]] = encode_rows({column["name"]: values}, single)
        else:
            texts = [MISSING_TEXT if is_missing(v) else level_text(v) for v in values]
            out[column["name"]] = np.array(texts, dtype=object).reshape(-1, 1)
    return out
