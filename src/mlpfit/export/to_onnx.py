"""One ONNX graph for a run: raw inputs in, original units out, built node by node.

The graph is written with the ``onnx`` package's helper API rather than ``torch.onnx.export``
(which traces the model, needs extra packages and would leave the scaling outside the graph).
It repeats :mod:`mlpfit.export.network`'s arithmetic: scaling in float64, the layers in the
weights' dtype, outputs back in float64. So the input ``X`` is float64 ``[batch, inputs]``.

Outputs: regression ``Y`` ``[batch, outputs]`` (an ensemble adds ``Y_std``, the members' spread);
classification ``probabilities`` ``[batch, classes]``, ``label_index`` and ``label`` ``[batch]``
(an ensemble adds ``probabilities_std``). Column names, classes and the domain are in the
model's metadata (``metadata_props``), because run names may be any CSV header ("width (cm)").

Activations that ONNX Runtime has no float64 kernel for (gelu's Erf, elu, leaky_relu,
softplus) are composed from ops it has, with PyTorch's definitions; gelu's Erf alone runs in
float32 inside a float64 network (NumPy-engine runs), an error below 1e-7.
"""

# Deferred imports: onnx and ONNX Runtime (an optional extra) load only when an ONNX graph is written.

from __future__ import annotations

import json
import math

import numpy as np

from mlpfit import __version__
from mlpfit.data.sources.raw_rows import encode_rows
from mlpfit.errors import UsageError
from mlpfit.export import check
from mlpfit.export.network import Exported, fresh_points
from mlpfit.export.onnx_table import ML_DOMAIN, ML_OPSET, feeds, input_doc, table_front

OPSET = 17  # ONNX Runtime 1.13 (2022) and later run it; ReduceMean still takes axes as an attribute here
IR_VERSION = 8  # the IR version that goes with opset 17, so older runtimes load the file too
PRODUCER = "mlpfit"


def require_onnx():
    """The onnx and onnxruntime modules, or a one-line UsageError saying how to install them."""
    try:
        import onnx
        import onnxruntime
    except ImportError as err:
        raise UsageError(f"--format onnx needs the onnx and onnxruntime packages ({err.name} is missing): "
                         "pip install 'mlpfit[export]'") from None
    return onnx, onnxruntime


class GraphBuilder:
    """Nodes and constants with unique names; ``op`` returns the name of its output."""

    def __init__(self, onnx, dtype: np.dtype):
        self.onnx, self.dtype = onnx, np.dtype(dtype)
        self.nodes, self.initializers, self.names = [], [], set()
        self.scalars = {}  # (value, dtype) -> initializer, so each constant is stored once

    def fresh(self, stem: str) -> str:
        name, k = stem, 2
        while name in self.names:
            name, k = f"{stem}_{k}", k + 1
        self.names.add(name)
        return name

    def const(self, name: str, value, dtype=None) -> str:
        """An initializer holding ``value`` (in the network's dtype unless told)."""
        array = np.asarray(value, dtype=dtype or self.dtype)
        name = self.fresh(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attributes) -> str:
        output = self.fresh(out or op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [output], **attributes))
        return output

    def scalar(self, value: float, dtype=None) -> str:
        key = (value, np.dtype(dtype or self.dtype))
        if key not in self.scalars:
            self.scalars[key] = self.const(f"c_{value:g}".replace("-", "minus_").replace(".", "_"), value, dtype)
        return self.scalars[key]


# ---------------------------------------------------------------- activations, as PyTorch defines them


def gelu(g: GraphBuilder, z: str) -> str:
    # 0.5·z·(1 + erf(z/√2)), torch's exact form; ORT's Erf is float32 only, so a float64 net casts around it
    scaled = g.op("Mul", z, g.scalar(math.sqrt(0.5)))
    if g.dtype == np.float64:
        erf = g.op("Cast", g.op("Erf", g.op("Cast", scaled, to=g.onnx.TensorProto.FLOAT)), to=g.onnx.TensorProto.DOUBLE)
    else:
        erf = g.op("Erf", scaled)
    return g.op("Mul", g.op("Mul", z, g.scalar(0.5)), g.op("Add", g.scalar(1.0), erf))


def elu(g: GraphBuilder, z: str) -> str:
    # z where z > 0, else e^z - 1 (alpha 1); min(z, 0) keeps exp from overflowing on the branch not taken
    negative = g.op("Sub", g.op("Exp", g.op("Min", z, g.scalar(0.0))), g.scalar(1.0))
    return g.op("Where", g.op("Greater", z, g.scalar(0.0)), z, negative)


def leaky_relu(g: GraphBuilder, z: str) -> str:
    # z where z > 0, else 0.01·z (torch's default slope)
    return g.op("Where", g.op("Greater", z, g.scalar(0.0)), z, g.op("Mul", z, g.scalar(0.01)))


def softplus(g: GraphBuilder, z: str) -> str:
    # log(1 + e^z), and z itself above torch's threshold 20 (where the two agree to float precision)
    threshold = g.scalar(20.0)
    smooth = g.op("Log", g.op("Add", g.scalar(1.0), g.op("Exp", g.op("Min", z, threshold))))
    return g.op("Where", g.op("Greater", z, threshold), z, smooth)


ACTIVATIONS = {
    "identity": lambda g, z: z,
    "relu": lambda g, z: g.op("Relu", z),
    "tanh": lambda g, z: g.op("Tanh", z),
    "sigmoid": lambda g, z: g.op("Sigmoid", z),
    "silu": lambda g, z: g.op("Mul", z, g.op("Sigmoid", z)),  # z·σ(z)
    "gelu": gelu,
    "elu": elu,
    "leaky_relu": leaky_relu,
    "softplus": softplus,
}


# ---------------------------------------------------------------- the graph


def network_nodes(g: GraphBuilder, net: Exported, x: str) -> str:
    """Scale, cast, the layers, cast back: the raw output in float64 ([batch, out], or [K, batch, out])."""
    T = g.onnx.TensorProto
    h = g.op("Div", g.op("Sub", x, g.const("x_mean", net.x_mean, np.float64)), g.const("x_std", net.x_std, np.float64),
             out="x_scaled")
    if g.dtype != np.float64:
        h = g.op("Cast", h, to=T.FLOAT)
    last = len(net.weights) - 1
    for i, (W, b) in enumerate(zip(net.weights, net.biases)):
        # h @ Wᵀ + b; the weight is stored transposed ([in, out], or [K, in, out]) so MatMul broadcasts over members
        weight = g.const(f"layer{i + 1}.weight_T", np.swapaxes(W, -1, -2))
        bias = g.const(f"layer{i + 1}.bias", b if b.ndim == 1 else b[:, None, :])
        h = g.op("Add", g.op("MatMul", h, weight), bias, out=f"layer{i + 1}")
        h = ACTIVATIONS[net.output_activation if i == last else net.activation](g, h)
    return h if g.dtype == np.float64 else g.op("Cast", h, to=T.DOUBLE, out="raw")


def mean_and_std(g: GraphBuilder, members: str, mean: str, std: str) -> tuple[str, str]:
    """Over axis 0 (the members): the mean, and the population std as numpy's ``std`` computes it."""
    average = g.op("ReduceMean", members, axes=[0], keepdims=0, out=mean)
    deviation = g.op("Sub", members, average)
    spread = g.op("Sqrt", g.op("ReduceMean", g.op("Mul", deviation, deviation), axes=[0], keepdims=0), out=std)
    return average, spread


def output_nodes(g: GraphBuilder, net: Exported, raw: str) -> list[str]:
    if net.task == "classify":
        proba = g.op("Softmax", raw, axis=-1, out="member_probabilities" if net.members else "probabilities")
        outputs = list(mean_and_std(g, proba, "probabilities", "probabilities_std")) if net.members else [proba]
        index = g.op("ArgMax", outputs[0], axis=1, keepdims=0, out="label_index")
        label = g.op("Gather", class_constant(g, net.classes), index, axis=0, out="label")
        return [*outputs, index, label]
    linked = {"logistic": "Sigmoid", "exp": "Exp"}.get(net.link)
    raw = raw if linked is None else g.op(linked, raw)
    values = g.op("Add", g.op("Mul", raw, g.const("y_std", net.y_std, np.float64)), g.const("y_mean", net.y_mean, np.float64),
                  out="member_Y" if net.members else "Y")
    return list(mean_and_std(g, values, "Y", "Y_std")) if net.members else [values]


def class_constant(g: GraphBuilder, classes: list) -> str:
    """The class labels as a tensor: int64 when every label is an integer, else their text."""
    if integer_classes(classes):
        return g.const("classes", classes, np.int64)
    name = g.fresh("classes")
    g.initializers.append(g.onnx.numpy_helper.from_array(np.array([str(c) for c in classes], dtype=object), name))
    return name


def build(net: Exported):
    """The ONNX ModelProto for ``net`` (checked by onnx.checker, not yet run)."""
    onnx, _ = require_onnx()
    g = GraphBuilder(onnx, net.dtype)
    if net.encoding:  # a table: one input per column, encoded in the graph (export.onnx_table)
        inputs, x = table_front(g, net.encoding)
        opsets = [onnx.helper.make_opsetid("", OPSET), onnx.helper.make_opsetid(ML_DOMAIN, ML_OPSET)]
    else:
        x = g.fresh("X")
        inputs, opsets = [value_info(onnx, x, net)], [onnx.helper.make_opsetid("", OPSET)]
    outputs = output_nodes(g, net, network_nodes(g, net, x))
    assert outputs == output_names(net), outputs  # the names the report and the docs promise
    graph = onnx.helper.make_graph(g.nodes, "mlpfit", inputs,
                                   [value_info(onnx, name, net) for name in outputs], g.initializers)
    model = onnx.helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION,
                                   producer_name=PRODUCER, producer_version=__version__, doc_string=summary_line(net))
    onnx.helper.set_model_props(model, metadata(net))
    onnx.checker.check_model(model, full_check=True)
    return model


def output_names(net: Exported) -> list[str]:
    if net.task == "classify":
        return ["probabilities", *(["probabilities_std"] if net.members else []), "label_index", "label"]
    return ["Y", *(["Y_std"] if net.members else [])]


def output_lines(net: Exported) -> list[str]:
    """One line per output tensor, for ``mlpfit export``'s report: name, type, shape and what it holds."""
    def kind(name):
        if name == "label_index" or (name == "label" and integer_classes(net.classes)):
            return "int64 [batch]"
        if name == "label":
            return "string [batch]"
        return f"float64 [batch, {len(net.classes) if name.startswith('prob') else len(net.outputs)}]"

    return [f"{name} {kind(name)}: {column_doc(name, net)}" for name in output_names(net)]


def input_lines(net: Exported) -> list[str] | None:
    """A table graph's inputs, one line per column: name, type and what it takes; None for one X."""
    if not net.encoding:
        return None
    lines = []
    for column in net.encoding["columns"]:
        kind = {"number": "float64 [batch, 1]", "date": f"float64 [batch, {len(column['parts'])}]"}.get(
            column["kind"], "string [batch, 1]")
        lines.append(f"{column['name']} {kind}: {input_doc(column).split(': ', 1)[1]}")
    return lines


def integer_classes(classes) -> bool:
    return bool(classes) and all(isinstance(c, int) and not isinstance(c, bool) for c in classes)


def value_info(onnx, name: str, net: Exported):
    T = onnx.TensorProto
    columns = {"X": ("batch", len(net.inputs)), "Y": ("batch", len(net.outputs)), "Y_std": ("batch", len(net.outputs)),
               "probabilities": ("batch", len(net.classes or [])), "probabilities_std": ("batch", len(net.classes or []))}
    shape = list(columns.get(name, ("batch",)))
    if name == "label_index":
        elem = T.INT64
    elif name == "label":
        elem = T.INT64 if integer_classes(net.classes) else T.STRING
    else:
        elem = T.DOUBLE
    return onnx.helper.make_tensor_value_info(name, elem, shape, doc_string=column_doc(name, net))


def column_doc(name: str, net: Exported) -> str:
    if name == "X":
        return "inputs in original units, columns: " + ", ".join(net.inputs)
    if name in ("Y", "Y_std"):
        return ("prediction" if name == "Y" else "members' std") + " in original units, columns: " + ", ".join(net.outputs)
    if name.startswith("probabilities"):
        return "per class, columns: " + ", ".join(map(str, net.classes))
    return "the most probable class" + (" (its position in the classes)" if name == "label_index" else "")


def summary_line(net: Exported) -> str:
    kind = f"ensemble of {net.members} MLPs" if net.members else "MLP"
    sizes = "-".join(map(str, net.sizes))
    return (f"{net.about.get('target')}: {sizes} {kind} ({net.activation}, output {net.output_activation}) fitted by "
            f"mlpfit; input X float64 [batch, {len(net.inputs)}] in original units ({', '.join(net.inputs[:8])}"
            f"{', ...' if len(net.inputs) > 8 else ''})")


def metadata(net: Exported) -> dict[str, str]:
    """Everything a user needs besides the tensors, as JSON strings (ONNX metadata is text)."""
    about = net.about
    return {key: json.dumps(value) for key, value in {
        "inputs": net.inputs, "outputs": net.outputs, "task": net.task, "classes": net.classes,
        "members": net.members, "domain": about.get("domain"), "target": about.get("target"),
        "image_shape": about.get("image_shape"), "test_metrics": about.get("test"), "mlpfit": __version__,
        "columns": _column_docs(net),
    }.items()}


def _column_docs(net: Exported) -> dict | None:
    """A table's graph inputs, each with what it takes (a date takes numbers: days since its origin, ...)."""
    if not net.encoding:
        return None
    return {column["name"]: input_doc(column) for column in net.encoding["columns"]}


def to_bytes(net: Exported, fitted) -> tuple[bytes, float]:
    """The serialized model, run in ONNX Runtime on fresh points and compared with mlpfit first."""
    model = build(net)
    data = model.SerializeToString()
    return data, run_check(data, net, fitted)


def run_check(data: bytes, net: Exported, fitted) -> float:
    """Largest error of the serialized model against ``fitted`` on fresh points (ExportMismatch if too big)."""
    _, ort = require_onnx()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a check of a few hundred rows; more threads only contend
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    if net.encoding:  # raw rows in, against mlpfit's encoding of the same rows
        rows = check.check_rows(net.encoding)
        X, feed = encode_rows(rows, net.encoding), feeds(net.encoding, rows)
    else:
        X = fresh_points(net)
        feed = {"X": X}
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(None, feed)))
    return check.require_agreement("the ONNX graph", check.reference(fitted, net, X), got)
