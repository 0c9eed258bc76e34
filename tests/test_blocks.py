"""engines.blocks: a first layer whose units each see one input, kept so by both engines while they train."""

from __future__ import annotations

import numpy as np
import pytest

import mlpfit
from mlpfit.engines.blocks import block_start, input_blocks
from mlpfit.errors import UsageError


def test_each_unit_sees_one_input():
    mask = input_blocks([3, 6, 4, 1], 2)
    assert mask.shape == (6, 3)
    np.testing.assert_array_equal(mask, np.repeat(np.eye(3), 2, axis=0))
    assert input_blocks([3, 6, 4, 1], 0) is None


@pytest.mark.parametrize("sizes", [[3, 5, 4, 1], [3, 1]])
def test_a_first_layer_of_the_wrong_width_is_refused_with_the_fix(sizes):
    with pytest.raises(UsageError, match=r"--input-units 2 needs a first hidden layer of 3 inputs x 2 = 6 units"):
        input_blocks(sizes, 2)


def test_the_start_is_zero_outside_the_blocks_and_spread_inside():
    mask = input_blocks([4, 32, 1], 8)
    weight, bias = block_start(mask, np.random.default_rng(0))
    assert np.all(weight[mask == 0] == 0) and np.all(np.abs(weight[mask == 1]) <= 1)
    assert weight[mask == 1].std() > 0.4 and bias.shape == (32,)  # uniform on ±1: std 0.58


def off_block(weights: np.ndarray, units: int) -> np.ndarray:
    mask = input_blocks([weights.shape[-1], weights.shape[-2], 1], units)
    return weights * (1 - mask)


@pytest.mark.parametrize("engine, ensemble", [("numpy", 1), ("numpy", 2), ("torch", 1), ("torch", 2)])
def test_training_keeps_the_other_weights_at_zero_and_learns(engine, ensemble):
    # a sum of one function per input: what the inputs' own units are for (R² 0.992-0.995 with either engine)
    result = mlpfit.fit("abs(x) + y**2 + z", samples=400, input_units=4, hidden="16", epochs=300, engine=engine,
                        ensemble=ensemble, seed=0, plots=False)
    first = np.asarray(result.fitted.weights[0])
    assert first.shape[-2:] == (12, 3)  # 3 inputs x 4 units, then the shared 16
    assert np.count_nonzero(off_block(first, 4)) == 0
    assert result.metrics["test"]["r2"][0] > 0.98


def test_the_fit_report_says_which_units_are_the_inputs_own():
    from mlpfit.report.text import fit_report

    result = mlpfit.fit("abs(x) + y", samples=200, input_units=3, hidden="8", epochs=5, seed=0, plots=False)
    assert result.summary["architecture"]["input_units"] == 3
    assert "model 2-6-8-1 tanh (its first 6 units: 3 of each input's own)" in fit_report(result.summary)
    plain = mlpfit.fit("abs(x) + y", samples=200, hidden="8", epochs=5, seed=0, plots=False)
    assert "of each input's own" not in fit_report(plain.summary)
