"""The playground's settings: URL query -> FitConfig, its limits, and the equivalent command."""

from __future__ import annotations

import shlex

import pytest

from mlpfit.errors import FormulaError, UsageError
from mlpfit.play import settings as play_settings
from mlpfit.play.problem import describe, load
from mlpfit.play.settings import check_work, command, parse


def test_an_empty_query_is_a_working_page(tmp_path):
    s = parse({}, str(tmp_path))
    assert s.config.data.target == "sin(3*x)"
    assert s.config.model.hidden == [16, 16] and s.config.train.epochs == 200
    assert s.config.train.device == "cpu" and s.upload is None
    assert set(s.values) == set(play_settings.DEFAULTS)


def test_query_names_are_the_fit_options(tmp_path):
    s = parse({"target": "x*y", "domain": "x=0:1,y=-1:1", "hidden": "32x3", "batch-size": "128", "lr": "3e-3",
               "output-activation": "identity", "dropout": "0.1", "seed": "7"}, str(tmp_path))
    c = s.config
    assert c.data.domain == {"x": (0.0, 1.0), "y": (-1.0, 1.0)}
    assert c.model.hidden == [32, 32, 32] and c.model.dropout == 0.1
    assert (c.train.batch_size, c.train.lr, c.train.seed) == (128, 3e-3, 7)


@pytest.mark.parametrize("query, words", [
    ({"hidden": "129"}, "at most 6 layers of at most 128 units"),
    ({"hidden": "8x7"}, "at most 6 layers"),
    ({"samples": "20001"}, "samples must be between 10 and 20000"),
    ({"epochs": "1e3"}, "epochs must be a whole number, got '1e3'"),
    ({"epochs": "5001"}, "epochs must be between 1 and 5000"),
    ({"lr": "fast"}, "lr must be a number, got 'fast'"),
    ({"activation": "tahn"}, "did you mean tanh"),
    ({"dropout": "1.5"}, "--dropout must be in [0, 1)"),
    ({"shell": "rm -rf /"}, "unknown setting 'shell'"),
    ({"target": "x" * 301}, "at most 300"),
])
def test_refused_settings_say_what_and_how(tmp_path, query, words):
    with pytest.raises(UsageError) as err:
        parse(query, str(tmp_path))
    assert words in str(err.value)


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "0123456789ab-../../x.csv", "0123456789ab-x.csv"])
def test_an_upload_is_only_found_inside_runs_uploads(tmp_path, name):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")  # outside the uploads folder: never reachable
    with pytest.raises(UsageError, match="upload the CSV file again"):
        parse({"target": f"upload:{name}"}, str(tmp_path / "runs"))


def test_a_formula_target_never_touches_the_file_system(tmp_path, monkeypatch):
    """`mlpfit fit` reads a target naming a file or folder; the page must parse it as a formula."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").mkdir()  # an IDX folder by the CLI's rule
    (tmp_path / "y.csv").write_text("a,b\n1,2\n")
    dataset = load(parse({"target": "x", "samples": "50"}, str(tmp_path / "runs")))
    assert dataset.formula == "x" and dataset.inputs == ["x"]
    with pytest.raises(FormulaError):
        load(parse({"target": "y.csv"}, str(tmp_path / "runs")))


def test_limits_that_need_the_data(tmp_path):
    config = parse({"epochs": "5000", "batch-size": "1"}, str(tmp_path)).config
    with pytest.raises(UsageError, match="at most 1000000"):
        check_work(config, 1000, 1)
    with pytest.raises(UsageError, match="the table has 20001 rows"):
        check_work(config, 20_001, 1)
    check_work(parse({}, str(tmp_path)).config, 1000, 2)  # the defaults pass


def test_describe_names_inputs_and_outputs_without_sampling(tmp_path):
    assert describe("x**2 + y**2", "", str(tmp_path)) == {"inputs": ["x", "y"], "outputs": ["x ** 2 + y ** 2"]}
    assert describe("circle", "", str(tmp_path))["inputs"] == ["x", "y"]
    with pytest.raises(UsageError, match="image set"):
        describe("digits", "", str(tmp_path))
    with pytest.raises(FormulaError):
        describe("__import__('os')", "", str(tmp_path))


def test_the_command_leaves_out_fit_defaults_and_quotes_the_target(tmp_path):
    line = command(parse({"target": "x**2 + y**2", "hidden": "none", "lr": "0.010"}, str(tmp_path)))
    words = shlex.split(line)
    assert words[:3] == ["mlpfit", "fit", "x**2 + y**2"]
    assert "--domain=-2:2" in words and words[words.index("--hidden") + 1] == "none"
    assert words[words.index("--lr") + 1] == "0.01"
    assert "--optimizer" not in words and "--seed" not in words and "--dropout" not in words
    assert words[-4:] == ["--device", "cpu", "--engine", "torch"]


def test_a_cleared_target_is_refused_not_the_default_formula(tmp_path):
    with pytest.raises(UsageError, match="the target is empty"):
        parse({"target": " "}, str(tmp_path))


def test_an_uploads_columns_can_be_left_out(tmp_path):
    from mlpfit.play.settings import command
    from mlpfit.play.uploads import store

    stored = store(str(tmp_path), "t.csv", b"a,b,c,y\n" + b"".join(b"%d,%d,%d,%d\n" % (k, k % 3, k % 5, k) for k in range(30)))
    settings = parse({"target": stored["target"], "drop": "b,c"}, str(tmp_path))
    assert settings.config.data.drop == ["b", "c"] and "--drop b,c" in command(settings)
    assert parse({"target": "x**2", "drop": "b"}, str(tmp_path)).config.data.drop is None  # a formula has no columns
