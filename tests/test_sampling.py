import numpy as np
import pytest

from mlpfit.errors import DataError, UsageError
from mlpfit.data.sources.sampling import check_finite, resolve_domain, sample_box


def test_one_interval_applies_to_every_input():
    assert resolve_domain(("x", "y"), (0.0, 1.0)) == {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    assert resolve_domain(("x",), None) == {"x": (-1.0, 1.0)}


def test_per_variable_domain_must_name_real_variables():
    with pytest.raises(UsageError, match="'z'.*not a variable"):
        resolve_domain(("x", "y"), {"x": (0, 1), "z": (0, 1)})
    with pytest.raises(UsageError, match="no interval for y"):
        resolve_domain(("x", "y"), {"x": (0, 1)})


def test_samples_fall_inside_the_box_and_repeat_with_the_seed():
    box = {"x": (2.0, 3.0), "y": (-5.0, -4.0)}
    a = sample_box(box, 500, np.random.default_rng(1))
    b = sample_box(box, 500, np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert (a[:, 0] >= 2).all() and (a[:, 0] < 3).all() and (a[:, 1] >= -5).all() and (a[:, 1] < -4).all()


def test_non_finite_values_name_the_point_and_the_fix():
    X = np.array([[1.0], [-1.0]])
    with pytest.raises(DataError, match=r"x=-1.*--domain"):
        check_finite(X, np.array([[0.0], [np.nan]]), "log(x)", {"x": (-1, 1)})
