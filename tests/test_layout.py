"""report.layout: fixed margins in inches. Every figure kind keeps its texts on the canvas and apart."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from mlpfit.report import layout, plots, sensitivity, units
from mlpfit.runfolder import run as runs
from mlpfit.train.history import History


def _from_folder(run_dir):
    run = runs.load(run_dir)
    return run.network, run.summary, run.history, dict(run.samples)


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions save (still the real save, which draws and writes them)."""
    figures = []
    save = plots.save_figure

    def keep(fig, path):
        figures.append(fig)
        return save(fig, path)

    monkeypatch.setattr(plots, "save_figure", keep)
    return figures


def _in_view(axis, value: float) -> bool:
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * max(abs(low), abs(high), 1.0)
    return low - slack <= value <= high + slack


def _tick_labels(ax) -> list[Text]:
    """The tick labels drawn: those of ticks inside the view."""
    found = []
    for axis, along in ((ax.xaxis, 0), (ax.yaxis, 1)):
        for label in axis.get_majorticklabels() + axis.get_minorticklabels():
            if label.get_text() and _in_view(axis, label.get_position()[along]):
                found.append(label)
    return found


def frame_texts(fig) -> list[Text]:
    """The texts a layout places: the figure's title, each axes' titles, axis labels and tick labels
    (not what is drawn inside the axes, such as legends or cell counts)."""
    texts = list(fig.texts)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts += [c for c in ax.get_children() if isinstance(c, Text) and c not in ax.texts]
        if ax.axison:
            texts += [ax.xaxis.label, ax.yaxis.label, *_tick_labels(ax),
                      ax.xaxis.get_offset_text(), ax.yaxis.get_offset_text()]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def _slanted(text: Text) -> bool:
    return text.get_rotation() % 90 != 0


def assert_laid_out(fig) -> None:
    canvas = FigureCanvasAgg(fig)  # saved and closed: drawn again as it was (a fixed layout draws alike)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    boxes = [(t, t.get_window_extent(renderer)) for t in frame_texts(fig)]
    assert boxes
    for text, box in boxes:
        assert box.x0 >= -0.5 and box.y0 >= -0.5 and box.x1 <= width + 0.5 and box.y1 <= height + 0.5, \
            f"{text.get_text()!r} runs off the {width:.0f}x{height:.0f} canvas: {box}"
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        if _slanted(a) and _slanted(b):
            continue  # parallel slanted labels: their upright boxes overlap, the texts do not
        overlap_w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        overlap_h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert overlap_w <= 1 or overlap_h <= 1, f"{a.get_text()!r} overlaps {b.get_text()!r}"
    # and everything the figure lays out (legends, colorbars, offsets too) is on the canvas
    tight = fig.get_tightbbox(renderer)
    w_in, h_in = fig.get_size_inches()
    assert tight.x0 >= -0.01 and tight.y0 >= -0.01 and tight.x1 <= w_in + 0.01 and tight.y1 <= h_in + 0.01, tight


def test_margins_are_inches_whatever_the_figure_size():
    frame = layout.Frame(title_lines=2, colorbar=2)
    small, large = layout.grid((4.0, 3.0), frame), layout.grid((12.0, 9.0), frame)
    assert small["left"] * 4.0 == pytest.approx(large["left"] * 12.0)
    assert (1 - small["top"]) * 3.0 == pytest.approx((1 - large["top"]) * 9.0)
    assert (1 - small["right"]) * 4.0 == pytest.approx((1 - large["right"]) * 12.0)
    # a second title line, axis labels or a labelled colorbar each take room
    assert layout.grid((6, 4), layout.Frame(title_lines=2))["top"] < layout.grid((6, 4), layout.Frame(title_lines=1))["top"]
    assert layout.grid((6, 4), layout.Frame(ylabel=False))["left"] < layout.grid((6, 4), layout.Frame())["left"]
    assert layout.grid((6, 4), layout.Frame(colorbar=2))["right"] < layout.grid((6, 4), layout.Frame(colorbar=1))["right"]


def test_a_long_title_is_wrapped_to_the_width():
    text = "sin(x1)*cos(x2) + 0.5*tanh(x1 - x2) + sqrt(abs(x1*x2)) + exp(-x1**2) * log(1 + x2**2)\nlearned: y = 2x"
    lines = layout.title_lines(text, 4.0)
    assert len(lines) >= 3 and lines[-1] == "learned: y = 2x"
    assert all(len(line) * layout.TITLE_CHAR <= 4.0 for line in lines)
    assert layout.title_lines("x**2 + y**2", 8.0) == ["x**2 + y**2"]
    assert layout.shorten("a" * 100, 1.0).endswith("…") and layout.shorten("short", 1.0) == "short"


def test_an_exact_fits_tiny_error_scale_stays_clear_of_the_titles(linear_run, drawn, tmp_path):
    fitted, summary, history, samples = _from_folder(linear_run.run_dir)
    plots.heatmap_plot(fitted, summary, samples, str(tmp_path / "fit.png"), ["y = 1.0000·x1 + 1.0000·x2"])
    assert_laid_out(drawn[0])


def test_heatmaps_units_and_sensitivity_keep_their_texts_on_the_canvas(surface_run, drawn, tmp_path):
    fitted, summary, history, samples = _from_folder(surface_run.run_dir)
    long = dict(summary, target="sin(x)*cos(y) + 0.5*tanh(x - y) + sqrt(abs(x*y)) + exp(-x**2) * log(1 + y**2) + x*y")
    plots.heatmap_plot(fitted, long, samples, str(tmp_path / "fit.png"), ["y = 0.25 x + 1.5 y - 3"])
    units.write(str(tmp_path), summary, fitted, samples)
    sensitivity.write(str(tmp_path), long, fitted, samples)
    assert len(drawn) == 3
    for fig in drawn:
        assert_laid_out(fig)


def test_curves_parity_and_partial_dependence_keep_their_texts_on_the_canvas(curve_run, wide_run, drawn, tmp_path):
    for run in (curve_run, wide_run):
        fitted, summary, history, samples = _from_folder(run.run_dir)
        plots.fit_plot(fitted, summary, samples, str(tmp_path / "fit.png"))
        units.write(str(tmp_path), summary, fitted, samples)
        sensitivity.write(str(tmp_path), summary, fitted, samples)
    assert len(drawn) == 5  # three inputs: no units.png
    for fig in drawn:
        assert_laid_out(fig)


def test_confusion_with_long_class_names_and_a_log_loss_fit(drawn, tmp_path):
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot12"]  # up to 12 characters: slanted
    matrix = np.random.default_rng(0).integers(0, 250, (10, 10))
    plots.confusion_plot(matrix, names, str(tmp_path / "confusion.png"))
    rows = [{"epoch": e, "train_loss": 10.0 ** (-e / 100), "val_loss": 2 * 10.0 ** (-e / 100), "lr": 0.01, "seconds": e}
            for e in range(1, 800)]
    plots.loss_plot(History(rows=rows, best_epoch=700), str(tmp_path / "loss.png"), "loss: " + "x" * 60)
    for fig in drawn:
        assert_laid_out(fig)


def test_the_check_catches_a_clipped_label(drawn, tmp_path):
    rows = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.0 / e, "lr": 0.01, "seconds": e} for e in range(1, 30)]
    plots.loss_plot(History(rows=rows), str(tmp_path / "loss.png"), "loss", ylabel="loss")
    fig = drawn[0]
    ax = fig.axes[0]
    box = ax.get_position()
    ax.set_position([0.01, box.y0, box.x1 - 0.01, box.height])  # no room left for the y tick labels
    with pytest.raises(AssertionError, match="runs off"):
        assert_laid_out(fig)


def test_the_sensitivity_bars_keep_their_values_inside_and_clear_of_the_legend(curve_run, drawn, tmp_path):
    fitted, summary, history, samples = _from_folder(curve_run.run_dir)  # two outputs: a legend of two
    sensitivity.write(str(tmp_path), summary, fitted, samples)
    bars = drawn[0].axes[0]
    renderer = FigureCanvasAgg(drawn[0]).get_renderer()
    box, legend = bars.get_window_extent(renderer), bars.get_legend().get_window_extent(renderer)
    values = [text.get_window_extent(renderer) for text in bars.texts]
    assert len(values) == 2 and legend.x0 >= box.x0 and legend.x1 <= box.x1
    for value in values:
        assert box.x0 <= value.x0 and value.x1 <= box.x1  # inside the axes, not run off its right edge
        assert not value.overlaps(legend)
