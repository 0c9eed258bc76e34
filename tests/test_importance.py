"""Importance per original column: permutation on held-out rows, levels grouped, units comparable; and
sensitivity.png's labels that stay apart on large values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlpfit
from mlpfit.report import explain
from mlpfit.report.sensitivity import compact, sensitivity_plot


@pytest.fixture(scope="module")
def table_result(tmp_path_factory):
    """price = 100 * area (500..5000) + a colour's premium: area matters most, in raw units its gradient is tiny."""
    rng = np.random.default_rng(0)
    n = 800
    frame = pd.DataFrame({"area": rng.uniform(500, 5000, n), "color": rng.choice(["red", "green", "blue"], n),
                          "noise": rng.normal(0, 1, n)})
    frame["price"] = 100 * frame["area"] + frame["color"].map({"red": 20_000, "green": 0, "blue": -20_000})
    folder = tmp_path_factory.mktemp("imp") / "run"
    mlpfit.fit(frame, target_columns="price", out=str(folder), seed=0)
    return folder


def test_a_table_run_ranks_columns_with_levels_grouped(table_result):
    importance = explain.explain(str(table_result))["importance"]["price"]
    assert set(importance) == {"area", "color", "noise"}  # color's three levels are one column
    assert importance["area"] > importance["color"] > importance["noise"]
    # Comparable units: shuffling area moves prices by about the spread of 100 * area (≈ 1.3e5 · √2).
    assert 1e5 < importance["area"] < 3e5


def test_every_run_gets_importance_a_formula_too(tmp_path):
    folder = tmp_path / "run"
    mlpfit.fit("x + 5*y", out=str(folder), seed=0, epochs=60)
    importance = explain.explain(str(folder))["importance"]
    values = next(iter(importance.values()))
    assert set(values) == {"x", "y"} and values["y"] > 3 * values["x"]


@pytest.mark.parametrize("value, text", [(100000, "100k"), (2_500_000, "2.5M"), (6268.5, "6268"), (0.0123, "0.0123"),
                                         (-45000, "-45k"), (3e9, "3G")])
def test_compact_labels(value, text):
    assert compact(value) == text


@pytest.mark.parametrize("value, step, text", [(-121.4, 0.2, "-121.4"), (-121.0, 0.2, "-121"), (12500, 500, "12.5k"),
                                               (0.25, 0.25, "0.25"), (-0.0, 0.5, "0"), (100000, 50000, "100k"),
                                               (0.0003, 0.0001, "0.0003"), (2_500_000, 250_000, "2.5M")])
def test_compact_tick_labels_have_the_decimals_of_their_step(value, step, text):
    assert compact(value, step) == text


def test_ticks_a_few_tenths_apart_get_labels_of_their_own():
    """sacramento's longitudes (-121.5 to -120.6) were labelled -121 and -121 side by side."""
    import matplotlib.pyplot as plt

    from mlpfit.report.sensitivity import compact_ticks

    fig, ax = plt.subplots()
    try:
        ax.plot([-121.52, -120.61], [0, 1])
        compact_ticks(ax.xaxis, most=4)
        fig.canvas.draw()
        labels = [label.get_text() for label in ax.xaxis.get_ticklabels() if label.get_text()]
    finally:
        plt.close(fig)
    assert len(labels) >= 3 and len(set(labels)) == len(labels), labels


def test_tick_labels_never_collide_on_large_values(table_result, monkeypatch):
    """Every axis of sensitivity.png: no two tick labels overlap (prices and areas in the 100,000s)."""
    from mlpfit.report import plots
    from mlpfit.runfolder import store
    from mlpfit.runfolder.run import checked_network
    from mlpfit.report.sensitivity import sample_rows

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig) or path)
    files = store.read(str(table_result))
    fitted = checked_network(files)
    checked = 0
    # x190: areas of 95,000-950,000, whose full-length ticks (250000 ... 1000000) ran into each other before
    for scale in (1, 190, 1000):
        figures.clear()
        X = sample_rows(dict(files.samples)) * scale
        sensitivity_plot(fitted, X, files.summary, str(table_result / "s.png"))
        fig = figures[0]
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                boxes = [label.get_window_extent(renderer) for label in axis.get_ticklabels()
                         if label.get_visible() and label.get_text()]
                for a, b in zip(boxes, boxes[1:]):
                    checked += 1
                    assert not a.overlaps(b), (scale, [label.get_text() for label in axis.get_ticklabels()])
    assert checked > 10
