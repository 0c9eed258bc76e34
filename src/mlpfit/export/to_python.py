"""One readable .py file that needs only NumPy: the scalers, the weights and a commented forward pass.

Small networks keep their weights in the file as array literals, so the file is the whole model
and a student can read every number. Above :data:`INLINE_PARAMETERS` the weights go to an .npz
beside the file (same name) whose SHA-256 the module checks before it uses them.
"""

from __future__ import annotations

import hashlib
import io
import os

import numpy as np

from mlpfit import __version__
from mlpfit.export.network import Exported
from mlpfit.export.table_source import IMPORTS, table_section
from mlpfit.export.pysource import LINE, activation_source, array_literal, docstring_text, wrapped

# Up to 20,000 parameters the weights are written into the .py: about 250 KB of text that Python
# compiles in under 0.1 s, and every default-sized tabular or formula net fits (a 64,64 net up to
# ~200 inputs). An image net (784-512-256-10: 535,818 parameters) would be 6 MB of numbers that no
# one reads and that take seconds to compile; it goes to an .npz (binary, exact, loaded in ms).
INLINE_PARAMETERS = 20_000
MARKER = "Written by `mlpfit export`"  # how a later export recognises a file it may replace (--force)
NPZ_MARKER = "mlpfit_export"  # an array of that name marks an .npz written by mlpfit export


def module_source(net: Exported, example: dict, npz_name: str | None, npz_sha256: str | None) -> str:
    """The whole module; ``npz_name`` set: weights read from that file beside it, else inline."""
    # The story first (activations, forward pass, predictions), the learned numbers last.
    parts = [header(net, example) + "\n\n" + imports(net, npz_name is not None) + "\n\n" + names(net),
             *([table_section(net.encoding)] if net.encoding else []),
             ACTIVATIONS_COMMENT + "\n" + activation_source(sorted({net.activation, net.output_activation})),
             forward(net), predictors(net),
             npz_loader(npz_name, npz_sha256, net) if npz_name else inline_arrays(net), main_block(net)]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def npz_arrays(net: Exported) -> dict[str, np.ndarray]:
    """What the .npz holds when the weights are not inline: scalers, then W1, b1, W2, b2, ..."""
    arrays = {NPZ_MARKER: np.array(__version__), "X_MEAN": net.x_mean, "X_STD": net.x_std}
    if net.y_mean is not None:
        arrays.update(Y_MEAN=net.y_mean, Y_STD=net.y_std)
    for i, (W, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{i + 1}"], arrays[f"b{i + 1}"] = W, b
    return arrays


def npz_bytes(net: Exported) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **npz_arrays(net))
    return buffer.getvalue()


# ---------------------------------------------------------------- the docstring


def header(net: Exported, example: dict) -> str:
    about = net.about
    kind = f"an ensemble of {net.members} MLPs" if net.members else "an MLP"
    lines = [f"{about.get('target')}: {kind} fitted by mlpfit, as plain NumPy.", "", "Use it:", *usage(net, example), ""]
    lines += inputs_section(net) + [""]
    if net.task == "classify":
        lines += ["Classes (predict(X) gives one per row; predict_proba(X) their probabilities, in this order):",
                  "    " + ", ".join(map(repr, net.classes)), ""]
    else:
        lines += ["Outputs (the columns of predict(X), original units):", *(f"    {name}" for name in net.outputs), ""]
    lines += [network_line(net), *scores_line(about.get("test"), net.task), "",
              "Only NumPy is needed; predict(X) gives what `mlpfit predict` prints for the same rows.",
              f"{MARKER} (mlpfit {__version__}) from a run of {about.get('created') or 'unknown date'}."]
    return '"""' + docstring_text("\n".join(lines)) + '\n"""'


def usage(net: Exported, example: dict) -> list[str]:
    module = example["module"]
    if net.encoding:
        columns = ", ".join(f"{c['name']!r}: ..." for c in net.encoding["columns"][:4])
        more = ", ..." if len(net.encoding["columns"]) > 4 else ""
        return [f"    import {module}",
                f"    {module}.predict([{{{columns}{more}}}])   # raw table rows: dicts, a dict of columns or a DataFrame",
                f"    {module}.predict(X)   # or X: [n, {len(net.encoding['columns'])}] the columns' raw values, in COLUMNS order"]
    if len(net.inputs) > 8:
        return [f"    import {module}",
                f"    {module}.predict(X)   # X: [n, {len(net.inputs)}], one row per example, columns as in INPUTS"]
    point = ", ".join(f"{v:.4g}" for v in example["X"][0])
    lines = [f"    import {module}", f"    {module}.predict([[{point}]])  # -> {example['predict']}"]
    if net.task == "classify":
        lines.append(f"    {module}.predict_proba([[{point}]])  # -> {example['proba']}")
    if net.members:
        lines.append(f"    {module}.predict_std([[{point}]])  # the members' spread")
    lines.append(f"or from a shell:  python {module}.py {point.replace(',', '')}")
    return lines


def inputs_section(net: Exported) -> list[str]:
    box, shape = net.about.get("domain"), net.about.get("image_shape")
    where = " from the training data" if net.about.get("domain_kind") == "training data" else ""
    lines = [f"Inputs (the columns of X, in this order, original units) and their range{where}:"]
    if shape:
        lines.append(f"    {len(net.inputs)} pixels of a {shape[0]}x{shape[1]} image, row by row: "
                     f"{net.inputs[0]}, {net.inputs[1]}, ..., {net.inputs[-1]}")
    shown = net.inputs if len(net.inputs) <= 12 else [*net.inputs[:6], None, *net.inputs[-2:]]
    width = max(len(name) for name in net.inputs[:64])
    for name in shown if not shape else []:
        if name is None:
            lines.append(f"    ... ({len(net.inputs) - 8} more, see INPUTS)")
        elif box:
            lines.append(f"    {name:<{width}}  {box[name][0]:.6g} .. {box[name][1]:.6g}")
        else:
            lines.append(f"    {name}")
    if shape and box:
        lows, highs = [box[n][0] for n in net.inputs], [box[n][1] for n in net.inputs]
        lines.append(f"    values {min(lows):.6g} .. {max(highs):.6g}")
    return lines


def network_line(net: Exported) -> str:
    sizes = "-".join(map(str, net.sizes))
    return (f"Network: {sizes}, {net.activation} between layers, {net.output_activation} on the output, "
            f"{net.parameters:,} parameters, {net.dtype.name}" + (f" ({net.members} members)" if net.members else "") + ".")


def scores_line(test: dict | None, task: str) -> list[str]:
    if not test:
        return []
    if task == "classify":
        return [f"Test accuracy of the run: {test['accuracy']:.4f}."]
    return ["Test R² of the run: " + ", ".join(f"{v:.6g}" for v in test["r2"]) + "."]


# ---------------------------------------------------------------- the code


def imports(net: Exported, npz: bool) -> str:
    modules = ["hashlib", "io", "os"] if npz else []
    if "gelu" in (net.activation, net.output_activation):
        modules.append("math")
    if net.encoding:
        modules += IMPORTS
    return "\n".join(f"import {name}" for name in sorted(set(modules))) + ("\n\n" if modules else "") + "import numpy as np"


def names(net: Exported) -> str:
    lines = [f"INPUTS = {wrapped([repr(name) for name in net.inputs], 0)}",
             f"OUTPUTS = {wrapped([repr(name) for name in net.outputs], 0)}"]
    box = net.about.get("domain")
    if box and not net.about.get("image_shape"):  # an image's pixels share one range, given in the docstring
        entries = [f"{name!r}: ({box[name][0]!r}, {box[name][1]!r})" for name in net.inputs]
        one_line = "{" + ", ".join(entries) + "}"
        lines.append(f"DOMAIN = {one_line}" if len(one_line) < LINE - 9 else
                     "DOMAIN = {\n" + "".join(f"    {entry},\n" for entry in entries) + "}")
    if net.task == "classify":
        lines.append(f"CLASSES = np.array({net.classes!r})")
    if net.members:
        lines.append(f"MEMBERS = {net.members}  # networks of one shape, trained from different seeds; predict is their mean")
    return "\n".join(lines)


ACTIVATIONS_COMMENT = "# 1. The nonlinearities, as PyTorch defines them (what the network was trained with)."
def scaling_comment(net: Exported, first: str = "# 4. What training learned. ") -> str:
    lines = [f"{first}First the scaling: the network never sees raw values; each input column",
             "#    was shifted and scaled to mean 0 and standard deviation 1 with statistics of the training data."]
    if net.y_mean is not None:
        lines.append("#    The targets were scaled the same way; predict() scales the outputs back.")
    return "\n".join(lines)


def inline_arrays(net: Exported) -> str:
    lines = [scaling_comment(net),
             f"X_MEAN = {array_literal(net.x_mean, 0)}", f"X_STD = {array_literal(net.x_std, 0)}"]
    if net.y_mean is not None:
        lines += [f"Y_MEAN = {array_literal(net.y_mean, 0)}", f"Y_STD = {array_literal(net.y_std, 0)}"]
    lines += ["", weights_comment(net)]
    for i, (W, b) in enumerate(zip(net.weights, net.biases)):
        lines += [f"W{i + 1} = {array_literal(W, 0)}", f"b{i + 1} = {array_literal(b, 0)}"]
    return "\n".join(lines) + "\n" + layers_line(net)


def weights_comment(net: Exported) -> str:
    shape = "[members, units, inputs]" if net.members else "[units, inputs]"
    sizes = net.sizes
    layers = "; ".join(f"W{i + 1} {sizes[i + 1]}x{sizes[i]}" for i in range(len(sizes) - 1))
    return (f"#    The weights: layer i maps its inputs h to h @ Wi.T + bi: Wi is {shape}, one row per unit\n"
            f"#    holding that unit's weight for each input, and bi one bias per unit ({layers}).")


def layers_line(net: Exported) -> str:
    pairs = ", ".join(f"(W{i + 1}, b{i + 1})" for i in range(len(net.weights)))
    return f"LAYERS = [{pairs}]\nDTYPE = W1.dtype  # the precision the network was trained in"


def npz_loader(npz_name: str, sha256: str, net: Exported) -> str:
    scalers = "X_MEAN, X_STD = WEIGHTS[\"X_MEAN\"], WEIGHTS[\"X_STD\"]"
    if net.y_mean is not None:
        scalers += "\nY_MEAN, Y_STD = WEIGHTS[\"Y_MEAN\"], WEIGHTS[\"Y_STD\"]"
    arrays = "\n".join(f"W{i + 1}, b{i + 1} = WEIGHTS[\"W{i + 1}\"], WEIGHTS[\"b{i + 1}\"]" for i in range(len(net.weights)))
    return f'''
# 4. What training learned. The {net.parameters:,} weights are too many to read as text, so they live in
#    {npz_name} beside this file. Its SHA-256 is checked first: a changed, damaged or other model's file
#    is refused, never used.
WEIGHTS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), {npz_name!r})
WEIGHTS_SHA256 = {sha256!r}


def load_weights():
    with open(WEIGHTS_FILE, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != WEIGHTS_SHA256:
        raise RuntimeError(WEIGHTS_FILE + " is not the weights file this module was written with "
                           "(its SHA-256 differs): export the model again")
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return {{name: arrays[name] for name in arrays.files}}


WEIGHTS = load_weights()

{scaling_comment(net, "#    ")}
{scalers}

{weights_comment(net)}
{arrays}
{layers_line(net)}
'''


def forward(net: Exported) -> str:
    table_doc = "\n    A table's raw rows (see section 0) are encoded first." if net.encoding else ""
    table_code = "\n    X = encode_rows(X if is_table(X) else as_columns(X), ENCODING)" if net.encoding else ""
    member = "[(W[k], b[k]) for W, b in LAYERS]" if net.members else "LAYERS"
    doc = "Member k of the ensemble" if net.members else "The network"
    signature = "network(h, k)" if net.members else "network(h)"
    return f'''
# 2. The forward pass: scale the inputs, then layer after layer (the numbers are at the end of the file).
def scale_inputs(X):
    """Raw rows [n, {len(net.inputs)}] -> standardized rows, in the network's precision."""
    return ((X - X_MEAN) / X_STD).astype(DTYPE)


def {signature}:
    """{doc} on standardized rows h [n, {len(net.inputs)}]: its raw outputs [n, {net.sizes[-1]}]."""
    *hidden, (W_out, b_out) = {member}
    for W, b in hidden:
        # A hidden layer: every unit takes a weighted sum of the layer below plus its bias (one
        # matrix product does all units and all rows at once), then bends it with {net.activation}.
        h = {net.activation}(h @ W.T + b)
    # The output layer: a weighted sum again, then the output activation.
    return {net.output_activation}(h @ W_out.T + b_out)


def as_rows(X):
    """X as float64 rows [n, {len(net.inputs)}]; a 1-D X is one point (or, for one input, one value per row).{table_doc}"""{table_code}
    X = np.asarray(X, dtype=np.float64)
    if X.ndim <= 1:
        X = X.reshape(-1, 1) if len(INPUTS) == 1 else X.reshape(1, -1)
    if X.ndim != 2 or X.shape[1] != len(INPUTS):
        raise ValueError(f"the model takes {{len(INPUTS)}} input(s), got an array of shape {{X.shape}}: "
                         f"pass rows of {{len(INPUTS)}} values (columns as in INPUTS)")
    return X
'''


def predictors(net: Exported) -> str:
    return "# 3. Predictions, in original units.\n" + (classify_predictors(net) if net.task == "classify"
                                                    else regression_predictors(net)).strip("\n")


# The loss's link, from the last layer's outputs to the target's units (network.linked); a line before the return.
LINKS = {"identity": "",
         "logistic": "out = np.exp(-np.logaddexp(0.0, -out))  # bce's logistic link: probabilities\n    ",
         "exp": "out = np.exp(out)  # poisson's link: rates\n    "}


def regression_predictors(net: Exported) -> str:
    return regression_code(net).replace("{link}", LINKS[net.link])


def regression_code(net: Exported) -> str:
    if net.members:
        return '''
def member_predictions(X):
    """Every member's predictions in original units: [MEMBERS, n, outputs]."""
    h = scale_inputs(as_rows(X))
    out = np.stack([network(h, k) for k in range(MEMBERS)]).astype(np.float64)
    {link}return out * Y_STD + Y_MEAN  # undo the target scaling


def predict(X):
    """Predictions in original units: [n, outputs], the members' mean."""
    return member_predictions(X).mean(axis=0)


def predict_std(X):
    """How much the members disagree: their standard deviation, [n, outputs]."""
    return member_predictions(X).std(axis=0)
'''
    return '''
def predict(X):
    """Predictions in original units: [n, outputs] for X of [n, inputs]."""
    out = network(scale_inputs(as_rows(X))).astype(np.float64)
    {link}return out * Y_STD + Y_MEAN  # undo the target scaling
'''


def classify_predictors(net: Exported) -> str:
    softmax = '''
def softmax(logits):
    """Scores -> probabilities that sum to 1 per row (the max is subtracted first so exp cannot overflow)."""
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)
'''
    if net.members:
        body = '''
def member_probabilities(X):
    """Every member's class probabilities: [MEMBERS, n, classes]."""
    h = scale_inputs(as_rows(X))
    return softmax(np.stack([network(h, k) for k in range(MEMBERS)]).astype(np.float64))


def predict_proba(X):
    """Class probabilities [n, classes] (columns in the order of CLASSES): the members' mean."""
    return member_probabilities(X).mean(axis=0)


def predict_std(X):
    """How much the members disagree on each probability: their standard deviation, [n, classes]."""
    return member_probabilities(X).std(axis=0)
'''
    else:
        body = '''
def predict_proba(X):
    """Class probabilities [n, classes], columns in the order of CLASSES."""
    return softmax(network(scale_inputs(as_rows(X))).astype(np.float64))
'''
    return softmax.strip("\n") + "\n\n\n" + body.strip("\n") + '''


def predict(X):
    """The most probable class of each row: [n] labels from CLASSES."""
    return CLASSES[predict_proba(X).argmax(axis=1)]
'''


def main_block(net: Exported) -> str:
    show = ("print(predict([row])[0])" if net.task == "classify"
            else 'print(" ".join(f"{v:.6g}" for v in predict([row])[0]))')
    return f'''
if __name__ == "__main__":  # python {{this file}} V1 V2 ...: one point, as `mlpfit predict RUN V1 V2 ...` prints it
    import sys

    row = [float(value) for value in sys.argv[1:]]
    {show}
'''


def functions(net: Exported) -> list[str]:
    """The module's public functions, as ``mlpfit export`` lists them."""
    names = ["predict(X)"] + (["predict_proba(X)"] if net.task == "classify" else [])
    return names + (["predict_std(X)"] if net.members else [])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npz_path(py_path: str) -> str:
    return os.path.splitext(py_path)[0] + ".npz"
