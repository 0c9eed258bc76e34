"""What the network learned, as PNG files in the run folder.

``loss.png`` for every run; ``fit.png`` for regression (a curve for one input, truth /
prediction / error maps for two, predicted-vs-actual and residuals otherwise); ``confusion.png``
and, for image inputs, ``images.png`` for classification. Every figure is drawn from plain
arrays, a summary dict and a model, so a fresh process (``mlpfit report``) draws the same
pictures from the run folder as the fit did.
"""

from __future__ import annotations

import io
import os

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle
from matplotlib.ticker import LogFormatter
from PIL import Image

matplotlib.use("Agg")  # files only: never open a window, work without a display

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402

from mlpfit import atomic  # noqa: E402
from mlpfit.report import layout  # noqa: E402
from mlpfit.report.domain import training_box, truth_function  # noqa: E402

# One look for every figure: readable at 100 dpi, light grid, no top/right frame.
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titley": 1.0,  # titles at a fixed height: no axes has ticks on top, so measuring them each draw buys nothing
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "text.parse_math": False,  # names come from CSV headers: a column called $\frac{a}{$ is text, not broken TeX
}
COLORS = {"train": "#4c72b0", "val": "#dd8452", "truth": "#222222", "prediction": "#c44e52", "box": "#55a868"}
MAX_POINTS = 2000  # scatter at most this many samples: more only hides the picture and costs time
MAX_TICK_CHARS = 24  # a class label on an axis; longer ones are cut with "…"
MAX_OUTPUTS = 6  # panels per figure; a wide net's remaining outputs are in the metrics table
GRID = 120  # heatmap resolution per axis
FEW_POINTS = 300  # heatmaps mark the training samples when there are this few (e.g. circle's 36)
TITLE_OVERHANG = 1.0  # inches a panel title may stand out beside its axes, half on each side
WIDEN = 0.25  # show the prediction a quarter of the domain beyond each side: extrapolation shows


def _figure(rows: int, cols: int, width: float = 4.2, height: float = 3.3, frame: layout.Frame = layout.Frame()):
    """A grid of axes with ``frame``'s room around each (report.layout: fixed margins, no layout engine)."""
    size = (width * cols, height * rows)
    return plt.subplots(rows, cols, figsize=size, squeeze=False, gridspec_kw=layout.grid(size, frame, rows, cols))


def _name_axes(fig, ax, xlabel: str, ylabel: str, title: str) -> None:
    """Axis labels and title, each shortened to the length of its side: a long formula would run
    into the next panel (a title may stand out into the gap beside its axes)."""
    width, height = layout.axes_width(fig, ax), ax.get_position().height * fig.get_size_inches()[1]
    ax.set(xlabel=layout.shorten(xlabel, width), ylabel=layout.shorten(ylabel, height),
           title=layout.shorten(title, width + TITLE_OVERHANG, layout.TITLE_CHAR))


def save_figure(fig, path: str) -> str:
    """Draw ``fig`` once and write it as an RGB PNG (atomically).

    One canvas draw renders it (``savefig`` would also measure it in a dry run first). The background
    is opaque, so the alpha channel carries nothing: without it the PNG is smaller and faster to encode.
    zlib level 1 instead of PIL's default 6: the quick start's four figures encode in 0.05 s of CPU
    instead of 0.12 s, in 547 KiB instead of 443 KiB.
    """

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    buffer = io.BytesIO()
    pixels = np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])
    Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
    plt.close(fig)
    atomic.write_bytes(path, buffer.getvalue(), derived=True)  # `mlpfit report` draws it again
    return path


def _thin(rng: np.random.Generator, *arrays):
    """The same random subset (at most MAX_POINTS rows) of each array."""
    n = len(arrays[0])
    if n <= MAX_POINTS:
        return arrays
    keep = np.sort(rng.choice(n, MAX_POINTS, replace=False))
    return tuple(a[keep] for a in arrays)


def run_name(summary: dict) -> str:
    """What the run fit, for titles: the target as typed, else the dataset's name."""
    return summary.get("target") or summary.get("name") or "mlpfit run"


def _title(summary: dict, equations: list[str] | None, width: float) -> list[str]:
    """The figure title's lines: what was fit and, for a linear model, what it learned."""
    text = run_name(summary)
    if equations:
        text += "\nlearned: " + ";  ".join(equations)
    return layout.title_lines(text, width)


# ---------------------------------------------------------------- loss


def loss_plot(history, path: str, title: str = "", held_out: bool = True, ylabel: str = "loss (scaled units)",
              first_cycle: int | None = None) -> str:
    """Training and validation loss per epoch, log scale, with the kept (best) epoch marked and, for a fit
    that trained a second learning-rate cycle after ``first_cycle`` epochs, where it began."""
    with plt.rc_context(STYLE):
        fig, axes = _figure(1, 1, 6.0, 3.6)  # the default frame: title, labels, "1e-05" ticks
        ax = axes[0, 0]
        epochs = np.array(history.column("epoch"))
        val_label = "validation" if held_out else "validation (= training: too few examples to hold any out)"
        for key, label, color in (("train_loss", "training", COLORS["train"]), ("val_loss", val_label, COLORS["val"])):
            values = np.array(history.column(key), dtype=float)
            ax.plot(epochs, np.where(values > 0, values, np.nan), label=label, color=color, lw=1.2)
        if history.best_epoch:
            ax.axvline(history.best_epoch, color=COLORS["box"], ls="--", lw=1, label=f"kept: epoch {history.best_epoch}")
        if first_cycle and history.epochs > first_cycle:  # the loss jumps there by design: the rate restarts
            ax.axvline(first_cycle, color="#888888", ls=":", lw=1, label=f"second cycle after epoch {first_cycle}")
        if history.diverged:
            ax.axvline(history.diverged_at, color=COLORS["prediction"], ls=":", lw=1.5,
                       label=f"diverged: epoch {history.diverged_at}")
        if np.any(np.array(history.column("train_loss"), dtype=float) > 0):
            log_y(ax)
        ax.set(xlabel="epoch", ylabel=ylabel, title=title or "loss")
        ax.legend(loc="upper right")
        return save_figure(fig, path)


def log_y(ax) -> None:
    """A log scale labelled in plain text (1e-05, 0.001): its default labels are TeX, which STYLE
    leaves unparsed (names from files are text), so they printed as $\\mathdefault{10^{-5}}$."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(LogFormatter())
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))


# ---------------------------------------------------------------- regression


def _widen(lo: float, hi: float) -> tuple[float, float]:
    pad = WIDEN * (hi - lo)
    return lo - pad, hi + pad


def curve_plot(fitted, summary, samples, path, equations=None) -> str:
    """One input: samples, truth and prediction over the widened domain, a panel per output."""
    X, Y = samples["train_X"], samples["train_Y"]
    (lo, hi), = training_box(summary, X)
    grid = np.linspace(*_widen(lo, hi), 400)[:, None]
    prediction, truth = fitted.predict(grid), truth_function(summary)
    true_values = truth(grid) if truth else None
    Xs, Ys = _thin(np.random.default_rng(0), X, Y)
    outputs = summary["outputs"][:MAX_OUTPUTS]
    cols = min(3, len(outputs))
    rows = -(-len(outputs) // cols)
    title = _title(summary, equations, 4.2 * cols)
    with plt.rc_context(STYLE):
        fig, axes = _figure(rows, cols, frame=layout.Frame(title_lines=len(title)))
        for k, name in enumerate(outputs):
            ax = axes.flat[k]
            ax.axvspan(lo, hi, color=COLORS["box"], alpha=0.08, label="training domain")
            if true_values is not None:
                ax.plot(grid[:, 0], true_values[:, k], color=COLORS["truth"], ls="--", lw=1.2, label="truth")
            ax.scatter(Xs[:, 0], Ys[:, k], s=12 if len(Xs) < 200 else 3, color=COLORS["train"], alpha=0.7,
                       label="training samples", zorder=3)
            ax.plot(grid[:, 0], prediction[:, k], color=COLORS["prediction"], lw=1.6, label="prediction", zorder=4)
            _name_axes(fig, ax, summary["inputs"][0], name, name)
            ax.legend(loc="best")
        for ax in list(axes.flat)[len(outputs):]:
            ax.set_visible(False)
        layout.suptitle(fig, title)
        return save_figure(fig, path)


def heatmap_plot(fitted, summary, samples, path, equations=None) -> str:
    """Two inputs with a known truth: truth, prediction and error maps, a row per output."""
    truth = truth_function(summary)
    box = training_box(summary, samples["train_X"])
    (x_lo, x_hi), (y_lo, y_hi) = _widen(*box[0]), _widen(*box[1])
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, GRID), np.linspace(y_lo, y_hi, GRID))
    points = np.column_stack([gx.ravel(), gy.ravel()])
    true_values, prediction = truth(points), fitted.predict(points)
    outputs = summary["outputs"][:MAX_OUTPUTS]
    extent = (x_lo, x_hi, y_lo, y_hi)
    title = _title(summary, equations, 3 * 3.8)
    frame = layout.Frame(title_lines=len(title), colorbar=1, colorbar_between=True)
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, axes = _figure(len(outputs), 3, 3.8, 3.3, frame)
        for k, name in enumerate(outputs):
            t, p = true_values[:, k].reshape(gx.shape), prediction[:, k].reshape(gx.shape)
            vmin, vmax = _finite_range(t)
            error = p - t
            inside = inside_box(gx, gy, box)
            limit = error_scale(error, inside)
            panels = ((t, f"truth: {name}", "viridis", vmin, vmax), (p, "prediction", "viridis", vmin, vmax),
                      (error, "error (prediction − truth), border greyed", "RdBu_r", -limit, limit))
            for j, (values, _, cmap, lo, hi) in enumerate(panels):
                ax = axes[k, j]
                if cmap == "RdBu_r":  # the border's extrapolation error saturates: grey it out
                    image = _greyed_border(ax, values, inside, extent, lo, hi)
                else:
                    image = ax.imshow(values, origin="lower", extent=extent, aspect="auto", cmap=cmap, vmin=lo, vmax=hi)
                _draw_training_box(ax, box, "black" if cmap == "RdBu_r" else "white")
                if j == 0 and len(samples["train_X"]) <= FEW_POINTS:
                    Xs = samples["train_X"]
                    ax.scatter(Xs[:, 0], Xs[:, 1], s=8, color="white", edgecolor="black", lw=0.4, label="training samples")
                if j >= 1:  # truth and prediction share one colour scale, so one bar serves both
                    layout.colorbar(fig, image, list(axes[k, :2]) if j == 1 else ax, extend="both" if j == 2 else "neither")
            for j, panel in enumerate(panels):  # named once the colorbars took their width
                _name_axes(fig, axes[k, j], summary["inputs"][0], summary["inputs"][1], panel[1])
        axes[0, 0].legend(loc="upper left", frameon=True, framealpha=0.8)
        layout.suptitle(fig, title)
        return save_figure(fig, path)


def _greyed_border(ax, error: np.ndarray, inside: np.ndarray, extent, lo: float, hi: float):
    """The error map with the widened border under a grey veil, coloured here as one image (a second,
    translucent image over it cost a tenth of the figure); returns its colour scale for the colorbar."""

    colours = ScalarMappable(Normalize(lo, hi), "RdBu_r")
    rgba = colours.to_rgba(error)
    veil = np.array(plt.get_cmap("Greys")(1.0 / 1.6))  # the grey of the veil drawn before, at its 0.55 alpha
    rgba[~inside] = 0.45 * rgba[~inside] + 0.55 * veil
    ax.imshow(rgba, origin="lower", extent=extent, aspect="auto")
    return colours


def inside_box(gx: np.ndarray, gy: np.ndarray, box) -> np.ndarray:
    """Grid cells inside the training box (the rest is the widened border, drawn for extrapolation)."""
    (x_lo, x_hi), (y_lo, y_hi) = box
    return (gx >= x_lo) & (gx <= x_hi) & (gy >= y_lo) & (gy <= y_hi)


def error_scale(error: np.ndarray, inside: np.ndarray) -> float:
    """The error panel's colour limit, from the training box only: outside it the error of
    extrapolation (±300 for x² + y² on ±14) would wash the domain's error out to white."""
    limit = _finite_range(np.abs(error[inside]))[1] if inside.any() else 0.0
    return limit or _finite_range(np.abs(error))[1] or 1.0


def _finite_range(values: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite values; (0, 1) when there are none (a diverged net predicts NaN)."""
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def _draw_training_box(ax, box, color: str) -> None:
    (x_lo, x_hi), (y_lo, y_hi) = box
    ax.add_patch(Rectangle((x_lo, y_lo), x_hi - x_lo, y_hi - y_lo, fill=False, ls="--", lw=1, ec=color,
                           label="training domain"))


def parity_plot(fitted, summary, samples, path, equations=None) -> str:
    """Any number of inputs: predicted against actual, and residuals, on the test split."""
    X, Y = samples["test_X"], samples["test_Y"]
    X, Y = _thin(np.random.default_rng(0), X, Y)
    prediction = fitted.predict(X)
    outputs = summary["outputs"][:MAX_OUTPUTS]
    split = "test" if summary.get("held_out", True) else "training"
    title = _title(summary, equations, 2 * 4.2)
    with plt.rc_context(STYLE):
        fig, axes = _figure(len(outputs), 2, frame=layout.Frame(title_lines=len(title)))
        for k, name in enumerate(outputs):
            actual, predicted = Y[:, k], prediction[:, k]
            lo, hi = float(np.min([actual.min(), predicted.min()])), float(np.max([actual.max(), predicted.max()]))
            ax = axes[k, 0]
            ax.plot([lo, hi], [lo, hi], color=COLORS["truth"], ls="--", lw=1, label="perfect fit")
            ax.scatter(actual, predicted, s=6, alpha=0.6, color=COLORS["train"], label=f"{split} examples")
            _name_axes(fig, ax, f"actual {name}", f"predicted {name}", f"{name}: predicted vs actual")
            ax.legend(loc="upper left")
            ax = axes[k, 1]
            ax.axhline(0, color=COLORS["truth"], ls="--", lw=1)
            ax.scatter(actual, predicted - actual, s=6, alpha=0.6, color=COLORS["prediction"])
            _name_axes(fig, ax, f"actual {name}", "residual (predicted − actual)", f"{name}: residuals")
        layout.suptitle(fig, title)
        return save_figure(fig, path)


def fit_plot(fitted, summary, samples, path, equations=None) -> str:
    """The regression picture that suits the number of inputs and whether the truth is known."""
    n_inputs = len(summary["inputs"])
    if n_inputs == 1:
        return curve_plot(fitted, summary, samples, path, equations)
    if n_inputs == 2 and truth_function(summary) is not None:
        return heatmap_plot(fitted, summary, samples, path, equations)
    return parity_plot(fitted, summary, samples, path, equations)


# ---------------------------------------------------------------- classification


def confusion_plot(confusion, classes, path: str, title: str = "confusion matrix (test)") -> str:
    """Counts per (true, predicted) class; the diagonal is right, the rest are mistakes."""
    matrix = np.asarray(confusion)
    n = len(classes)
    labels = [_label(c, MAX_TICK_CHARS) for c in classes]  # a 400-character label would leave no room for the matrix
    longest = max(map(len, labels), default=1)
    rotate = longest > 3
    frame = layout.Frame(ytick_chars=longest, xtick_chars=longest if rotate else 0, colorbar=2)
    with plt.rc_context({**STYLE, "axes.grid": False}):
        size = min(8.0, 2.5 + 0.3 * n)
        fig, axes = _figure(1, 1, size + 1.0 + 0.07 * longest, size + 0.07 * longest, frame)
        ax = axes[0, 0]
        image = ax.imshow(matrix, cmap="Blues")
        if n <= 20:
            threshold = matrix.max() / 2 if matrix.size else 0
            for i in range(n):
                for j in range(n):
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if matrix[i, j] > threshold else "black")
        ticks = np.arange(n) if n <= 30 else np.linspace(0, n - 1, 10).astype(int)
        ax.set_xticks(ticks, [labels[t] for t in ticks], rotation=45 if rotate else 0)
        ax.set_yticks(ticks, [labels[t] for t in ticks])
        ax.set(xlabel="predicted class", ylabel="true class", title=title)
        layout.colorbar(fig, image, ax, shrink=0.8, label="examples")
        return save_figure(fig, path)


def _label(value, limit: int = 12) -> str:
    """A class name short enough to sit above a small image (fashion's 'Ankle boot' fits)."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def images_plot(X, labels, predicted, image_shape, classes, path: str, limit: int = 40, cols: int = 8) -> str:
    """A grid of test images with predicted and true labels, mistakes first.

    The grid is one mosaic image in one axes: forty small axes would cost a second to draw.
    """
    X, labels, predicted = np.asarray(X), np.asarray(labels), np.asarray(predicted)
    wrong, right = np.flatnonzero(predicted != labels), np.flatnonzero(predicted == labels)
    order = np.concatenate([wrong, right])[:limit]
    h, w = int(image_shape[0]), int(image_shape[1])
    rows = max(1, -(-len(order) // cols))
    pad_x, pad_y = max(1, w // 4), max(4, h // 2)  # room between cells, more above each for two label lines
    mosaic = np.full((rows * (h + pad_y), cols * (w + pad_x)), np.nan)
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, axes = _figure(1, 1, 1.2 * cols, 1.35 * rows + 0.4, layout.Frame(xlabel=False, ylabel=False, ticks=False))
        ax = axes[0, 0]
        for n, i in enumerate(order):
            top, left = (n // cols) * (h + pad_y) + pad_y, (n % cols) * (w + pad_x)
            mosaic[top : top + h, left : left + w] = X[i].reshape(h, w)
            mistake = predicted[i] != labels[i]
            text = _label(classes[predicted[i]]) + (f"\n(true {_label(classes[labels[i]])})" if mistake else "")
            ax.text(left + w / 2, top - 0.6, text, ha="center", va="bottom", fontsize=8,
                    color=COLORS["prediction"] if mistake else "black")
        ax.imshow(mosaic, cmap="gray_r", interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"test images: {len(wrong)} of {len(labels)} wrong; mistakes first, in red as predicted (true)")
        return save_figure(fig, path)


# ---------------------------------------------------------------- all of a run


def jobs(folder: str, summary: dict, history, fitted, samples: dict | None, equations=None) -> list:
    """Every plot that fits this run as a call that draws it and returns ``[its path]`` (report.drawing
    may run them side by side)."""
    ylabel = "loss (cross-entropy)" if summary["task"] == "classify" else "loss (scaled units)"
    first_cycle = summary.get("first_cycle_epochs")  # absent from runs older than twocycle
    first_cycle = first_cycle if isinstance(first_cycle, int) and not isinstance(first_cycle, bool) else None
    found = [lambda: [loss_plot(history, os.path.join(folder, "loss.png"), f"loss: {run_name(summary)}",
                                summary.get("held_out", True), ylabel, first_cycle)]]
    if samples is None:
        return found  # a run saved without samples: only the history can be drawn
    if summary["task"] == "classify":
        test = summary["metrics"].get("test", {})
        if test.get("confusion") is not None:
            found.append(lambda: [confusion_plot(test["confusion"], summary["classes"], os.path.join(folder, "confusion.png"),
                                                 f"confusion matrix (test, accuracy {test['accuracy']:.1%})")])
        if summary.get("image_shape"):
            X, labels = samples["test_X"], samples["test_Y"].reshape(-1)
            found.append(lambda: [images_plot(X, labels, fitted.predict(X), summary["image_shape"], summary["classes"],
                                              os.path.join(folder, "images.png"))])
        return found
    found.append(lambda: [fit_plot(fitted, summary, samples, os.path.join(folder, "fit.png"), equations)])
    return found
