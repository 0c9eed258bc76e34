"""units.png: each hidden unit's output over the input box, layer by layer, with its outgoing weights."""

import json
import os
from html import escape

import numpy as np
import pytest
from matplotlib.image import imread, imsave

import mlpfit
from mlpfit.data.scaling import Standardizer
from mlpfit.engines.torch.model import MLP
from mlpfit.report import html, units
from conftest import assert_not_blank
from torch_reference import network_of


def untrained(sizes, inputs=("x",), activation="tanh"):
    import torch

    torch.manual_seed(0)
    n = len(inputs)
    fitted = network_of(MLP(list(sizes), activation), Standardizer.identity(n), Standardizer.identity(1), list(inputs), ["y"])
    summary = {"inputs": list(inputs), "outputs": ["y"], "target": "test", "architecture": {"sizes": list(sizes)}}
    return fitted, summary


def test_a_default_two_input_fit_draws_both_layers_of_64_units(default_fit, tmp_path):
    run = default_fit("x**2 + y**2", -2.0, 2.0)
    path = os.path.join(run.run_dir, "units.png")
    assert_not_blank(path)
    drawing = units.units_plot(run.fitted, run.summary, [(-2.0, 2.0)] * 2, str(tmp_path / "units.png"))
    assert drawing.shown == [64, 64] and drawing.total == [64, 64]
    # Each layer's half of the picture shows something (not one flat colour, not empty).
    pixels = imread(path)
    half = pixels.shape[0] // 2
    for k, part in enumerate((pixels[:half], pixels[half:])):
        imsave(tmp_path / f"layer{k}.png", part)
        assert_not_blank(tmp_path / f"layer{k}.png")


def test_units_png_is_in_the_report_and_the_manifest(default_fit):
    run = default_fit("x**2 + y**2", -2.0, 2.0)
    page = open(os.path.join(run.run_dir, html.REPORT_FILE), encoding="utf-8").read()
    assert 'alt="units.png"' in page and escape(html.PLOT_CAPTIONS["units.png"]) in page
    manifest = json.load(open(os.path.join(run.run_dir, "manifest.json")))
    assert "units.png" in manifest["derived"]


def test_wide_layers_show_their_first_64_units(tmp_path):
    fitted, summary = untrained([1, 100, 70, 1])
    drawing = units.units_plot(fitted, summary, [(-1.0, 1.0)], str(tmp_path / "u.png"))
    assert drawing.shown == [64, 64] and drawing.total == [100, 70]
    assert_not_blank(drawing.path)
    fitted, summary = untrained([2, 5, 1], inputs=("a", "b"), activation="relu")
    drawing = units.units_plot(fitted, summary, [(-1.0, 1.0), (0.0, 3.0)], str(tmp_path / "v.png"))
    assert drawing.shown == [5] and drawing.total == [5]


def test_one_input_runs_draw_curves(curve_run):
    assert_not_blank(os.path.join(curve_run.run_dir, "units.png"))  # 1-16-2: one layer of 16 curves


def test_runs_with_more_inputs_images_or_no_hidden_layer_have_none(wide_run, linear_run, digits_run):
    for run in (wide_run, linear_run, digits_run):
        assert not os.path.exists(os.path.join(run.run_dir, "units.png")), run.run_dir
        assert not units.applicable(run.summary)


def test_hidden_outputs_are_what_the_network_computes(surface_run):
    import torch

    fitted = surface_run.fitted
    points = units.grid_points([(-2.0, 2.0), (-2.0, 2.0)], cell=7)
    scaled = fitted.x_scaler.transform(points)
    net = fitted
    hidden = units.hidden_outputs(net, scaled)
    last = torch.nn.Linear(*net.weights[-1].shape[::-1])  # the output layer, applied by torch to the hidden outputs
    with torch.no_grad():
        last.weight.copy_(torch.as_tensor(net.weights[-1]))
        last.bias.copy_(torch.as_tensor(net.biases[-1]))
        out = last(torch.as_tensor(hidden[-1], dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(out, fitted.raw_output(points), rtol=1e-4, atol=1e-5)
    assert [h.shape for h in hidden] == [(49, 16)]


def test_frames_carry_the_sign_of_the_weight_to_a_single_output():
    fitted, _ = untrained([1, 4, 3, 1])
    (first, first_signed), (last, last_signed) = units.outgoing(fitted)
    assert not first_signed and np.all(first >= 0) and len(first) == 4
    assert last_signed and np.allclose(last, fitted.weights[-1][0])
    fitted, _ = untrained([1, 4, 2])  # two outputs: no single sign
    assert units.outgoing(fitted)[0][1] is False


def test_an_ensemble_draws_its_first_member(tmp_path):
    result = mlpfit.fit("x**2", samples=200, hidden=8, epochs=5, ensemble=2)
    model, members = units.single_network(result.fitted)
    assert members == 2 and model.sizes == [1, 8, 1]
    paths = result.plot(tmp_path)
    assert "units.png" in {os.path.basename(p) for p in paths}


@pytest.mark.parametrize("sizes", [[1, 3, 1], [2, 3, 3, 1]])
def test_a_flat_unit_still_draws(tmp_path, sizes):
    inputs = ("x",) if sizes[0] == 1 else ("x", "y")
    fitted, summary = untrained(sizes, inputs=inputs)
    for weight in fitted.weights:
        weight[...] = 0.0  # every unit constant: the colour range collapses to one value
    drawing = units.units_plot(fitted, summary, [(-1.0, 1.0)] * len(inputs), str(tmp_path / "flat.png"))
    assert drawing.shown == sizes[1:-1] and os.path.getsize(drawing.path) > 0
