"""The symbolic readout: the laws of real default fits recovered, honest refusals, and its parts
(the grammar bridge, constants, the oracle's splits, Operon's trees, the choice)."""

import numpy as np
import pytest

import mlpfit
from mlpfit.data.sources.formula import parse_formula
from mlpfit.errors import FormulaError, UsageError
from mlpfit.network.equation import output_labels
from mlpfit.report import (constants, enumeration, explain, expression, law_search, operon, oracle, pareto, rational,
                           symbolic, terms)
from mlpfit.runfolder import store as runs
from mlpfit.runfolder.run import checked_network

TRUTHS = [("x**2 + y**2", -2.0, 2.0), ("x1*x2 + x3", -1.0, 1.0), ("3*sin(x) - 1", -3.0, 3.0)]
LAWS = [("2*sin(x)*cos(y)", -1.0, 1.0), ("exp(-theta**2/2)/sqrt(2*pi)", 1.0, 3.0)]  # from issue 28's list
NO_LAW = ("sin(40*x)", -1.0, 1.0)  # with --extend 0 the net cannot follow it, and no short formula follows the net


def same_function(text: str, truth: str, names: list[str], box) -> bool:
    """The printed formula, parsed as `mlpfit fit` would, equals the truth to 1e-9 on random points."""
    lows, highs = np.array(box, dtype=float).T
    X = lows + (highs - lows) * np.random.default_rng(123).random((3000, len(names)))
    found, want = parse_formula(text), parse_formula(truth)
    got = found.numpy(X[:, [names.index(n) for n in found.inputs]])[:, 0]
    expected = want.numpy(X[:, [names.index(n) for n in want.inputs]])[:, 0]
    return bool(np.max(np.abs(got - expected) / (1 + np.abs(expected))) <= 1e-9)


def readout(run_dir: str, **options) -> dict:
    files = runs.read(run_dir)
    return symbolic.search(checked_network(files), files.summary, dict(files.samples), **options)


# ---------------------------------------------------------------- default fits read back


@pytest.mark.parametrize("formula, lo, hi", TRUTHS + LAWS)
def test_a_default_fit_reads_back_as_its_law_with_exact_constants(default_fit, formula, lo, hi):
    """Without Operon (the quick path, and the test stays fast): splits, terms and polynomials suffice here."""
    run = default_fit(formula, lo, hi)
    s = readout(run.run_dir, use_operon=False)["symbolic"]
    names = run.summary["inputs"]
    assert s["found"] and same_function(s["formula"], formula, names, [(lo, hi)] * len(names)), s
    assert s["r2_model"] >= 0.999 and s["r2_data"] >= 0.999 and s["r2_truth"] >= 0.999999, s
    assert s["pareto"] and all(p["r2_model"] <= 1 for p in s["pareto"])
    print(f"{formula}: {s['formula']}  ({s['seconds']} s)")


def test_a_nested_law_of_one_input_is_read_back_without_operon(default_fit):
    """sin(x**2)*cos(x) - 1: no sum of library terms, and Operon misses it even on exact samples; the
    enumeration of every short formula has it (issue 28 names it)."""
    run = default_fit("sin(x**2)*cos(x) - 1", -1.0, 1.0)
    s = readout(run.run_dir, use_operon=False)["symbolic"]
    assert s["found"] and same_function(s["formula"], "sin(x**2)*cos(x) - 1", ["x"], [(-1, 1)]), s


def test_a_law_of_a_ratio_times_an_input_is_read_back(tmp_path):
    """m0/sqrt(1 - v**2/c**2) (issue 28 names it): a product of m0 and a function of v/c, whose effect
    (v/c at most 2/3) is a few times the network's own error; lookalikes of the piece such as
    exp(1/cos(v/c) - 1) are as close to the network, and only the data tell the law apart."""
    box = {"m0": (1.0, 5.0), "v": (1.0, 2.0), "c": (3.0, 10.0)}
    run = mlpfit.fit("m0/sqrt(1 - v**2/c**2)", domain=box, out=str(tmp_path / "run"))
    s = readout(run.summary["run"], use_operon=False)["symbolic"]
    names = run.summary["inputs"]
    assert s["found"] and same_function(s["formula"], "m0/sqrt(1 - v**2/c**2)", names, [box[n] for n in names]), s


def test_a_law_homogeneous_in_two_inputs_is_read_back(default_fit):
    """Feynman I.6.2, a Gaussian of theta/sigma divided by sigma: no sum, no product, no plain ratio;
    f = sigma**-1 * g(theta/sigma) is seen in the gradient (Euler's theorem) and g searched alone."""
    law = "exp(-(theta/sigma)**2/2)/(sqrt(2*pi)*sigma)"
    run = default_fit(law, 1.0, 3.0)
    s = readout(run.run_dir, use_operon=False)["symbolic"]
    assert s["found"] and same_function(s["formula"], law, ["sigma", "theta"], [(1, 3), (1, 3)]), s


def test_the_quick_path_without_operon_takes_a_product_of_four_inputs_apart(default_fit):
    run = default_fit("n*k*T/V", 1.0, 5.0)
    s = readout(run.run_dir, use_operon=False)["symbolic"]
    assert s["search"] == "oracle splits and terms"
    assert s["found"] and same_function(s["formula"], "n*k*T/V", ["n", "k", "T", "V"], [(1, 5)] * 4), s


def test_measurements_in_a_csv_give_their_law_back(cli, tmp_path):
    rng = np.random.default_rng(5)
    m, v = rng.uniform(1, 5, 500), rng.uniform(1, 5, 500)
    energy = m * v**2 / 2 * (1 + 0.01 * rng.standard_normal(500))  # 1% noise
    (tmp_path / "energy.csv").write_text("m,v,E\n" + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in zip(m.tolist(), v.tolist(), energy.tolist())))
    assert cli("fit", str(tmp_path / "energy.csv"), "--target", "E", "--out", str(tmp_path / "run"), "--quiet").code == 0
    result = cli("explain", str(tmp_path / "run"), "--symbolic", "--json")
    s = result.json()["symbolic"]
    assert s["found"] and same_function(s["formula"], "m*v**2/2", ["m", "v"], [(1, 5), (1, 5)]), s
    assert 0.99 < s["r2_data"] < 0.9999  # the noise stays in the data, not in the law
    assert isinstance(s["terms"], int) and isinstance(s["r2_model"], float) and s["pareto"]


def test_no_formula_is_the_answer_when_none_reaches_the_tolerance(tmp_path, cli):
    formula, lo, hi = NO_LAW
    run = mlpfit.fit(formula, domain=(lo, hi), extend=0, out=str(tmp_path / "run"))  # the net underfits (R² ~0.8)
    s = cli("explain", run.summary["run"], "--symbolic", "--json").json()["symbolic"]
    assert s["found"] is False and s["formula"] is None and s["r2_model"] is None and s["terms"] == 0
    assert s["pareto"] and max(p["r2_model"] for p in s["pareto"]) < symbolic.TOLERANCE  # what was tried, shown as such
    text = symbolic.format_text({"symbolic": s})
    assert "y: none found" in text and "y =" not in text and "≈" not in text


def test_cli_json_keeps_the_contract_and_the_api_returns_the_same(default_fit, cli):
    run = default_fit(*TRUTHS[2])
    result = cli("explain", run.run_dir, "--symbolic", "--json")
    assert result.code == 0, result.err
    s = result.json()["symbolic"]
    assert isinstance(s["formula"], str) and isinstance(s["terms"], int) and s["terms"] == 2
    assert isinstance(s["r2_model"], float) and isinstance(s["r2_data"], float)
    assert all({"formula", "complexity", "r2_model"} <= set(p) for p in s["pareto"])
    from_api = mlpfit.load(run.run_dir).explain(symbolic=True)["symbolic"]
    assert {k: v for k, v in from_api.items() if k != "seconds"} == {k: v for k, v in s.items() if k != "seconds"}
    text = cli("explain", run.run_dir, "--symbolic").out
    assert f"y = {s['formula']}" in text


def test_a_classifier_is_refused_in_one_line(digits_run, cli):
    result = cli("explain", digits_run.run_dir, "--symbolic")
    assert result.code == 2 and "regression" in result.err and len(result.err.strip().splitlines()) == 1
    with pytest.raises(UsageError):
        mlpfit.load(digits_run.run_dir).explain(symbolic=True)


# ---------------------------------------------------------------- stand-ins for a network


class Law:
    """Stands in for a fitted network that computes a law exactly."""

    task, outputs = "regress", ["out"]

    def __init__(self, inputs, function):
        self.inputs, self.function = inputs, function

    def predict(self, X):
        return self.function(np.asarray(X, dtype=float))[:, None]


def test_several_outputs_give_one_formula_each_and_a_joined_one():
    class Two(Law):
        outputs = ["a", "b"]

        def predict(self, X):
            return np.column_stack([X[:, 0] * X[:, 1], X[:, 0] + 2 * X[:, 1]])

    net = Two(["x", "y"], None)
    X = np.random.default_rng(0).uniform(1, 2, (300, 2))
    result = symbolic.search(net, {"inputs": net.inputs}, {"train_X": X, "train_Y": net.predict(X)}, use_operon=False)
    assert [o["formula"] for o in result["symbolic_outputs"]] == ["x*y", "x + 2*y"]
    joined = result["symbolic"]
    assert joined["formula"] == "x*y, x + 2*y" and len(parse_formula(joined["formula"]).outputs) == 2
    assert joined["terms"] == 3 and joined["found"]


def test_input_names_the_grammar_cannot_read_are_renamed_and_said_so():
    assert symbolic.variable_names(["weight kg", "2nd", "pi", "sin", "lambda", "x"]) == \
        ["weight_kg", "x_2nd", "pi_", "sin_", "lambda_", "x"]
    net = Law(["weight kg", "b"], lambda X: X[:, 0] * X[:, 1] + 0.5)
    X = np.random.default_rng(0).uniform(0, 2, (300, 2))
    result = symbolic.search(net, {"inputs": net.inputs}, {"train_X": X, "train_Y": net.predict(X)}, use_operon=False)
    s = result["symbolic"]
    assert s["formula"] == "b*weight_kg + 1/2" and s["renamed"] == {"weight_kg": "weight kg"} and s["r2_data"] == 1.0
    assert "weight_kg stands for the input 'weight kg'" in symbolic.format_text(result)


def test_a_constant_network_reads_back_as_its_constant():
    net = Law(["x"], lambda X: np.full(len(X), -2.5))
    s = symbolic.search(net, {"inputs": ["x"], "domain": {"x": [0.0, 1.0]}}, None, use_operon=False)["symbolic"]
    assert s["formula"] == "-2.5" and s["r2_model"] == 1.0 and s["r2_data"] is None


def test_a_closer_fit_to_the_network_loses_to_a_simpler_one_within_its_error():
    """The network's own error on the data decides: a formula closer to the net than that only fits the net's
    error, so the simpler one within it is the answer."""
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (400, 1))
    wobble = lambda X: 0.002 * np.sin(9 * X[:, 0])  # noqa: E731 - the network's own error
    net = Law(["x"], lambda X: X[:, 0] ** 2 + wobble(X))
    judge = symbolic.Judge(["x"], X, net.predict(X)[:, 0], X, X[:, 0] ** 2, net.predict(X)[:, 0])
    x = expression.symbols(["x"])[0]
    import sympy

    closer = x**2 + sympy.Float(0.002) * sympy.sin(9 * x)
    answer, front = symbolic.choose([closer, sympy.Float(1.0001) * x**2], ["x"], X, net.predict(X)[:, 0], judge)
    assert answer == x**2 and len(front) >= 1
    assert not judge(sympy.Float(0.9) * x**2 + sympy.Float(0.1) * x)  # further from the data than the network


def test_a_law_far_closer_to_the_data_wins_over_a_lookalike_a_node_shorter():
    """Both are within the network's error, but exact data tell them apart: the law's error there is
    none, the lookalike's is the network's."""
    import sympy

    rng = np.random.default_rng(1)
    X = rng.uniform(0.1, 0.6, (400, 1))
    gamma = lambda X: 1 / np.sqrt(1 - X[:, 0] ** 2)  # noqa: E731
    net = Law(["r"], lambda X: gamma(X) + 0.006 * np.sin(9 * X[:, 0]))
    judge = symbolic.Judge(["r"], X, net.predict(X)[:, 0], X, gamma(X), net.predict(X)[:, 0])
    r = expression.symbols(["r"])[0]
    law, lookalike = 1 / sympy.sqrt(1 - r**2), sympy.exp(1 / sympy.cos(r) - 1)
    assert judge(law) and judge(lookalike) and expression.complexity(lookalike) < expression.complexity(law)
    answer, _ = symbolic.choose([lookalike, law], ["r"], X, net.predict(X)[:, 0], judge)
    assert answer == law


def test_a_long_formula_is_no_answer_however_close():
    """A polynomial of degree 9 follows sin(3x)*exp(x/2) to the network's error and beyond, and reads
    nothing back: no law is found, and the front still shows it."""
    X = np.random.default_rng(1).uniform(-1, 1, (400, 1))
    truth = np.sin(3 * X[:, 0]) * np.exp(X[:, 0] / 2)
    net = truth + 1e-3 * np.sin(7 * X[:, 0])
    judge = symbolic.Judge(["x"], X, net, X, truth, net)
    polynomial = law_search.polynomial_expr(np.polyfit(X[:, 0], truth, 9)[::-1], [(0,) * k for k in range(10)], ["x"])
    assert judge(polynomial) and expression.complexity(polynomial) > symbolic.SHORT
    answer, front = symbolic.choose([polynomial], ["x"], X, net, judge)
    assert answer is None and front
    assert not judge.answer(polynomial)  # nor does it spare Operon's search as an answer would


# ---------------------------------------------------------------- the parts


def test_every_short_formula_of_one_input_is_tried():
    import sympy

    x = expression.symbols(["x"])[0]
    X = np.random.default_rng(0).uniform(-1, 1, 800)
    found = enumeration.search(X, np.sin(X**2) * np.cos(X) - 1, x, tolerance=1e-3)
    errors = [pareto.relative_error(np.sin(X**2) * np.cos(X) - 1, expression.evaluator(e, ["x"])(X[:, None])) for e in found]
    assert min(errors) < 1e-9
    exact = found[int(np.argmin(errors))]
    assert constants.rounded(exact, 1e-6) == sympy.sin(x**2) * sympy.cos(x) - 1
    # the simplest within the tolerance come first, scaled as the piece of a product is: a/sqrt(1 - r**2)
    r = np.random.default_rng(1).uniform(0.1, 0.6, 800)
    found = enumeration.search(r, 7 / np.sqrt(1 - r**2), x, tolerance=1e-6)
    assert 7 / sympy.sqrt(1 - x**2) in [constants.rounded(e, 1e-6) for e in found], found


def test_a_rational_law_is_read_through_the_networks_error():
    """A centre of mass (Feynman I.18.4) is P/Q of degrees 2 and 1; the null vector of a network's
    values carries small spurious coefficients that thinning drops."""
    import sympy

    names = ["m1", "m2", "r1", "r2"]
    X = np.random.default_rng(0).uniform(1, 5, (800, 4))
    law = (X[:, 0] * X[:, 2] + X[:, 1] * X[:, 3]) / (X[:, 0] + X[:, 1])
    net = law * (1 + 0.004 * np.sin(3 * X[:, 0] + X[:, 3]))  # a network's smooth error
    found = rational.search(X, net, names, tolerance=0.02)
    m1, m2, r1, r2 = expression.symbols(names)
    assert any(sympy.simplify(e - (m1 * r1 + m2 * r2) / (m1 + m2)) == 0 for e in found), found
    assert rational.search(X[:, :1], np.exp(X[:, 0]), names[:1], tolerance=1e-4) == []  # no P/Q of low degree is exp


def test_the_enumeration_does_not_nest_sin_cos_exp_and_log():
    probes = np.linspace(-1, 1, enumeration.PROBES)
    levels = enumeration.built(probes, 4)
    values = np.concatenate([level.values for level in levels.values()])
    distance = lambda v: np.min(np.max(np.abs(values - v), axis=1))  # noqa: E731
    assert distance(np.sin(probes**2)) < 1e-12 and distance(np.exp(-probes)) < 1e-12
    assert distance(np.sin(np.cos(probes))) > 1e-3 and distance(np.exp(np.exp(probes))) > 1e-3
    assert distance(np.e * probes) > 1e-3 and distance(np.sqrt(2) * probes) > 1e-3  # scales are a*f's to fit




def test_formulas_cross_the_grammar_both_ways():
    names = ["x", "y"]
    for text in ("sin(x)*cos(y) - 1", "exp(-x**2/2)/sqrt(2*pi)", "log(x + 1) + e*y", "abs(x)/(y + 3) ^ 2", "3/2*x"):
        expr = expression.from_text(text, names)
        printed = expression.to_text(expr)
        X = np.random.default_rng(0).uniform(0.5, 2, (200, 2))
        assert same_function(printed, text, names, [(0.5, 2), (0.5, 2)]), (text, printed)
        formula = parse_formula(text)
        np.testing.assert_allclose(expression.evaluator(expr, names)(X),
                                   formula.numpy(X[:, [names.index(n) for n in formula.inputs]])[:, 0], rtol=1e-12)
    assert expression.to_text(expression.from_text("0.000012345*x", names)) == "0.000012345*x"  # never 1.2e-5
    with pytest.raises(FormulaError):
        expression.from_text("__import__('os').system('true')", names)


def test_constants_are_recognized_only_where_the_fit_allows():
    import sympy

    x = expression.symbols(["x"])[0]
    X = np.random.default_rng(0).uniform(1, 3, (500, 1))
    y = np.exp(-X[:, 0] ** 2 / 2) / np.sqrt(2 * np.pi)
    rough = sympy.Float(0.3991) * sympy.exp(sympy.Float(-0.5003) * x**2)
    exact = lambda e: pareto.relative_error(y, expression.evaluator(e, ["x"])(X)) < 1e-9  # noqa: E731
    found = constants.recognize(constants.refit(rough, ["x"], X, y), ["x"], X, y, exact)
    assert found == sympy.exp(-x**2 / 2) / sympy.sqrt(2 * sympy.pi)
    assert constants.recognize(rough, ["x"], X, 0.4 * y, exact) != found  # 0.4/sqrt(2*pi) is no simple constant
    assert sympy.Integer(0) == constants.nearby(0.3991)[0] and 1 / sympy.sqrt(2 * sympy.pi) in constants.nearby(0.3991)


def law_problem(function, names, box):
    return oracle.Problem(function, tuple(expression.symbols(names)), tuple(box))


@pytest.mark.parametrize("function, box, how", [
    (lambda X: X[:, 0] * X[:, 1] * X[:, 2] / X[:, 3], [(1, 5)] * 4, "product"),
    (lambda X: np.sin(X[:, 0]) + X[:, 1] ** 2, [(-1, 1)] * 2, "sum"),
    (lambda X: X[:, 1] + 0 * X[:, 0], [(-1, 1)] * 2, "drop"),
    (lambda X: 1 / np.sqrt(1 - X[:, 0] ** 2 / X[:, 1] ** 2), [(1, 2), (3, 10)], "merge"),
    (lambda X: np.exp(-(X[:, 0] - X[:, 1]) ** 2), [(-1, 1), (0, 2)], "merge"),
    (lambda X: X[:, 0] * X[:, 1] + np.sin(X[:, 0]), [(-1, 1)] * 2, None),
])
def test_the_oracle_sees_how_a_law_comes_apart(function, box, how):
    names = [f"x{k}" for k in range(len(box))]
    split = oracle.split(law_problem(function, names, box), 1e-6, np.random.default_rng(0))
    assert (split and split.how) == how
    if how == "merge":
        part = split.parts[0]
        Z = part.sample(200, np.random.default_rng(1))
        assert all(lo <= z <= hi for row in Z for z, (lo, hi) in zip(row, part.box))
        assert np.isfinite(part.function(Z)).all()


def test_the_parts_of_a_positive_product_are_positive_and_a_ratio_skips_its_corners():
    """log and 1/y**2 apply only to a positive part (the grid's singular vectors have either sign); a
    ratio's extremes are single corners of the box, where a network is least accurate."""
    problem = law_problem(lambda X: X[:, 0] / np.sqrt(1 - X[:, 1] ** 2 / X[:, 2] ** 2), ["m", "v", "c"],
                          [(1, 5), (1, 2), (3, 10)])
    rng = np.random.default_rng(0)
    for seed in range(4):
        split = oracle.split(problem, 1e-6, np.random.default_rng(seed))
        assert split.how == "product"
        for part in split.parts:
            assert np.all(part.function(part.sample(100, rng)) > 0)
    rest = oracle.split(problem, 1e-6, rng).parts[1]
    merged = oracle.split(rest, 1e-6, rng).parts[0]
    (lo, hi), = merged.box
    assert 0.1 < lo < 0.13 and 0.5 < hi < 0.62  # v/c spans 0.1 to 2/3 in the corners


def test_a_power_times_a_function_of_a_ratio_is_merged_both_ways():
    problem = law_problem(lambda X: np.exp(-(X[:, 0] / X[:, 1]) ** 2 / 2) / X[:, 1], ["t", "s"], [(1, 3), (1, 3)])
    split = oracle.split(problem, 1e-6, np.random.default_rng(0))
    z0, z1 = oracle.placeholders(2)
    assert split.how == "merge" and split.factors == (z1**-1, z0**-1)  # t/s with 1/s, and s/t with 1/t
    assert [part.columns for part in split.parts] == [(z0 / z1,), (z1 / z0,)]
    u = split.parts[0].sample(200, np.random.default_rng(1))
    np.testing.assert_allclose(split.parts[0].function(u), np.exp(-u[:, 0] ** 2 / 2), rtol=1e-9)
    # v/c stays small where c/v does not: one way only, and a plain ratio has no factor
    ratio = law_problem(lambda X: 1 / np.sqrt(1 - X[:, 0] ** 2 / X[:, 1] ** 2), ["v", "c"], [(1, 2), (3, 10)])
    split = oracle.split(ratio, 1e-6, np.random.default_rng(0))
    assert split.how == "merge" and split.factors == (None,) and split.parts[0].columns == (z0 / z1,)


def test_a_part_of_one_input_is_asked_of_its_interpolant_where_that_is_as_good():
    """A part nested in others costs hundreds of network rows per point; its interpolant costs none."""
    rows = []

    def law(X):
        rows.append(len(X))
        return X[:, 0] * np.exp(-X[:, 1]) * np.where(X[:, 2] > 0.3, 2.0, 1.0)  # a step in x2: no interpolant

    problem = law_problem(law, ["a", "b", "c"], [(1, 2), (0, 1), (0, 1)])
    rng = np.random.default_rng(0)
    split = oracle.split(problem, 1e-9, rng)
    assert split.how == "product" and len(split.parts[0].columns) == 1
    first = split.parts[0]
    Z = first.sample(1000, rng)
    rows.clear()
    values = first.function(Z)
    assert sum(rows) == 0 and np.corrcoef(values, Z[:, 0])[0, 1] > 0.999999  # x0, up to a scale
    steps = [p for p in oracle.split(split.parts[1], 1e-9, rng).parts if p.columns == (oracle.placeholders(2)[1],)]
    assert steps and (steps[0].function(Z[:10]) > 0).all() and sum(rows) > 0  # the step is asked of the function itself


def test_the_readout_of_a_law_of_four_inputs_asks_the_network_for_few_rows():
    """Nested parts multiply the network's rows per point (24 x 8 x 16 for the innermost of n*k*T/V):
    once 5 million rows, most of a readout's time."""
    rows = []

    def law(X):
        rows.append(len(X))
        return X[:, 0] * X[:, 1] * X[:, 2] / X[:, 3]

    net = Law(["n", "k", "T", "V"], law)
    X = np.random.default_rng(0).uniform(1, 5, (400, 4))
    s = symbolic.search(net, {"inputs": net.inputs}, {"train_X": X, "train_Y": law(X)[:, None]}, use_operon=False)
    assert s["symbolic"]["formula"] == "T*k*n/V" and sum(rows) < 1_000_000, sum(rows)


def test_operon_is_spared_once_the_whole_has_an_answer_and_stops_at_the_deadline(monkeypatch):
    import time

    def refused(*args, **kwargs):
        raise AssertionError("Operon ran")

    monkeypatch.setattr(operon, "search", refused)
    problem = law_problem(lambda X: X[:, 0] * X[:, 1], ["x", "y"], [(1, 2), (1, 2)])
    answered = law_search.Settings(tolerance=1e-6, noise=1e-6, operon=True, answered=lambda exprs: bool(exprs))
    assert law_search.candidates(problem, answered, np.random.default_rng(0))
    late = law_search.Settings(tolerance=1e-6, noise=1e-6, operon=True, deadline=time.monotonic() - 1)
    X = problem.sample(100, np.random.default_rng(0))
    assert law_search.direct_search(X, X[:, 0] * X[:, 1], ["x", "y"], late, np.random.default_rng(0)) == []


def test_the_simple_pair_of_two_parts_is_refitted_though_the_parts_errors_add_up():
    """Each part is within the network's error, their product a little beyond (n*k*T/V of a seed-1 fit
    came back none found): the closest pair sets the scale of what is within reach."""
    import sympy

    names = ["a", "b"]
    a, b = expression.symbols(names)
    X = np.random.default_rng(0).uniform(1, 5, (500, 2))
    y = X[:, 0] / X[:, 1] * (1 + 0.005 * np.sin(3 * X[:, 0]))
    lookalikes = [a * (1 + sympy.Float(c) * sympy.sin(3 * a)) for c in (0.001, 0.0015, 0.002, 0.0025)]
    placed = [[a] + lookalikes, [1 / b, (1 + sympy.Float(0.0005) * sympy.sin(5 * b)) / b]]
    pairs = law_search.likeliest("product", placed, names, X, y, reach=1e-4)
    assert pairs[0] == (0, 0)  # the simplest first


def test_a_split_law_is_put_back_together_with_its_constants():
    problem = law_problem(lambda X: 2 * np.sin(X[:, 0]) * np.cos(X[:, 1]), ["x", "y"], [(-1, 1)] * 2)
    settings = law_search.Settings(tolerance=1e-6, noise=1e-6, operon=False)
    found = law_search.solve(problem, settings, np.random.default_rng(0))
    Z = problem.sample(500, np.random.default_rng(2))
    errors = [pareto.relative_error(problem.function(Z), expression.evaluator(e, ["z0", "z1"])(Z)) for e in found]
    assert min(errors) < 1e-6


def test_operon_trees_read_back_as_what_operon_computes():
    from pyoperon.sklearn import SymbolicRegressor

    X = np.random.default_rng(0).uniform(1, 3, (300, 2))
    y = np.sin(X[:, 0]) * X[:, 1] / (X[:, 0] + 1) - np.sqrt(X[:, 1])
    model = SymbolicRegressor(allowed_symbols=operon.SYMBOLS, objectives=["r2", "length"], max_evaluations=20_000,
                              random_state=0, n_threads=1)
    model.fit(X, y)
    variables = {h: ["a", "b"][int(n[1:]) - 1] for h, n in model.variables_.items()}
    for solution in model.pareto_front_:
        expr = operon.tree_to_sympy(solution["tree"], variables)
        np.testing.assert_allclose(expression.evaluator(expr, ["a", "b"])(X), model.evaluate_model(solution["tree"], X),
                                   rtol=1e-5, atol=1e-6)


def test_pareto_front_keeps_only_what_nothing_beats():
    import sympy

    items = [pareto.Scored(sympy.Integer(k), c, e) for k, (c, e) in enumerate([(3, 0.5), (5, 0.1), (4, 0.6), (9, 0.1)])]
    assert [(s.complexity, s.error) for s in pareto.front(items)] == [(3, 0.5), (5, 0.1)]


def test_sums_of_terms_print_in_mlpfits_grammar():
    assert terms.format_sum(["x", "sin(x)", "1/x"], np.array([1.0, -3.0, 2.0]), -1.0) == "x - 3*sin(x) + 2/x - 1"
    assert terms.format_sum(["x", "y"], np.array([-1.0, 0.25]), 0.0) == "-x + 0.25*y"
    assert output_labels(["x ** 2"], ["x"]) == ["y"] and output_labels(["price", "cost"], ["a"]) == ["price", "cost"]


def test_the_output_is_not_named_like_an_input(tmp_path, cli):
    run = mlpfit.fit("x*y - 2*y", domain=(-1, 1), samples=500, epochs=30, out=str(tmp_path / "run"))
    text = cli("explain", run.summary["run"], "--symbolic").out
    readout = text[text.index("symbolic readout"):].splitlines()[1:]
    assert readout[0].startswith(("  f = ", "  f: none found")), text
    assert not any(line.startswith(("  y = ", "  y:")) for line in readout), text
    linear = mlpfit.fit("x + 2*y", domain=(-1, 1), samples=300, hidden="none", epochs=30, out=str(tmp_path / "lin"))
    assert explain.explain(linear.summary["run"])["equations"][0].startswith("f = ")
    assert "f = " in (tmp_path / "lin" / "report.html").read_text()
