"""A formula that jumps inside its box gets a diagnostic before training; continuous ones (steep or with
kinks) and poles (diagnose_target's business) do not."""

import pytest

from mlpfit.api import build_config
from mlpfit.data.sources.formula import parse_formula
from mlpfit.fitting.diagnose_jumps import jumps
from mlpfit.fitting.fit import fit


def scan(text, lo=-1.0, hi=1.0):
    formula = parse_formula(text)
    return jumps(formula, {name: (lo, hi) for name in formula.inputs}, list(formula.outputs))


def test_floor_3x_plus_x_is_flagged_with_its_jumps():
    """Was: R² 0.998 with errors of 0.57 at the jumps, and no diagnostic."""
    result = fit(build_config("floor(3*x) + x", {"domain": (-1, 1), "epochs": 5, "plots": False, "threads": 1}),
                 save=False)
    found = {d["code"]: d for d in result.summary["diagnostics"]}
    d = found["discontinuous_target"]
    assert d["evidence"]["jump"] == pytest.approx(1.0) and d["evidence"]["places"] == 5
    assert d["evidence"]["at"] == pytest.approx(-2 / 3, abs=1e-6) and "--samples" in d["hint"]


def test_a_jump_in_one_input_of_two_is_found_along_that_input():
    d = scan("sign(x)*2 + y")
    assert d is not None and d.evidence["input"] == "x" and d.evidence["at"] == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("text", ["sin(40*x)", "abs(x)", "x**2 + y**2", "tanh(200*x)", "max(x, y)",
                                  "1/(1 + 25*x**2)"])
def test_continuous_targets_are_quiet(text):
    assert scan(text) is None  # tanh(200x) is steep but continuous


def test_a_jump_on_the_boxs_edge_is_no_jump_inside_it():
    assert scan("floor(x) + 5", 0.0, 1.0) is None  # floor(x) is 0 on [0, 1) and jumps only at 1
