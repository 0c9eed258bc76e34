"""Every kind of plot is written, shows something, and draws from the run folder alone."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import assert_not_blank
from matplotlib.image import imread

from mlpfit.network import equation
from mlpfit.report import plots
from mlpfit.runfolder import run as runs
from mlpfit.train.history import History


def _from_folder(run_dir):
    run = runs.load(run_dir)
    return run.network, run.summary, run.history, dict(run.samples)


def test_a_fit_writes_loss_and_fit_png(curve_run):
    for name in ("loss.png", "fit.png"):
        assert_not_blank(os.path.join(curve_run.run_dir, name))


def test_one_input_draws_a_panel_per_output_wider_than_one_output(curve_run, tmp_path):
    fitted, summary, history, samples = _from_folder(curve_run.run_dir)
    one = dict(summary, outputs=summary["outputs"][:1])
    plots.curve_plot(fitted, one, samples, str(tmp_path / "one.png"))
    two = imread(os.path.join(curve_run.run_dir, "fit.png"))
    assert two.shape[1] > 1.5 * imread(str(tmp_path / "one.png")).shape[1]


def test_two_inputs_with_a_formula_draw_heatmaps(surface_run):
    path = os.path.join(surface_run.run_dir, "fit.png")
    assert_not_blank(path)
    pixels = imread(path)[..., :3]
    # truth / prediction / error maps in colour: far more coloured pixels than a line plot has
    coloured = (np.ptp(pixels, axis=-1) > 0.15).mean()
    assert coloured > 0.3, coloured


def test_two_inputs_without_a_formula_plot_predicted_vs_actual(surface_run, tmp_path):
    fitted, summary, history, samples = _from_folder(surface_run.run_dir)
    path = plots.fit_plot(fitted, dict(summary, formula=None), samples, str(tmp_path / "fit.png"))
    assert_not_blank(path)
    coloured = (np.ptp(imread(path)[..., :3], axis=-1) > 0.15).mean()
    assert coloured < 0.3, "a table's 2-input fit should be a scatter, not heatmaps"


def test_three_inputs_plot_predicted_vs_actual_and_residuals(wide_run):
    assert_not_blank(os.path.join(wide_run.run_dir, "fit.png"))


def test_a_linear_model_puts_its_equation_in_the_title(linear_run, tmp_path):
    fitted, summary, history, samples = _from_folder(linear_run.run_dir)
    found = equation.equations(fitted)
    assert found and found[0].startswith("y = ")
    with_eq = plots.fit_plot(fitted, summary, samples, str(tmp_path / "with.png"), found)
    without = plots.fit_plot(fitted, summary, samples, str(tmp_path / "without.png"), None)
    a, b = imread(with_eq), imread(without)
    assert a.shape != b.shape or np.abs(a - b).max() > 0.1, "the equation did not change the picture"


def test_classification_writes_confusion_and_images(digits_run):
    names = set(os.listdir(digits_run.run_dir))
    assert {"loss.png", "confusion.png", "images.png"} <= names
    assert "fit.png" not in names
    for name in ("loss.png", "confusion.png", "images.png"):
        assert_not_blank(os.path.join(digits_run.run_dir, name))


def test_images_plot_from_arrays_shows_mistakes_first(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((12, 28 * 28))
    labels = np.arange(12) % 3
    predicted = labels.copy()
    predicted[[4, 9]] = (labels[[4, 9]] + 1) % 3
    path = plots.images_plot(X, labels, predicted, (28, 28), ["a", "b", "c"], str(tmp_path / "images.png"))
    assert_not_blank(path)


def test_confusion_plot_with_many_classes_skips_cell_numbers(tmp_path):
    matrix = np.diag(np.full(40, 5)) + 1
    path = plots.confusion_plot(matrix, [f"class{i}" for i in range(40)], str(tmp_path / "c.png"))
    assert_not_blank(path)


def test_loss_plot_survives_a_diverged_history(tmp_path):
    rows = [{"epoch": e, "train_loss": v, "val_loss": v, "lr": 0.1, "seconds": e * 0.01}
            for e, v in enumerate([1.0, 10.0, 1e4, float("nan")], start=1)]
    history = History(rows=rows, diverged=True, diverged_at=4)
    assert_not_blank(plots.loss_plot(history, str(tmp_path / "loss.png"), "diverged"))


def test_a_run_without_samples_still_gets_its_loss_plot(curve_run, tmp_path):
    fitted, summary, history, _ = _from_folder(curve_run.run_dir)
    paths = [path for job in plots.jobs(str(tmp_path), summary, history, fitted, None) for path in job()]
    assert [os.path.basename(p) for p in paths] == ["loss.png"]


def test_no_plots_flag_leaves_only_the_run_files(runs_root):
    from conftest import formula_config

    from mlpfit.fitting.fit import fit

    config = formula_config("x", str(runs_root / "noplots"), epochs=3, samples=60)
    config.run.plots = False
    result = fit(config)
    assert not [n for n in os.listdir(result.run_dir) if n.endswith((".png", ".html"))]


def test_a_model_that_predicts_nan_still_gets_every_plot(surface_run, curve_run, wide_run, tmp_path):
    for run in (surface_run, curve_run, wide_run):
        fitted, summary, history, samples = _from_folder(run.run_dir)
        fitted.predict = lambda X, n=len(summary["outputs"]): np.full((len(X), n), np.nan)
        path = plots.fit_plot(fitted, summary, samples, str(tmp_path / f"{summary['name']}-{len(summary['inputs'])}.png"))
        assert os.path.getsize(path) > 1000


def test_error_colour_scale_comes_from_the_training_box_not_the_widened_border():
    from mlpfit.report.plots import error_scale, inside_box

    gx, gy = np.meshgrid(np.linspace(-21, 21, 61), np.linspace(-21, 21, 61))
    truth = gx**2 + gy**2
    inside = inside_box(gx, gy, [(-14, 14), (-14, 14)])
    # a fit good to ±2 inside the box that flattens outside it, as a tanh net does (x² + y², issue 15)
    prediction = np.where(inside, truth + 2 * np.sin(gx), np.minimum(truth, 392))
    assert np.abs(prediction - truth).max() > 400  # the border's error would have set the scale
    assert error_scale(prediction - truth, inside) == pytest.approx(2, abs=0.05)
    assert error_scale(np.full(gx.shape, np.nan), inside) == 1.0  # a net that predicts NaN: still a scale


@pytest.mark.parametrize("low", [1e-6, 0.2])  # five decades, and less than one (minor ticks labelled)
def test_a_log_loss_axis_is_labelled_in_plain_text(low):
    import matplotlib.pyplot as plt

    with plt.rc_context(plots.STYLE):
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [0.5, (0.5 * low) ** 0.5, low])
        plots.log_y(ax)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels(which="both") if t.get_text()]
        plt.close(fig)
    assert labels and not any("$" in text or "mathdefault" in text for text in labels), labels


def test_the_loss_plot_marks_where_a_second_learning_rate_cycle_began(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    drawn = []
    save = plots.save_figure
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: (drawn.append(fig), save(fig, path))[1])
    rows = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.0 / e, "lr": 0.01, "seconds": 0.1} for e in range(1, 11)]
    plots.loss_plot(History(rows=rows), str(tmp_path / "both.png"), first_cycle=4)  # trained on after epoch 4
    plots.loss_plot(History(rows=rows[:4]), str(tmp_path / "settled.png"), first_cycle=4)  # ended there
    plots.loss_plot(History(rows=rows), str(tmp_path / "one.png"))  # one cycle
    labels = [fig.axes[0].get_legend_handles_labels()[1] for fig in drawn]
    assert "second cycle after epoch 4" in labels[0]
    assert not any("second cycle" in label for label in labels[1] + labels[2])
    plt.close("all")


def test_a_fit_records_its_first_cycle_for_the_loss_plot(cli, tmp_path):
    hard = cli("fit", "x*y*z", "--epochs", "20", "--schedule", "twocycle", "--settle", "0", "--out", str(tmp_path / "r"),
               "--json", "--no-plots")
    assert hard.code == 0 and hard.json()["first_cycle_epochs"] == 8 and hard.json()["epochs"] == 20
    one = cli("fit", "x", "--epochs", "5", "--out", str(tmp_path / "one"), "--json", "--no-plots")
    assert one.json()["first_cycle_epochs"] is None
