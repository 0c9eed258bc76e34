import numpy as np

from mlpfit.data.scaling import Standardizer


def test_standardizes_and_inverts():
    values = np.random.default_rng(0).normal(5, 3, size=(1000, 2))
    scaler = Standardizer.fit(values)
    scaled = scaler.transform(values)
    assert np.allclose(scaled.mean(axis=0), 0, atol=1e-12) and np.allclose(scaled.std(axis=0), 1)
    assert np.allclose(scaler.inverse_transform(scaled), values)


def test_constant_column_is_left_unscaled_instead_of_dividing_by_zero():
    values = np.column_stack([np.ones(10) * 7.0, np.arange(10.0)])
    scaled = Standardizer.fit(values).transform(values)
    assert np.isfinite(scaled).all() and np.allclose(scaled[:, 0], 0)


def test_scales_float32_in_float32_and_integers_in_float64():
    scaler = Standardizer.fit(np.array([[0.0], [2.0]]))
    out = scaler.transform(np.array([[2.0]], dtype=np.float32))
    assert out.dtype == np.float32 and out.item() == 1.0
    assert scaler.transform(np.array([[2]], dtype=np.uint8)).dtype == np.float64


def test_state_round_trip_and_identity():
    scaler = Standardizer.fit(np.array([[1.0, 2.0], [3.0, 8.0]]))
    again = Standardizer.from_state(scaler.state())
    assert np.array_equal(again.mean, scaler.mean) and np.array_equal(again.std, scaler.std)
    assert Standardizer.identity(2).is_identity and not scaler.is_identity
