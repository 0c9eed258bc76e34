"""explain: the layer table, the equation of a linear net (seed 000), weight statistics, dead units."""

import json

import numpy as np
import pytest

from mlpfit.report import explain
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.errors import RunFolderError
from mlpfit.fitting.fit import fit


def make_run(tmp_path, target, domain, epochs=60, **model):
    out = str(tmp_path / "run")
    config = FitConfig(DataConfig(target=target, domain=domain, samples=400), ModelConfig(**model),
                       TrainConfig(epochs=epochs), RunConfig(out=out))
    fit(config)
    return out


@pytest.fixture(scope="module")
def addition_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("add"), "x1 + x2", (0.0, 1.0), epochs=1500, hidden=[])  # the example's budget


@pytest.fixture(scope="module")
def relu_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("relu"), "x**2 + y**2", (-14.0, 14.0), hidden=[16, 8], activation="relu")


def test_seed_000_linear_layer_reads_back_as_its_equation(addition_run):
    info = explain.explain(addition_run)
    assert info["linear"] and info["weights"] is None
    assert info["equations"] == ["y = 1.0000·x1 + 1.0000·x2 + 0.0000"]
    assert "y = 1.0000·x1 + 1.0000·x2 + 0.0000" in explain.format_text(info)


def test_identity_hidden_layers_collapse_to_one_equation(tmp_path):
    info = explain.explain(make_run(tmp_path, "2*x1 - 3*x2 + 1", (0.0, 1.0), epochs=600, hidden=[4],
                                    activation="identity"))
    assert info["equations"] == ["y = 2.0000·x1 - 3.0000·x2 + 1.0000"]


def test_layer_table_counts_parameters(relu_run):
    info = explain.explain(relu_run)
    assert [(r["in"], r["out"], r["activation"]) for r in info["layers"]] == [(2, 16, "relu"), (16, 8, "relu"),
                                                                               (8, 1, "identity")]
    assert sum(r["parameters"] for r in info["layers"]) == info["parameters"] == 48 + 136 + 9


def test_nonlinear_run_has_weight_stats_and_dead_unit_counts(relu_run):
    info = explain.explain(relu_run)
    assert info["equations"] is None
    assert [w["name"] for w in info["weights"]][:2] == ["layers.0.weight", "layers.0.bias"]
    rows = info["inactive_units"]
    assert [r["units"] for r in rows] == [16, 8] and all(0 <= r["dead"] <= r["units"] for r in rows)
    assert rows[0]["samples"] == 320  # the run's stored training sample (400 samples, 80% train)
    text = explain.format_text(info)
    assert "layers.1.weight" in text and "units dead" in text


def test_weight_stats_match_numpy():
    w = np.array([[1.0, -2.0], [3.0, 0.5]])
    (row,) = explain.weight_stats({"layers.0.weight": w})
    assert row["mean"] == pytest.approx(0.625) and row["min"] == -2.0 and row["max"] == 3.0
    assert row["norm"] == pytest.approx(np.sqrt(1 + 4 + 9 + 0.25)) and row["std"] == pytest.approx(w.std())


def test_a_unit_that_never_switches_on_is_counted_dead():
    params = {"layers.0.weight": np.array([[1.0], [0.0], [-1.0]]), "layers.0.bias": np.array([0.0, -5.0, 0.0]),
              "layers.1.weight": np.ones((1, 3)), "layers.1.bias": np.zeros(1)}
    X = np.linspace(-1, 1, 11)[:, None]
    (row,) = explain.inactive_units(params, X, "relu", "identity")
    assert row["dead"] == 1 and row["which"] == [1]


def test_saturated_tanh_units_are_counted():
    params = {"layers.0.weight": np.array([[0.1], [0.1]]), "layers.0.bias": np.array([10.0, 0.0]),
              "layers.1.weight": np.ones((1, 2)), "layers.1.bias": np.zeros(1)}
    (row,) = explain.inactive_units(params, np.linspace(-1, 1, 5)[:, None], "tanh", "identity")
    assert row["kind"] == "saturated" and row["saturated"] == 1 and row["which"] == [0]


def test_cli_explain_json_and_text(cli, addition_run):
    res = cli("explain", addition_run, "--json")
    assert res.code == 0 and res.json()["equations"] == ["y = 1.0000·x1 + 1.0000·x2 + 0.0000"]
    text = cli("explain", addition_run)
    assert text.code == 0 and "parameters" in text.out and "identity" in text.out


def test_cli_explain_missing_run_is_one_line_exit_2(cli, tmp_path):
    res = cli("explain", str(tmp_path / "nope"))
    assert res.code == 2 and "does not exist" in res.err and "Traceback" not in res.err


def test_explain_refuses_a_damaged_run(tmp_path):
    run = make_run(tmp_path, "x1 + x2", (0.0, 1.0), hidden=[])
    with open(f"{run}/summary.json", "a") as f:
        f.write(" ")
    with pytest.raises(RunFolderError, match="checksum"):
        explain.explain(run)


def test_explain_shows_the_runs_diagnostics(tmp_path):
    info = explain.explain(make_run(tmp_path, "x**2 + y**2", (-14.0, 14.0), hidden=[8], activation="identity"))
    assert "nonlinear_target" in {d["code"] for d in info["diagnostics"]}
    json.dumps(info)  # the --json object must be plain data


def test_cli_explain_of_an_image_classifier_is_short_and_counts_dead_units(cli, tmp_path):
    run = str(tmp_path / "r")
    assert cli("fit", "digits", "--epochs", "3", "--quiet", "--out", run).code == 0
    res = cli("explain", run)
    first = res.out.splitlines()[0]
    assert res.code == 0 and "(64 inputs)" in first and "px7_7" not in first
    assert "units dead" in res.out
