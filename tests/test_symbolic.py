"""The symbolic readout: term library, sparse search, rounding and printing, and the readouts of real default fits."""

import numpy as np
import pytest

import mlpfit
from mlpfit.data.sources.formula import parse_formula
from mlpfit.errors import UsageError
from mlpfit.report import explain, sparse, symbolic, terms

TRUTHS = [("x**2 + y**2", -2.0, 2.0), ("x1*x2 + x3", -1.0, 1.0), ("3*sin(x) - 1", -3.0, 3.0)]
RUNGE = ("1/(1 + 25*x**2)", -1.0, 1.0)


def r2(truth: np.ndarray, guess: np.ndarray) -> float:
    return 1 - float(np.sum((truth - guess) ** 2) / np.sum((truth - truth.mean()) ** 2))


def evaluate(text: str, names: list[str], X: np.ndarray) -> np.ndarray:
    formula = parse_formula(text)  # what `mlpfit fit "<formula>"` does with it
    assert set(formula.inputs) <= set(names), (text, names)
    return formula.numpy(X[:, [names.index(n) for n in formula.inputs]])


# ---------------------------------------------------------------- default fits read back


@pytest.mark.parametrize("formula, lo, hi", TRUTHS)
def test_a_default_fit_reads_back_as_its_true_formula(default_fit, formula, lo, hi):
    run = default_fit(formula, lo, hi)
    s = explain.explain(run.run_dir, symbolic=True)["symbolic"]
    assert s["found"] and s["terms"] <= 4, s
    assert s["r2_model"] >= 0.999 and s["r2_data"] >= 0.999 and s["r2_truth"] >= 0.999, s
    # Scored here once more, independently: the printed text, parsed, against the truth on other fresh points.
    names = run.summary["inputs"]
    X = np.random.default_rng(123).uniform(lo, hi, (5000, len(names)))
    assert r2(parse_formula(formula).numpy(X)[:, 0], evaluate(s["formula"], names, X)[:, 0]) >= 0.999
    print(f"{formula}: {s['formula']}  (R² vs net {s['r2_model']}, {s['seconds']} s)")


def test_the_runge_function_gets_an_honest_no_with_its_numbers(default_fit, cli):
    run = default_fit(*RUNGE)
    s = cli("explain", run.run_dir, "--symbolic", "--json").json()["symbolic"]
    assert s["found"] is False and s["r2_model"] < sparse.TOLERANCE
    assert 0 < s["terms"] <= sparse.MAX_TERMS + 1 and parse_formula(s["formula"])
    text = cli("explain", run.run_dir, "--symbolic").out
    assert f"no formula of at most {sparse.MAX_TERMS} terms reaches R² 0.99 against the network" in text
    assert s["formula"] in text and f"{s['r2_model']:.6f}" in text and f"{s['r2_truth']:.6f}" in text


def test_cli_json_keeps_the_contract_and_the_api_returns_the_same(default_fit, cli):
    run = default_fit(*TRUTHS[2])
    result = cli("explain", run.run_dir, "--symbolic", "--json")
    assert result.code == 0, result.err
    s = result.json()["symbolic"]
    assert isinstance(s["formula"], str) and isinstance(s["terms"], int)
    assert isinstance(s["r2_model"], float) and isinstance(s["r2_data"], float)
    from_api = mlpfit.load(run.run_dir).explain(symbolic=True)["symbolic"]
    assert {k: v for k, v in from_api.items() if k != "seconds"} == {k: v for k, v in s.items() if k != "seconds"}
    text = cli("explain", run.run_dir, "--symbolic").out
    assert f"y ≈ {s['formula']}" in text


def test_several_outputs_give_one_formula_each_and_a_joined_one(curve_run):
    result = mlpfit.load(curve_run.run_dir).explain(symbolic=True)
    per_output = result["symbolic_outputs"]
    assert [o["output"] for o in per_output] == curve_run.summary["outputs"]
    joined = result["symbolic"]
    assert joined["formula"] == ", ".join(o["formula"] for o in per_output)
    assert len(parse_formula(joined["formula"]).outputs) == 2
    assert joined["r2_model"] == min(o["r2_model"] for o in per_output)
    assert joined["terms"] == sum(o["terms"] for o in per_output)


def test_a_classifier_is_refused_in_one_line(digits_run, cli):
    result = cli("explain", digits_run.run_dir, "--symbolic")
    assert result.code == 2 and "regression" in result.err and len(result.err.strip().splitlines()) == 1
    with pytest.raises(UsageError):
        mlpfit.load(digits_run.run_dir).explain(symbolic=True)


# ---------------------------------------------------------------- the parts


def test_every_library_term_prints_what_it_computes():
    names, box = ["x", "y"], [(0.5, 3.0), (-2.0, 2.0)]
    X = np.random.default_rng(0).uniform([0.5, -2.0], [3.0, 2.0], (50, 2))
    library = terms.library(names, box)
    texts = [t.text for t in library]
    assert len(set(texts)) == len(texts)
    for term in library:
        np.testing.assert_allclose(evaluate(term.text, names, X)[:, 0], term.compute(X), rtol=1e-12, err_msg=term.text)
    assert {"log(x)", "sqrt(x)", "1/x", "x*y", "x**2*y", "y*sin(pi*x)", "x*exp(x)"} <= set(texts)
    assert not {"log(y)", "sqrt(y)", "1/y"} & set(texts)  # y reaches 0 and below


def test_the_library_stays_small_for_many_inputs():
    names = [f"x{i}" for i in range(1, 16)]
    library = terms.library(names, [(-1.0, 1.0)] * 15)
    assert len(library) < 400 and "x1*x2" not in {t.text for t in library}  # degree 1 products beyond 12 inputs


def test_sparse_fit_finds_the_exact_support_among_many_terms():
    names, box = ["x", "y"], [(-2.0, 2.0), (-2.0, 2.0)]
    library = terms.library(names, box)
    X = np.random.default_rng(1).uniform(-2, 2, (2000, 2))
    y = 2 * X[:, 0] * X[:, 1] - 0.5 * np.cos(3 * X[:, 0]) + 1.5
    fit, found = sparse.sparse_fit(terms.columns(library, X), y)
    assert found and {library[i].text for i in fit.support} == {"x*y", "cos(3*x)"}
    text = symbolic.rounded_formula(fit, library, terms.columns(library, X), y)
    assert text == "2*x*y - 0.5*cos(3*x) + 1.5"


def test_terms_that_cancel_each_other_are_no_explanation():
    z = np.random.default_rng(2).normal(size=(500, 1))
    noise = 1e-3 * np.random.default_rng(3).normal(size=(500, 1))
    Z = np.hstack([z, z + noise])  # near duplicates: a tiny target is their huge difference
    target = (noise[:, 0] - noise[:, 0].mean()) / noise[:, 0].std()
    scorer = sparse.Scorer(*sparse.standardize(Z, target))
    assert scorer.r2((0, 1)) > 0.99 and not scorer.plain((0, 1)) and scorer.plain((0,))


@pytest.mark.parametrize("r2_by_size, good_enough, expected", [
    ({1: 0.95, 2: 0.995, 3: 0.9999}, 0.9999, (3, True)),  # 3 terms cut the unexplained variance 50-fold
    ({1: 0.95, 2: 0.995, 3: 0.999}, 0.9999, (2, True)),  # only 5-fold: the shorter one stays
    ({1: 0.99999, 2: 1.0}, 0.9999, (1, True)),  # good enough already: a term more only fits the net's error
    ({1: 0.995, 2: 0.99999}, 0.99, (1, True)),  # the network matches its data only to 0.995: so is the formula
    ({1: 0.5, 2: 0.8, 3: 0.81}, 0.9999, (2, False)),  # none within tolerance: the shortest near the best
])
def test_choose_prefers_fewer_terms(r2_by_size, good_enough, expected):
    assert sparse.choose(r2_by_size, good_enough) == expected


def test_formulas_print_in_mlpfits_grammar():
    assert symbolic.format_sum(["x", "sin(x)", "1/x"], np.array([1.0, -3.0, 2.0]), -1.0) == "x - 3*sin(x) + 2/x - 1"
    assert symbolic.format_sum(["x", "y"], np.array([-1.0, 0.25]), 0.0) == "-x + 0.25*y"
    assert symbolic.format_sum(["x"], np.array([0.00001]), 0.5) == "0.00001*x + 0.5"
    assert symbolic.round_significant(3.14159, 3) == 3.14 and symbolic.round_significant(-0.0012345, 2) == -0.0012


def test_input_names_the_grammar_cannot_read_are_renamed_and_said_so():
    assert symbolic.variable_names(["weight kg", "2nd", "pi", "sin", "lambda", "x"]) == \
        ["weight_kg", "x_2nd", "pi_", "sin_", "lambda_", "x"]

    class Product:  # stands in for a fitted network: the product of two columns of a table
        task, inputs, outputs = "regress", ["weight kg", "b"], ["out"]

        def predict(self, X):
            return (X[:, 0] * X[:, 1] + 0.5)[:, None]

    X = np.random.default_rng(0).uniform(0, 2, (300, 2))
    samples = {"train_X": X, "train_Y": Product().predict(X)}
    result = symbolic.search(Product(), {"inputs": Product.inputs}, samples)
    s = result["symbolic"]
    assert s["formula"] == "weight_kg*b + 0.5" and s["renamed"] == {"weight_kg": "weight kg"} and s["r2_data"] == 1.0
    assert "weight_kg stands for the input 'weight kg'" in symbolic.format_text(result)


def test_a_constant_network_reads_back_as_its_constant():
    class Constant:
        task, inputs, outputs = "regress", ["x"], ["y"]

        def predict(self, X):
            return np.full((len(X), 1), -2.5)

    s = symbolic.search(Constant(), {"inputs": ["x"], "domain": {"x": [0.0, 1.0]}}, None)["symbolic"]
    assert s["formula"] == "-2.5" and s["r2_model"] == 1.0 and s["r2_data"] is None


def test_the_output_is_not_named_like_an_input(tmp_path, cli):
    run = mlpfit.fit("x*y - 2*y", domain=(-1, 1), samples=500, epochs=30, out=str(tmp_path / "run"))
    text = cli("explain", run.summary["run"], "--symbolic").out
    assert " f ≈ " in text and " y ≈ " not in text, text
    linear = mlpfit.fit("x + 2*y", domain=(-1, 1), samples=300, hidden="none", epochs=30, out=str(tmp_path / "lin"))
    assert explain.explain(linear.summary["run"])["equations"][0].startswith("f = ")
    assert "f = " in (tmp_path / "lin" / "report.html").read_text()
