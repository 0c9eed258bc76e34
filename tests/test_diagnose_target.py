"""Formula target checks (issue 15): a pole inside the domain, and a target too steep for its samples."""

import numpy as np

from mlpfit.api import build_config
from mlpfit.fitting.diagnose import neighbour_r2
from mlpfit.fitting.diagnose_target import (
    avoiding_domain,
    singular_target,
    steep_target,
)
from mlpfit.fitting.fit import fit


def codes(target, **options):
    result = fit(build_config(target, {"plots": False, "threads": 1, **options}), save=False)
    return {d["code"]: d for d in result.summary["diagnostics"]}


def test_one_over_x_on_minus_one_to_one_is_named_with_its_numbers():
    found = codes("1/x", domain=(-1, 1), epochs=5)
    d = found["singular_target"]
    assert "pole" in d["message"] and d["evidence"]["top_share"] > 0.5 and d["evidence"]["tail_ratio"] > 100
    assert abs(d["evidence"]["worst_at"]["x"]) < 0.01  # the worst sample sits next to the pole
    assert "--domain 0.1:1" in d["hint"]
    assert "underfit" not in found  # the pole explains the score: no "train longer" or "larger net"


def test_follow_singular_target_hint():
    hint = codes("1/x", domain=(-1, 1), epochs=5)["singular_target"]["hint"]
    lo, hi = (float(v) for v in hint.split("--domain ")[1].split(":"))
    assert "singular_target" not in codes("1/x", domain=(lo, hi), epochs=5)


def test_tan_on_minus_two_to_two_suggests_a_domain_without_either_pole():
    """Was: --domain -1.2:2, which still holds the pole at pi/2 (only the worst sample's side was avoided)."""
    hint = codes("tan(x)", domain=(-2, 2), epochs=5)["singular_target"]["hint"]
    lo, hi = (float(v) for v in hint.split("--domain ")[1].split(":"))
    assert not any(lo <= pole <= hi for pole in (-np.pi / 2, np.pi / 2)), hint
    assert hi - lo > 2.5  # the stretch between the poles, not a sliver
    assert "singular_target" not in codes("tan(x)", domain=(lo, hi), epochs=5)


def test_smooth_targets_are_not_singular():
    X = np.random.default_rng(0).uniform(-14, 14, (5000, 2))
    assert singular_target(X, (X**2).sum(axis=1, keepdims=True), {"x": (-14, 14), "y": (-14, 14)}) is None
    x = np.random.default_rng(1).uniform(0.1, 2.1, (5000, 1))
    assert singular_target(x, np.exp(x), {"x": (0.1, 2.1)}) is None


def test_two_input_pole_names_one_variable_to_narrow():
    assert avoiding_domain({"x": (-1, 1), "y": (-1, 1)}, {"x": 0.9, "y": -0.001}) == "x=-1:1,y=0.1:1"


def test_sparse_samples_of_a_wavy_target_are_steep_and_more_samples_fix_it():
    found = codes("sin(6*x)*cos(6*y)", domain=(-1, 1), samples=120, epochs=5)
    d = found["steep_target"]
    assert d["evidence"]["neighbour_r2"] < 0.5 and "--samples 480" in d["hint"]
    assert "steep_target" not in codes("sin(6*x)*cos(6*y)", domain=(-1, 1), samples=480, epochs=5)


def test_steep_check_is_quiet_on_a_smooth_target_and_skips_large_sets():
    X = np.random.default_rng(0).uniform(-1, 1, (500, 2))
    assert steep_target(X, (X**2).sum(axis=1, keepdims=True), 500, neighbour_r2) is None
    X = np.random.default_rng(0).uniform(-1, 1, (2000, 2))
    assert steep_target(X, np.sin(40 * X[:, :1]), 2000, neighbour_r2) is None  # too many points to compare
