"""The Python API: mlpfit.fit / mlpfit.load and their Result, and the lazy top-level exports."""
import doctest
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import mlpfit
from mlpfit import api, estimators
from mlpfit.runfolder import store as runs
from mlpfit.data.sources.encoding import BIN_ROWS
from mlpfit.errors import RunFolderError, UsageError


@pytest.fixture(scope="module")
def curve():
    """A one-input tanh fit, small enough to be quick."""
    return mlpfit.fit("sin(3*x)", samples=600, hidden=16, epochs=200, batch_size=32, seed=2)


@pytest.fixture(scope="module")
def line():
    """A linear network, so explain() can read it back as an equation."""
    return mlpfit.fit("2*x1 - 3*x2 + 1", samples=300, hidden="none", epochs=300, lr=0.1)


@pytest.mark.parametrize("module", [api, estimators])
def test_docstring_examples_run(module):
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0
    assert outcome.failed == 0


def test_import_mlpfit_stays_light():
    code = "import sys, mlpfit; print(json.dumps(['torch' in sys.modules, 'sklearn' in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert json.loads(out.stdout) == [False, False]
    assert mlpfit.Regressor is estimators.Regressor and mlpfit.load is api.load
    assert {"fit", "load", "Regressor", "Classifier", "Result"} <= set(dir(mlpfit))
    with pytest.raises(AttributeError, match="no_such_thing"):
        mlpfit.no_such_thing


def test_fit_returns_a_result_with_summary_history_and_predictions(curve):
    assert curve.run_dir is None and curve.summary["run"] is None
    assert curve.summary["inputs"] == ["x"] and curve.summary["architecture"]["sizes"] == [1, 16, 1]
    assert len(curve.history.rows) == curve.summary["epochs"]
    grid = np.linspace(-0.9, 0.9, 7)
    assert curve.predict(grid).shape == (7, 1)  # 1-D X for a one-input model: one value per row
    np.testing.assert_allclose(curve.predict(grid)[:, 0], np.sin(3 * grid), atol=0.05)
    assert curve.metrics["test"]["r2"][0] > 0.99


def test_predict_refuses_the_wrong_number_of_inputs(line):
    assert line.predict([1.0, 1.0]).shape == (1, 1)  # 1-D X for a two-input model: one point
    with pytest.raises(UsageError, match="takes 2 input"):
        line.predict(np.zeros((4, 3)))
    with pytest.raises(UsageError, match="predict_proba is for classification"):
        line.predict_proba([[1.0, 2.0]])


def test_explain_gives_the_equation_of_a_linear_net_only(line, curve):
    text = line.explain()
    assert text.splitlines()[-1] == "y = 2.0000·x1 - 3.0000·x2 + 1.0000"
    assert "2-1 MLP" in text
    assert "1-16-1 MLP, tanh" in curve.explain() and "y =" not in curve.explain()


def test_plot_writes_the_runs_plots_into_a_folder(curve, line, tmp_path):
    paths = curve.plot(tmp_path / "curve")
    assert sorted(os.path.basename(p) for p in paths) == ["fit.png", "loss.png", "sensitivity.png", "units.png"]
    assert all(open(p, "rb").read(4) == b"\x89PNG" for p in paths)
    assert line.run_dir is None  # never saved, so there is nowhere to draw by default
    with pytest.raises(UsageError, match="pass a folder"):
        line.plot()


def test_save_then_load_gives_the_same_model(curve, tmp_path):
    folder = curve.save(tmp_path / "run")
    assert folder == str(tmp_path / "run") and curve.run_dir == folder
    loaded = mlpfit.load(folder)
    grid = np.linspace(-1, 1, 11)
    np.testing.assert_array_equal(loaded.predict(grid), curve.predict(grid))
    assert loaded.summary["run"] == folder and loaded.history.rows == runs_history(folder)
    assert set(loaded.samples) == {"train_X", "train_Y", "test_X", "test_Y"}
    with pytest.raises(UsageError, match="already exists"):
        curve.save(folder)
    assert loaded.save(tmp_path / "copy") and mlpfit.load(tmp_path / "copy").summary["formula"] == "sin(3*x)"


def runs_history(folder):
    from mlpfit.train.history import History

    return History.from_csv(runs.read(folder).history_csv).rows


def test_fit_with_out_writes_a_run_folder_the_cli_can_read(tmp_path):
    result = mlpfit.fit("x + y", domain={"x": (0, 1), "y": (-2, 2)}, samples=200, epochs=5, out=tmp_path / "r")
    files = runs.read(str(tmp_path / "r"))
    assert files.summary["domain"] == {"x": [0.0, 1.0], "y": [-2.0, 2.0]}
    assert result.run_dir == str(tmp_path / "r")


def test_load_of_a_missing_folder_is_a_run_folder_error(tmp_path):
    with pytest.raises(RunFolderError, match="does not exist"):
        mlpfit.load(tmp_path / "nothing")


@pytest.mark.parametrize("kwargs, words", [
    ({"domain": "1:0"}, "LO < HI"),
    ({"domain": (0, "a")}, "(lo, hi)"),
    ({"hidden": "abc"}, "'abc'"),
    ({"batch_size": 0}, "batch_size must be"),
    ({"optimizer": "adma"}, "did you mean adam"),
    ({"domain": {"z": (0, 1)}}, "'z'"),  # found once the formula is parsed, inside the pipeline
])
def test_bad_keywords_fail_with_the_value_named(kwargs, words):
    with pytest.raises(UsageError) as err:
        mlpfit.fit("x", samples=50, epochs=2, **kwargs)
    assert words in str(err.value) and "--" not in str(err.value)


def test_target_must_be_a_nonempty_string():
    with pytest.raises(UsageError, match="target must be"):
        mlpfit.fit(3.0)


def test_result_of_a_classification_predicts_labels_and_probabilities():
    from mlpfit.fitting.fit import fit
    from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, TrainConfig
    from mlpfit.data.dataset import Dataset

    X = np.random.default_rng(0).uniform(-1, 1, (300, 2))
    dataset = Dataset("array", X, (X[:, 0] > 0).astype(np.int64), ["a", "b"], ["label"], task="classify",
                      classes=["left", "right"])
    config = FitConfig(DataConfig(task="classify"), ModelConfig(hidden=[8]), TrainConfig(epochs=200, lr=0.05))
    fit = fit(config, dataset=dataset, save=False)
    result = api.Result(fit.config, fit.fitted, fit.history, fit.summary)
    assert result.predict([[-0.5, 0.0], [0.5, 0.0]]).tolist() == ["left", "right"]
    assert result.predict_proba([[0.5, 0.0]]).shape == (1, 2)
    assert "accuracy" in result.explain()


def test_fit_takes_dropout_and_ensemble_like_the_cli():
    result = mlpfit.fit("sin(x)", samples=300, hidden=8, epochs=5, dropout=0.1, ensemble=3)
    assert result.config.model.dropout == 0.1 and result.summary["ensemble"] == 3
    assert len(result.summary["members"]) == 3


# ---------------------------------------------------------------- tables in memory (issue 14)


def iris_frame():
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True)
    return iris.frame.drop(columns="target").assign(species=iris.target_names[iris.target])


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("iris") / "run"
    mlpfit.fit(iris_frame(), target="species", hidden=16, epochs=150, out=folder)
    return mlpfit.load(folder)


def test_predict_matches_a_frames_columns_by_name(iris_run):
    rows = iris_frame().drop(columns="species").iloc[[0, 50, 100]]
    assert iris_run.predict(rows).tolist() == ["setosa", "versicolor", "virginica"]
    reordered = rows[rows.columns[::-1]]
    assert iris_run.predict(reordered).tolist() == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(iris_run.predict_proba(reordered), iris_run.predict_proba(rows))
    assert iris_run.predict(iris_frame().iloc[[0]]).tolist() == ["setosa"]  # the target column is no stranger
    assert iris_run.predict(rows.to_dict("list")).tolist() == ["setosa", "versicolor", "virginica"]


def test_predict_refuses_missing_and_unknown_columns_in_one_line(iris_run):
    from mlpfit.errors import DataError

    rows = iris_frame().drop(columns="species").iloc[[0]]
    with pytest.raises(DataError, match=r"needs input column\(s\) 'petal width \(cm\)'"):
        iris_run.predict(rows.drop(columns="petal width (cm)"))
    with pytest.raises(DataError, match="'colour' are not inputs of this model") as caught:
        iris_run.predict(rows.assign(colour="blue"))
    assert "\n" not in str(caught.value)


def test_a_formula_run_matches_frame_columns_by_name_too(line):
    import pandas as pd

    frame = pd.DataFrame({"x2": [0.5], "x1": [0.25]})
    assert line.predict(frame)[0, 0] == pytest.approx(2 * 0.25 - 3 * 0.5 + 1, abs=0.01)


def test_fit_takes_a_frame_with_text_and_holes_and_arrays_with_names():
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.uniform(0, 1, 200), "kind": rng.choice(["a", "b"], 200)})
    frame["y"] = frame["size"] + (frame["kind"] == "b")
    frame.loc[3, "size"] = np.nan
    result = mlpfit.fit(frame, target="y", hidden=8, epochs=200)
    bins = [f"size[bin {t}]" for t in range(1, 199 // BIN_ROWS + 1)]  # 199 sizes: a bin per BIN_ROWS rows
    assert result.summary["inputs"] == ["size", *bins, "size[missing]", "kind[a]", "kind[b]"]
    assert result.summary["table"]["imputed"] == {"size": 1}
    assert result.predict(pd.DataFrame({"kind": ["b"], "size": [0.5]}))[0, 0] == pytest.approx(1.5, abs=0.15)
    structured = np.zeros(100, dtype=[("u", "f8"), ("v", "f8")])
    structured["u"] = np.linspace(0, 1, 100)
    structured["v"] = 2 * structured["u"]
    assert mlpfit.fit(structured, target="v", epochs=2).summary["inputs"] == ["u"]
    assert mlpfit.fit({"u": structured["u"], "v": structured["v"]}, target_columns="v", epochs=2).summary["outputs"] == ["v"]


def test_a_point_outside_the_domain_warns(line):
    from mlpfit.errors import MlpfitWarning

    with pytest.warns(MlpfitWarning, match=r"x1 = 3 is 2 above \[-1, 1\]"):
        line.predict([[3.0, 0.0]])
