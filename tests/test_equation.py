import numpy as np

from mlpfit.network.equation import affine_map, collapse, format_equation, is_linear


def test_collapse_composes_linear_layers():
    rng = np.random.default_rng(0)
    layers = [(rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(2, 4)), rng.normal(size=2))]
    W, b = collapse(layers)
    x = rng.normal(size=3)
    assert np.allclose(W @ x + b, layers[1][0] @ (layers[0][0] @ x + layers[0][1]) + layers[1][1])


def test_affine_map_undoes_the_scaling():
    # y' = 2 x' with x' = (x - 1) / 2 and y = 3 y' + 5  =>  y = 3 x + 2
    amap = affine_map([(np.array([[2.0]]), np.array([0.0]))], [1.0], [2.0], [5.0], [3.0])
    assert np.allclose(amap.weights, [[3.0]]) and np.allclose(amap.bias, [2.0])


def test_format_equation_rounds_away_negative_zero():
    assert format_equation("y", ["x1", "x2"], np.array([1.0, 1.0]), -3e-9) == "y = 1.0000·x1 + 1.0000·x2 + 0.0000"
    assert format_equation("y", ["x"], np.array([-2.5]), 1.25) == "y = -2.5000·x + 1.2500"


def test_is_linear():
    assert is_linear([2, 1], "tanh", "identity")
    assert is_linear([2, 64, 1], "identity", "identity")
    assert not is_linear([2, 64, 1], "relu", "identity")
    assert not is_linear([2, 1], "identity", "sigmoid")


def test_output_labels_never_take_an_inputs_name():
    """Was: explain --symbolic printed 'y ≈ -2*y + x*y' for a formula of x and y."""
    from mlpfit.network.equation import output_labels

    assert output_labels(["x**2"], ["x"]) == ["y"]
    assert output_labels(["x*y - 2*y"], ["x", "y"]) == ["f"]
    assert output_labels(["sin(x)", "x*y"], ["x", "y1"]) == ["f1", "f2"]
    assert output_labels(["price"], ["x", "y"]) == ["price"]  # a table's column keeps its name
    assert output_labels(["y + f"], ["y", "f", "g", "out"]) == ["output_1"]
