"""mlpfit export: the ONNX graph (run in ONNX Runtime) and the NumPy module (imported where mlpfit
cannot be) give what `mlpfit predict` prints, for every kind of run; bad requests exit 2."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

import mlpfit
from mlpfit.config import schema as cfg
from mlpfit.fitting.fit import fit
from mlpfit.runfolder import store as runs
from mlpfit.errors import UsageError
from mlpfit.export import check, destination, pysource, to_onnx, to_python
from mlpfit.export.to_onnx import GraphBuilder
from mlpfit.engines.torch.model import ACTIVATIONS as TORCH_ACTIVATIONS

TOL = 1e-5  # the bar: agreement with `mlpfit predict` to 1e-5

# Runs a module in a fresh interpreter that cannot import mlpfit (or torch, onnx, scipy, ...), and
# reports which third-party packages it loaded: only NumPy may appear.
DRIVER = r'''
import importlib.abc, importlib.util, sys

BEFORE = set(sys.modules)  # what the interpreter's own start-up loaded (site hooks such as _distutils_hack)
BLOCKED = {"mlpfit", "torch", "scipy", "sklearn", "onnx", "onnxruntime", "pandas", "safetensors", "matplotlib"}


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(name + " is blocked: an export must need only NumPy")
        return None


sys.meta_path.insert(0, Block())
import numpy as np

module_path, x_path, out_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("exported", module_path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
X = np.load(x_path)
out = {name: np.asarray(getattr(module, name)(X)) for name in ("predict", "predict_proba", "predict_std")
       if hasattr(module, name)}
loaded = {n.split(".")[0] for n, m in list(sys.modules.items())
          if n not in BEFORE and "-packages" in (getattr(m, "__file__", None) or "")}
np.savez(out_path, third_party=np.array(sorted(loaded)), **out)
'''


def fit_run(out, target, *, hidden=(8,), epochs=20, samples=300, domain=(-2.0, 2.0), **model):
    engine = model.pop("engine", "torch")
    config = cfg.FitConfig(cfg.DataConfig(target=target, domain=None if target.endswith(".csv") else domain, samples=samples),
                           cfg.ModelConfig(hidden=list(hidden), **model), cfg.TrainConfig(epochs=epochs, engine=engine),
                           cfg.RunConfig(out=str(out), quiet=True, plots=False))
    return fit(config).run_dir


def write_classes_csv(path, header, labels_of):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 2))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([f"{a:.4f}", f"{b:.4f}", labels_of(a, b)] for a, b in X)
    return str(path)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("export")


# A column name with quotes and a backslash: it must not break the module's docstring or code.
ODD_NAME = 'width "cm" \\ """'


@pytest.fixture(scope="module")
def runs_by_kind(root):
    shape = write_classes_csv(root / "shape.csv", [ODD_NAME, "c", "kind"],
                              lambda a, b: "in" if a * a + b * b < 0.5 else ("right" if a > 0 else "left"))
    sign = write_classes_csv(root / "sign.csv", ["a", "b", "sign"], lambda a, b: 1 if a * b > 0 else -1)
    return {
        "formula": fit_run(root / "formula", "sin(x)*y, x**2", hidden=(16, 16)),
        "classes": fit_run(root / "classes", shape, hidden=(16,), epochs=30),
        "ensemble": fit_run(root / "ensemble", "x*y", ensemble=3),
        "ensemble-classes": fit_run(root / "ensemble-classes", sign, ensemble=2, epochs=30),
        "numpy-engine": fit_run(root / "numpy-engine", "x*y + x", engine="numpy", activation="gelu"),
    }


def fresh_points(run_dir, n=200, seed=123):
    """Points the exports' own check never saw: uniform over the run's domain or training range."""
    files = runs.read(run_dir)
    if files.summary["domain"]:
        lo, hi = np.array([files.summary["domain"][name] for name in files.summary["inputs"]]).T
    else:
        X = files.samples["train_X"]
        lo, hi = X.min(axis=0), X.max(axis=0)
    return np.random.default_rng(seed).uniform(lo, hi, (n, len(lo))), files.summary["inputs"]


def mlpfit_predict(cli, run_dir, X, names, tmp_path):
    """What `mlpfit predict RUN --input FILE.csv --json` prints for the rows X."""
    path = tmp_path / "points.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows([repr(float(v)) for v in row] for row in X)
    res = cli("predict", run_dir, "--input", str(path), "--json")
    assert res.code == 0, res.err
    return res.json()


def run_module(path, X, tmp_path):
    """Run the exported module's predict functions in an interpreter without mlpfit on its path."""
    np.save(tmp_path / "X.npy", X)
    (tmp_path / "driver.py").write_text(DRIVER)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", str(tmp_path / "driver.py"), str(path), str(tmp_path / "X.npy"),
                           str(tmp_path / "out.npz")], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "out.npz") as out:
        result = {name: out[name] for name in out.files}
    assert result.pop("third_party").tolist() == ["numpy"]
    return result


KINDS = ["formula", "classes", "ensemble", "ensemble-classes", "numpy-engine"]


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_agrees_with_mlpfit_predict(cli, runs_by_kind, kind, tmp_path):
    run_dir = runs_by_kind[kind]
    res = cli("export", run_dir, "--format", "onnx", "--out", str(tmp_path / "m.onnx"))
    assert res.code == 0, res.err
    X, names = fresh_points(run_dir)
    want = mlpfit_predict(cli, run_dir, X, names, tmp_path)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    feed = {"X": X} if inputs == ["X"] else {name: X[:, [k]] for k, name in enumerate(names)}  # a table: by column
    assert list(feed) == inputs
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, feed)))
    if "classes" in want:
        np.testing.assert_allclose(got["probabilities"], want["probabilities"], atol=TOL)
        assert got["label"].tolist() == want["labels"]
        assert np.asarray(want["classes"])[got["label_index"]].tolist() == want["labels"]
    else:
        np.testing.assert_allclose(got["Y"], want["predictions"], rtol=TOL, atol=TOL)
        assert ("std" in want) == ("Y_std" in got)
        if "std" in want:
            np.testing.assert_allclose(got["Y_std"], want["std"], rtol=TOL, atol=TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_python_module_agrees_with_mlpfit_predict_without_mlpfit(cli, runs_by_kind, kind, tmp_path):
    run_dir = runs_by_kind[kind]
    res = cli("export", run_dir, "--format", "python", "--out", str(tmp_path / "exported.py"))
    assert res.code == 0, res.err
    assert not (tmp_path / "exported.npz").exists()  # a small net keeps its weights in the file
    X, names = fresh_points(run_dir)
    want = mlpfit_predict(cli, run_dir, X, names, tmp_path)
    got = run_module(tmp_path / "exported.py", X, tmp_path)
    if "classes" in want:
        assert got["predict"].tolist() == want["labels"]
        np.testing.assert_allclose(got["predict_proba"], want["probabilities"], atol=TOL)
    else:
        np.testing.assert_allclose(got["predict"], want["predictions"], rtol=TOL, atol=TOL)
        if "std" in want:
            np.testing.assert_allclose(got["predict_std"], want["std"], rtol=TOL, atol=TOL)


def test_module_docstring_names_inputs_domain_and_classes(runs_by_kind, tmp_path):
    path = tmp_path / "shapes.py"
    mlpfit.load(runs_by_kind["classes"]).export(path, "python")
    text = path.read_text()
    doc = compile(text, str(path), "exec").co_consts[0]  # the module docstring, as Python reads it
    assert ODD_NAME in doc and "'in', 'left', 'right'" in doc and "from the training data" in doc
    assert "Test accuracy of the run" in doc and to_python.MARKER in doc
    formula = tmp_path / "formula.py"
    mlpfit.load(runs_by_kind["formula"]).export(formula, "python")
    head = formula.read_text().split('"""')[1]
    assert "x  -2 .. 2" in head and "y  -2 .. 2" in head and "sin(x) * y" in head
    assert "import numpy as np" in formula.read_text() and "import torch" not in formula.read_text()


def test_module_runs_as_a_script_like_mlpfit_predict(cli, runs_by_kind, tmp_path):
    run_dir = runs_by_kind["formula"]
    assert cli("export", run_dir, "--format", "python", "--out", str(tmp_path / "f.py")).code == 0
    printed = subprocess.run([sys.executable, "-I", str(tmp_path / "f.py"), "0.5", "-1.25"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    # predict heads several outputs with their names (a line of its own); the numbers are its last line
    assert printed.split() == cli("predict", run_dir, "0.5", "-1.25").out.strip().splitlines()[-1].split()


def test_onnx_has_a_dynamic_batch_and_the_runs_names(runs_by_kind, tmp_path):
    path = tmp_path / "m.onnx"
    mlpfit.load(runs_by_kind["classes"]).export(path, "onnx")
    model = onnx.load(str(path))
    meta = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert meta["inputs"] == [ODD_NAME, "c"] and meta["classes"] == ["in", "left", "right"]
    assert model.producer_name == "mlpfit" and ODD_NAME in model.graph.input[0].doc_string
    assert [i.name for i in model.graph.input] == [ODD_NAME, "c"]  # a table's graph: one input per column
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 1
    assert [o.name for o in model.graph.output] == ["probabilities", "label_index", "label"]


def test_default_out_is_inside_the_run_folder_which_stays_valid(cli, root):
    run_dir = fit_run(root / "default-out", "x**2", epochs=5)
    for fmt, name in (("onnx", "model.onnx"), ("python", "model.py")):
        res = cli("export", run_dir, "--format", fmt)
        assert res.code == 0, res.err
        assert res.out.startswith(f"wrote {os.path.join(run_dir, name)}") and "agrees with mlpfit predict" in res.out
    runs.read(run_dir)  # the extra files do not disturb the run folder's checks
    assert cli("predict", run_dir, "0.5").code == 0
    again = cli("export", run_dir, "--format", "onnx")
    assert again.code == 2 and "--force" in again.err
    replaced = cli("export", run_dir, "--format", "onnx", "--force", "--json")  # an earlier export may be replaced
    assert replaced.code == 0 and replaced.json()["files"] == [os.path.join(run_dir, "model.onnx")]
    assert replaced.json()["tensors"][0].startswith("Y float64 [batch, 1]") and replaced.json()["max_error"] <= TOL


def test_large_net_keeps_weights_in_a_checked_npz(cli, root, tmp_path):
    run_dir = fit_run(root / "large", "x*y", hidden=(200, 100), epochs=2)  # 20,801 parameters
    res = cli("export", run_dir, "--format", "python", "--out", str(tmp_path / "big.py"))
    assert res.code == 0, res.err
    assert (tmp_path / "big.npz").is_file() and os.path.getsize(tmp_path / "big.py") < 20_000
    X, names = fresh_points(run_dir)
    want = mlpfit_predict(cli, run_dir, X, names, tmp_path)
    np.testing.assert_allclose(run_module(tmp_path / "big.py", X, tmp_path)["predict"], want["predictions"],
                               rtol=TOL, atol=TOL)
    data = bytearray((tmp_path / "big.npz").read_bytes())
    data[-40] ^= 1  # one bit of the weights file changed
    (tmp_path / "big.npz").write_bytes(bytes(data))
    broken = subprocess.run([sys.executable, "-I", str(tmp_path / "big.py"), "0", "0"], capture_output=True, text=True,
                            timeout=60)
    assert broken.returncode != 0 and "SHA-256" in broken.stderr


# ---------------------------------------------------------------- every activation


@pytest.mark.parametrize("activation", cfg.ACTIVATIONS)
def test_every_activation_exports_exactly(activation, tmp_path):
    """Hidden and output layers both use it; points far outside the domain reach the activations' tails."""
    result = mlpfit.fit("x*y - x", domain=(-1, 1), samples=200, hidden=8, epochs=3, activation=activation,
                        output_activation=activation, threads=1)
    X = np.random.default_rng(5).uniform(-30, 30, (300, 2))
    want = result.predict(X)
    result.export(tmp_path / "m.onnx", "onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["Y"], {"X": X})[0], want, rtol=TOL, atol=TOL)
    result.export(tmp_path / "m.py", "python")
    np.testing.assert_allclose(run_module(tmp_path / "m.py", X, tmp_path)["predict"], want, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("loss", ["bce", "poisson"])
def test_a_losss_link_is_exported(loss, tmp_path):
    """bce's outputs are probabilities (logistic of the last layer), poisson's rates (its exp): both exports
    apply the link as predict does."""
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (300, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(float) if loss == "bce" else rng.poisson(np.exp(1 + X[:, 0]))
    path = tmp_path / "t.csv"
    np.savetxt(path, np.c_[X, y], delimiter=",", header="a,b,y", comments="", fmt="%.6g")
    result = mlpfit.fit(str(path), target="y", task="regress", loss=loss, hidden=8, epochs=20, threads=1, plots=False)
    fresh = rng.uniform(-1, 1, (50, 2))
    want = result.predict(fresh)
    assert (want > 0).all() and (loss == "poisson" or (want < 1).all())
    result.export(tmp_path / "m.onnx", "onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    columns = {"a": fresh[:, :1], "b": fresh[:, 1:]}  # a table's graph takes a column per input
    np.testing.assert_allclose(session.run(["Y"], columns)[0], want, rtol=TOL, atol=TOL)
    result.export(tmp_path / "m.py", "python")
    np.testing.assert_allclose(run_module(tmp_path / "m.py", fresh, tmp_path)["predict"], want, rtol=TOL, atol=TOL)


def activation_grid(dtype):
    z = np.concatenate([np.linspace(-40, 40, 801), [0.0, 1e-4, -1e-4, 19.99, 20.0, 20.01, -88.0, 88.0]])
    return z.astype(dtype).reshape(1, -1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", cfg.ACTIVATIONS)
def test_each_onnx_activation_matches_torch(activation, dtype):
    g = GraphBuilder(onnx, dtype)
    z = g.fresh("z")
    out = to_onnx.ACTIVATIONS[activation](g, z)
    if out == z:  # identity adds no node
        out = g.op("Identity", z)
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = onnx.helper.make_graph(g.nodes, "a", [onnx.helper.make_tensor_value_info(z, elem, [1, None])],
                                   [onnx.helper.make_tensor_value_info(out, elem, [1, None])], g.initializers)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", to_onnx.OPSET)],
                                   ir_version=to_onnx.IR_VERSION)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    grid = activation_grid(dtype)
    want = TORCH_ACTIVATIONS[activation]()(torch.from_numpy(grid)).numpy()
    np.testing.assert_allclose(session.run(None, {z: grid})[0], want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", cfg.ACTIVATIONS)
def test_each_python_activation_matches_torch(activation, dtype):
    namespace = {"np": np, "math": __import__("math")}
    exec(pysource.activation_source([activation]), namespace)  # the source the module gets (ours, not user input)
    grid = activation_grid(dtype)
    got = namespace[activation](grid)
    assert got.dtype == dtype
    want = TORCH_ACTIVATIONS[activation]()(torch.from_numpy(grid)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_a_float64_network_exports_exactly(tmp_path):
    """A float64 net (what the estimators keep) stays float64 in both exports (gelu's Erf included)."""
    result = mlpfit.fit("x*y", domain=(-1, 1), samples=200, hidden=8, epochs=3, activation="gelu", threads=1)
    result.fitted = result.fitted.in_float64()
    X = np.random.default_rng(6).uniform(-5, 5, (300, 2))
    want = result.predict(X)
    result.export(tmp_path / "m.onnx", "onnx")
    model = onnx.load(str(tmp_path / "m.onnx"))
    weight = next(t for t in model.graph.initializer if t.name == "layer1.weight_T")
    assert weight.data_type == onnx.TensorProto.DOUBLE
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["Y"], {"X": X})[0], want, rtol=1e-9, atol=1e-7)
    result.export(tmp_path / "m.py", "python")
    assert "dtype=np.float64" in (tmp_path / "m.py").read_text().split("W1 =")[1][:2000]
    np.testing.assert_allclose(run_module(tmp_path / "m.py", X, tmp_path)["predict"], want, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("args, words", [
    (["--format", "tflite"], ["--format 'tflite'", "onnx, python"]),
    ([], ["--format"]),
    (["--format", "onnx", "--out", "model.txt"], ["model.txt", ".onnx"]),
    (["--format", "python", "--out", "my-model.py"], ["my-model", "my_model.py"]),
    (["--format", "python", "--out", "missing/m.py"], ["missing", "does not exist"]),
])
def test_bad_requests_exit_2_naming_the_value(cli, runs_by_kind, tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    res = cli("export", runs_by_kind["formula"], *args)
    assert res.code == 2 and "Traceback" not in res.err and len(res.err.strip().splitlines()) == 1
    assert all(word in res.err for word in words), res.err
    assert os.listdir(tmp_path) == []


def test_not_a_run_folder_exits_2(cli, tmp_path):
    res = cli("export", str(tmp_path), "--format", "onnx", "--out", str(tmp_path / "m.onnx"))
    assert res.code == 2 and "manifest.json" in res.err and not (tmp_path / "m.onnx").exists()


def test_out_that_is_a_folder_exits_2(cli, runs_by_kind, tmp_path):
    (tmp_path / "dir.onnx").mkdir()
    res = cli("export", runs_by_kind["formula"], "--format", "onnx", "--out", str(tmp_path / "dir.onnx"))
    assert res.code == 2 and "is a folder" in res.err


@pytest.mark.parametrize("fmt, name", [("onnx", "m.onnx"), ("python", "m.py")])
def test_a_file_mlpfit_did_not_write_is_never_replaced(cli, runs_by_kind, tmp_path, fmt, name):
    path = tmp_path / name
    path.write_text("mine\n")
    res = cli("export", runs_by_kind["formula"], "--format", fmt, "--out", str(path))
    assert res.code == 2 and "--force" in res.err
    res = cli("export", runs_by_kind["formula"], "--format", fmt, "--out", str(path), "--force")
    assert res.code == 2 and "not written by mlpfit" in res.err
    assert path.read_text() == "mine\n" and sorted(os.listdir(tmp_path)) == [name]


def test_the_api_refuses_in_python_words(runs_by_kind, tmp_path):
    result = mlpfit.load(runs_by_kind["formula"])
    with pytest.raises(UsageError, match="out '.*m.txt' does not end in .onnx") as err:
        result.export(tmp_path / "m.txt", "onnx")
    assert "--" not in str(err.value)
    with pytest.raises(UsageError, match="format 'zip' is not known"):
        result.export(tmp_path / "m.zip", "zip")
    assert result.export(tmp_path / "m.onnx", "onnx") == str(tmp_path / "m.onnx")


def test_an_export_that_disagrees_is_not_kept(cli, runs_by_kind, tmp_path, monkeypatch):
    """A wrong graph or module (here: relu put in for tanh) is caught by the check and never left behind."""
    monkeypatch.setitem(to_onnx.ACTIVATIONS, "tanh", to_onnx.ACTIVATIONS["relu"])
    monkeypatch.setitem(pysource.ACTIVATION_SOURCE, "tanh", pysource.ACTIVATION_SOURCE["relu"].replace("relu", "tanh"))
    for fmt, name in (("onnx", "m.onnx"), ("python", "m.py")):
        res = cli("export", runs_by_kind["formula"], "--format", fmt, "--out", str(tmp_path / name))
        assert res.code == 1 and "differs from mlpfit's own prediction" in res.err
    assert os.listdir(tmp_path) == []


def test_a_diverged_run_is_refused(runs_by_kind, tmp_path):
    result = mlpfit.load(runs_by_kind["formula"])
    result.fitted.weights[0][0, 0] = float("nan")
    with pytest.raises(UsageError, match="not all finite"):
        result.export(tmp_path / "m.onnx", "onnx")


def test_check_compares_labels_only_where_the_winner_is_clear():
    proba = np.array([[0.5, 0.5], [0.9, 0.1]])
    want = {"probabilities": proba, "label_index": np.array([0, 0])}
    assert check.largest_error(want, {"probabilities": proba, "label_index": np.array([1, 0])}) == 0
    assert check.largest_error(want, {"probabilities": proba, "label_index": np.array([0, 1])}) == float("inf")


def test_number_text_reads_back_exactly():
    values = np.random.default_rng(0).standard_normal(20000).astype(np.float32)
    texts = [pysource.number(v, values.dtype) for v in values]
    assert np.array_equal(np.array([float(t) for t in texts]).astype(np.float32), values)
    assert destination.FORMATS == ("onnx", "python")


def test_both_exporters_know_every_activation_mlpfit_trains_with():
    assert set(to_onnx.ACTIVATIONS) == set(pysource.ACTIVATION_SOURCE) == set(cfg.ACTIVATIONS) == set(TORCH_ACTIVATIONS)
