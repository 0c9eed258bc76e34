"""Each classic failure from the tutorials reproduced, and named by the diagnostics; a good fit is quiet."""

import numpy as np
import pytest

from mlpfit.fitting import diagnose
from mlpfit.config.schema import DataConfig, FitConfig, ModelConfig, RunConfig, TrainConfig
from mlpfit.fitting.fit import fit
from mlpfit.data.scaling import Standardizer


def run(target, domain=(-14.0, 14.0), samples=500, epochs=20, scale=True, **options):
    """A small fit without a run folder; returns {code: diagnostic dict}."""
    model = {k: options.pop(k) for k in ("hidden", "activation", "output_activation") if k in options}
    config = FitConfig(DataConfig(target=target, domain=domain, samples=samples, scale=scale), ModelConfig(**model),
                       TrainConfig(epochs=epochs, **options), RunConfig())
    result = fit(config, save=False)
    return {d["code"]: d for d in result.summary["diagnostics"]}, result


# ---------------------------------------------------------------- reproductions through a real fit


def test_seed_003_linear_net_on_x2_plus_y2_is_named_nonlinear():
    found, _ = run("x**2 + y**2", hidden=[64], activation="identity")
    d = found["nonlinear_target"]
    assert "linear" in d["message"] and "--activation tanh" in d["hint"]


def test_a_linear_net_on_a_linear_target_is_not_flagged():
    found, result = run("x1 + x2", domain=(0.0, 1.0), hidden=[], epochs=600)
    assert "nonlinear_target" not in found
    assert result.summary["metrics"]["train"]["r2"][0] > 0.99


def test_seed_004_gelu_output_cannot_reach_shifted_target():
    found, _ = run("x*exp(x) - 10, exp(x), x**2", domain=(0.1, 2.1), scale=False,
                   hidden=[32] * 2, activation="gelu", output_activation="gelu")
    d = found["output_range"]
    assert "gelu" in d["message"] and "-0.17" in d["message"] and "exp(x) - 10" in d["message"]
    assert "--output-activation identity" in d["hint"]


def test_identity_output_reaches_any_target():
    found, _ = run("x*exp(x) - 10", domain=(0.1, 2.1), scale=False, hidden=[8])
    assert "output_range" not in found


def test_seed_003_unscaled_inputs_and_targets_are_named():
    found, _ = run("x**2 + y**2", scale=False, hidden=[16])
    assert "13." in found["large_inputs"]["message"] and "--no-scale" in found["large_inputs"]["hint"]
    assert "large_targets" in found


def test_scaled_data_raise_no_scale_warning():
    found, _ = run("x**2 + y**2", hidden=[16])
    assert not {"large_inputs", "large_targets", "uneven_inputs"} & set(found)


def test_very_uneven_inputs_under_no_scale():
    found, _ = run("x1 + x2", domain={"x1": (0.0, 0.01), "x2": (0.0, 5.0)}, scale=False, hidden=[])
    assert "uneven_inputs" in found


def test_lr_1000_sgd_diverges_names_lr_and_suggests_smaller(cli, tmp_path):
    found, _ = run("x**2 + y**2", hidden=[16], lr=1000.0, optimizer="sgd")
    d = found["diverged"]
    assert d["severity"] == "error" and "--lr 1000" in d["message"] and "--lr 0.1" in d["hint"]
    res = cli("fit", "x**2 + y**2", "--domain", "-14:14", "--lr", "1000", "--optimizer", "sgd", "--samples", "300",
              "--epochs", "20", "--json", "--out", str(tmp_path / "r"))
    assert res.code == 2 and "--lr 1000" in res.err and "Traceback" not in res.err
    assert any(d["code"] == "diverged" for d in res.json()["diagnostics"])


def test_big_net_on_few_points_of_a_wavy_surface_overfits():
    found, result = run("sin(6*x)*cos(6*y)", domain=(-1.0, 1.0), samples=120, epochs=500, patience=500,
                        hidden=[64, 64], activation="relu")
    # few_samples is folded into overfit when rows are held out: one finding, with the counts in it
    assert "overfit" in found and "few_samples" not in found
    assert "96 training examples for 4417 parameters" in found["overfit"]["message"]
    assert found["overfit"]["evidence"]["parameters"] == 4417
    assert "--samples 480" in found["overfit"]["hint"]


def test_too_few_epochs_underfit():
    found, _ = run("x**2 + y**2", hidden=[8], epochs=1)
    assert "underfit" in found and "--epochs" in found["underfit"]["hint"]


def test_fewer_samples_than_parameters(cli, tmp_path):
    res = cli("fit", "curve10", "--epochs", "50", "--json", "--out", str(tmp_path / "r"))
    codes = {d["code"]: d for d in res.json()["diagnostics"]}
    assert "10 training examples for 16 parameters" in codes["few_samples"]["message"]


def test_good_fit_has_no_warnings(tmp_path):
    found, result = run("x**2 + y**2", samples=1000, epochs=300, hidden=[16, 16])
    assert found == {}
    assert min(result.summary["metrics"]["test"]["r2"]) > 0.99


def test_fit_text_report_prints_the_diagnostic(cli, tmp_path):
    res = cli("fit", "x**2 + y**2", "--domain", "-14:14", "--hidden", "64", "--activation", "identity",
              "--samples", "300", "--epochs", "5", "--out", str(tmp_path / "r"))
    assert res.code == 0 and "! nonlinear_target" in res.out


def test_summary_json_lists_diagnostics(tmp_path):
    import json

    config = FitConfig(DataConfig(target="x**2 + y**2", domain=(-14.0, 14.0), samples=300),
                       ModelConfig(hidden=[8], activation="identity"), TrainConfig(epochs=5),
                       RunConfig(out=str(tmp_path / "r")))
    fit(config)
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert "nonlinear_target" in {d["code"] for d in summary["diagnostics"]}


# ---------------------------------------------------------------- the checks on their own


def test_nonlinearity_reference_separates_linear_and_curved_targets():
    X = np.random.default_rng(0).uniform(-1, 1, (400, 2))
    assert diagnose.linear_on_nonlinear(X, X.sum(axis=1, keepdims=True)) is None
    assert diagnose.linear_on_nonlinear(X, (X**2).sum(axis=1, keepdims=True)) is not None


def test_nonlinearity_check_is_quiet_on_tiny_data():
    X = np.array([[0.0], [1.0]])
    assert diagnose.linear_on_nonlinear(X, X) is None


@pytest.mark.parametrize("activation,low,high", [("relu", -0.5, 1.0), ("sigmoid", 0.2, 1.5), ("tanh", -1.5, 0.0),
                                                 ("softplus", -0.1, 1.0), ("elu", -2.0, 0.0), ("gelu", -0.5, 0.0)])
def test_output_range_per_activation(activation, low, high):
    Y = np.linspace(low, high, 50)[:, None]
    d = diagnose.output_range(activation, Y, True, ["y"])
    assert d is not None and f"--output-activation {activation}" in d.message and "'y'" in d.message


@pytest.mark.parametrize("activation,low,high", [("relu", 0.0, 3.0), ("sigmoid", 0.1, 0.9), ("identity", -50, 50),
                                                 ("gelu", -0.16, 4.0), ("leaky_relu", -9.0, 9.0)])
def test_output_range_reachable(activation, low, high):
    assert diagnose.output_range(activation, np.linspace(low, high, 50)[:, None], True) is None


def test_before_training_on_identity_scalers():
    X = np.random.default_rng(1).uniform(-14, 14, (200, 2))
    Y = (X**2).sum(axis=1, keepdims=True)
    config = FitConfig(DataConfig(scale=False), ModelConfig(hidden=[], activation="tanh"), TrainConfig(), RunConfig())
    found = diagnose.before_training(config=config, X=X, Y=Y, task="regress", x_scaler=Standardizer.identity(2),
                                     y_scaler=Standardizer.identity(1), parameters=3)
    assert {d.code for d in found} == {"large_inputs", "large_targets", "nonlinear_target"}


def summary(train, val, task="regress", held_out=True, diagnostics=()):
    return {"task": task, "epochs": 100, "held_out": held_out, "diagnostics": list(diagnostics),
            "metrics": {"train": train, "val": val}}


def test_overfit_when_validation_far_below_training():
    found = diagnose.after_evaluation(summary({"r2": [0.99]}, {"r2": [0.6]}))
    assert [d.code for d in found] == ["overfit"] and "0.990 vs 0.600" in found[0].message


def test_no_overfit_without_held_out_data_or_gap():
    assert diagnose.after_evaluation(summary({"r2": [0.99]}, {"r2": [0.6]}, held_out=False)) == []
    assert diagnose.after_evaluation(summary({"r2": [0.99]}, {"r2": [0.97]})) == []


def test_classification_underfit_and_overfit():
    under = diagnose.after_evaluation(summary({"accuracy": 0.5}, {"accuracy": 0.5}, task="classify"))
    over = diagnose.after_evaluation(summary({"accuracy": 1.0}, {"accuracy": 0.7}, task="classify"))
    assert [d.code for d in under] == ["underfit"] and [d.code for d in over] == ["overfit"]


def test_divergence_explains_everything_after_it():
    diverged = {"code": "diverged"}
    assert diagnose.after_evaluation(summary({"r2": [-5.0]}, {"r2": [-9.0]}, diagnostics=[diverged])) == []


def test_suggested_lr_is_below_failed_and_at_most_the_default():
    assert diagnose.suggest_lr(1000.0, "sgd") == 0.1
    assert diagnose.suggest_lr(0.05, "adam") == 0.005


def test_constant_columns_do_not_hide_uneven_inputs():
    rng = np.random.default_rng(2)
    X = np.column_stack([np.zeros(100), rng.normal(0, 0.01, 100), rng.normal(0, 50, 100)])
    d = diagnose.uneven_inputs(X)
    assert d is not None and "--no-scale" in d.hint


def test_nonlinearity_check_subsamples_large_data():
    X = np.random.default_rng(3).uniform(-1, 1, (20_000, 3))
    config = FitConfig(DataConfig(), ModelConfig(hidden=[]), TrainConfig(), RunConfig())
    found = diagnose.before_training(config=config, X=X, Y=np.sin(3 * X[:, :1]), task="regress",
                                     x_scaler=Standardizer.fit(X), y_scaler=Standardizer.identity(1), parameters=4)
    assert [d.code for d in found] == ["nonlinear_target"]


def test_nonlinearity_check_skips_wide_inputs():
    X = np.random.default_rng(4).uniform(-1, 1, (300, 100))
    config = FitConfig(DataConfig(), ModelConfig(hidden=[]), TrainConfig(), RunConfig())
    found = diagnose.before_training(config=config, X=X, Y=X[:, :1] ** 2, task="regress",
                                     x_scaler=Standardizer.fit(X), y_scaler=Standardizer.fit(X[:, :1] ** 2),
                                     parameters=101)
    assert found == []


def test_cli_good_fit_with_default_model_is_quiet(cli, tmp_path):
    res = cli("fit", "x**2 + y**2", "--domain", "-14:14", "--samples", "6000", "--epochs", "20", "--json",
              "--out", str(tmp_path / "r"))
    summary = res.json()
    assert res.code == 0 and summary["diagnostics"] == [] and min(summary["metrics"]["test"]["r2"]) > 0.99


def test_cli_seed_004_gelu_output_names_the_bound_and_fix(cli, tmp_path):
    res = cli("fit", "x*exp(x) - 10, exp(x), x**2", "--domain", "0.1:2.1", "--output-activation", "gelu",
              "--no-scale", "--samples", "300", "--epochs", "10", "--out", str(tmp_path / "r"))
    assert res.code == 0
    assert "! output_range: --output-activation gelu cannot output values below -0.17" in res.out
    assert "→ use --output-activation identity" in res.out
