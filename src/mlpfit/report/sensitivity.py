"""Which inputs matter, and how: importance per column (report.importance) drawn as bars, input
sensitivities, partial dependence, gradient pictures.

The sensitivity of output k to input i is the mean of |∂y_k/∂x_i| over the data sample stored in
the run folder, in ORIGINAL units (the scalers' chain rule: ∂y/∂x = σ_y · ∂y'/∂x' / σ_x), computed
by the chain rule through the network's NumPy arrays (mlpfit.network.gradient: no torch). For
classification the output is the probability of the class the network predicts at each row. A
partial dependence curve holds one input at each value of a grid while the others keep their
sampled values, and averages the prediction. For image inputs the picture is the mean input
gradient of the predicted class's probability, one per class: which pixels push towards it.
Ensembles: the gradients of the members' mean prediction.
"""

# Deferred imports: matplotlib loads inside the functions that draw, so the numbers (explain --json) need none.

from __future__ import annotations

import os
from decimal import Decimal

import numpy as np

from mlpfit.network.gradient import input_gradients
from mlpfit.network.varied import Varied
from mlpfit.data.sources.raw_rows import binned, unsquashed
from mlpfit.report import layout
from mlpfit.report.importance import column_groups, importance

ROWS = 2000  # stored rows used for gradients: plenty for a mean, fast for 784 inputs
# Rows averaged per grid value of a partial dependence curve: 150 draw the shape of 2,000 rows' curves within
# 2-3% of its range (ames, concrete), at half the cost of 300 (a table's slowest figure waits on them).
PD_ROWS = 150
PD_GRID = 41  # values per partial dependence curve
PD_PANELS = 8  # curves drawn for the most sensitive inputs; the JSON keeps every input
PD_CURVES = 6  # outputs or classes drawn per panel, those the column moves most: more hide each other
PREDICTED = "p(predicted class)"  # the output name of a classifier's sensitivity


def sample_rows(samples: dict | None, limit: int = ROWS) -> np.ndarray | None:
    """The stored training rows (raw units), a seeded subset of at most ``limit``."""
    if not samples or "train_X" not in samples or not len(samples["train_X"]):
        return None
    X = np.asarray(samples["train_X"], dtype=np.float64)
    if len(X) > limit:
        X = X[np.sort(np.random.default_rng(0).choice(len(X), limit, replace=False))]
    return X


def gradients(fitted, X: np.ndarray) -> np.ndarray:
    """∂output/∂input per row in original units: ``[rows, outputs, inputs]``.

    Regression: every output. Classification: one output, the predicted class's probability.
    """
    return input_gradients(fitted, X)


def output_names(fitted) -> list[str]:
    return [PREDICTED] if fitted.task == "classify" else list(fitted.outputs)


def sensitivities(fitted, samples: dict | None) -> dict | None:
    """``{output: {input: mean |∂y/∂x|}}`` over the stored sample; None for a run without one."""
    X = sample_rows(samples)
    if X is None:
        return None
    mean_abs = np.abs(gradients(fitted, X)).mean(axis=0)
    return {out: {name: float(v) for name, v in zip(fitted.inputs, row)}
            for out, row in zip(output_names(fitted), mean_abs)}


def partial_dependence(fitted, X: np.ndarray, column: int, grid: np.ndarray, rows: Varied | None = None) -> np.ndarray:
    """Mean prediction (class probabilities for a classifier) with input ``column`` set to each grid value:
    ``[len(grid), outputs or classes]``. ``rows``: ``Varied(fitted, X[:PD_ROWS])`` made once for several curves."""
    values = grid[:, None]  # [grid, inputs moved]: the column's value, then its bins' inputs, which follow it
    coding = number_coding(fitted, column)
    if coding is not None and len(coding.edges) > 1:
        values = np.hstack([values, binned(unsquashed(grid, coding.center, coding.spread), coding.edges)])
    positions = list(range(column, column + values.shape[1]))
    rows = rows if rows is not None else Varied(fitted, X[:PD_ROWS])
    return rows.predictions(positions, values[:, None, :]).mean(axis=1)


def class_pictures(fitted, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean input gradient of the predicted class's probability, per predicted class:
    ``([classes, inputs], rows per class)``."""
    grads = gradients(fitted, X)[:, 0, :]
    predicted = fitted.predict(X)
    n = len(fitted.classes)
    pictures = np.zeros((n, X.shape[1]))
    counts = np.bincount(predicted, minlength=n)
    for c in range(n):
        if counts[c]:
            pictures[c] = grads[predicted == c].mean(axis=0)
    return pictures, counts


# ---------------------------------------------------------------- the picture


def write(folder: str, summary: dict, fitted, samples: dict | None) -> list[str]:
    """``sensitivity.png`` in ``folder`` when the run stores a sample; returns the paths written."""
    X = sample_rows(samples)
    if X is None:
        return []
    path = os.path.join(folder, "sensitivity.png")
    if summary.get("image_shape") and fitted.task == "classify":
        return [pictures_plot(fitted, X, summary, path)]
    scores = importance(fitted, samples)
    if scores is None:  # a single stored row: shuffling it moves nothing
        return []
    return [sensitivity_plot(fitted, X, summary, path, scores)]


def sensitivity_plot(fitted, X: np.ndarray, summary: dict, path: str, scores: dict | None = None) -> str:
    """Bars of each original column's importance (report.importance), then a partial dependence curve
    for the most important columns that are one number (not one-hot levels)."""
    import matplotlib.pyplot as plt

    from mlpfit.report.plots import MAX_OUTPUTS, STYLE, run_name, save_figure

    scores = scores or importance(fitted, {"train_X": X})  # (write() makes sure there are rows to shuffle)
    groups = column_groups(fitted)
    names, outs = list(groups), list(scores)[:MAX_OUTPUTS]
    values = np.array([[scores[out][name] for name in names] for out in outs])  # [outputs, columns]
    order = np.argsort(-values.max(axis=0))
    bars = order[:30]
    shown = [(names[i], curve_input(fitted, names[i], groups)) for i in order]
    shown = [(name, k) for name, k in shown if k is not None][:PD_PANELS]
    cols = min(4, len(shown)) or 1
    pd_rows = -(-len(shown) // cols)
    heights = [0.7 + 0.28 * len(bars) * max(1, len(outs) / 2)] + [2.8] * pd_rows
    width = 3.4 * max(cols, 2)
    title = layout.title_lines(f"{run_name(summary)}: which inputs matter", width)
    size = (width, sum(heights) + 0.5 + layout.TITLE_LINE * (len(title) - 1))
    longest = max(len(_short(names[i])) for i in bars)  # the bars' names: left of the first column only
    frame = layout.Frame(title_lines=len(title), left=max(0, longest - layout.TICK_CHARS) * layout.CHAR, right=0.4)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=size)
        grid = fig.add_gridspec(1 + pd_rows, cols, height_ratios=heights, **layout.grid(size, frame, 1 + pd_rows, cols))
        ax = fig.add_subplot(grid[0, :])
        height = 0.8 / len(outs)
        for k, out in enumerate(outs):
            drawn = ax.barh(np.arange(len(bars)) + k * height, values[k, bars], height=height, label=_short(out))
            ax.bar_label(drawn, labels=[compact(v) for v in values[k, bars]], fontsize=7, padding=2)
        ax.set_yticks(np.arange(len(bars)) + height * (len(outs) - 1) / 2, [_short(names[i]) for i in bars])
        ax.invert_yaxis()
        unit = "probability moved" if fitted.task == "classify" else "RMS change of the output (its units)"
        ax.set(xlabel=f"importance: shuffling the column, {unit}",
               title="importance per column, on held-out rows" + (f" (top {len(bars)} of {len(names)})"
                                                                 if len(names) > len(bars) else ""))
        # Room right of the longest bar for its value and, with several outputs, the legend beside the bars
        # (inside their reach it covered the longest bar's value).
        ax.set_xlim(0, float(np.nanmax(values[:, bars], initial=0.0) or 1.0) * (1.5 if len(outs) > 1 else 1.12))
        compact_ticks(ax.xaxis)
        if len(outs) > 1:
            ax.legend(loc="lower right")
        panels = [fig.add_subplot(grid[1 + n // cols, n % cols]) for n in range(len(shown))]
        rows = Varied(fitted, X[:PD_ROWS]) if shown else None  # the curves' rows: their first products once
        for ax, (name, i) in zip(panels, shown):
            _pd_panel(ax, fitted, X, i, name if fitted.inputs[i] == name else fitted.inputs[i], outs, rows)
        _share_y(panels)  # one scale: a flat curve must look flat beside a steep one
        layout.suptitle(fig, title)
        return save_figure(fig, path)


def curve_input(fitted, column: str, groups: dict[str, list[int]]) -> int | None:
    """The network input a partial dependence curve of ``column`` moves: its own number, a date's days or a
    many-level text's code; None for one-hot levels (no line runs between them)."""
    encoding = getattr(fitted, "encoding", None)
    if encoding is None:
        return groups[column][0]
    coding = next(c for c in encoding.columns if c.name == column)
    return None if coding.kind == "category" else groups[column][0]


SUFFIXES = ((1e12, 1e12, "T"), (1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k"))


def compact(value: float, step: float | None = None) -> str:
    """A short label: 0.0123, 4.5, 250, 6269, 12k, 3.4M; never wider than about 6 characters. With ``step`` (the
    distance between neighbouring ticks) it has the decimals that tell the ticks apart: a longitude's -121.4 and
    -121.2, where three significant digits gave -121 twice."""
    size = abs(value)
    scale, suffix = next(((scale, suffix) for limit, scale, suffix in SUFFIXES if size >= limit), (1.0, ""))
    if step:
        return _to_step(value / scale, step / scale) + suffix
    if suffix:
        return f"{value / scale:.3g}{suffix}"
    return f"{value:.0f}" if size >= 1e3 else f"{value:.3g}"


def _to_step(value: float, step: float) -> str:
    """``value`` with as many decimals as ``step`` has (0.25: two), trailing zeros dropped."""
    exponent = Decimal(repr(round(abs(step), 12))).normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    text = f"{value:.{places}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if float(text) == 0 else text


def compact_ticks(axis, most: int = 5) -> None:
    """At most ``most`` ticks with short labels: values like 100000 side by side ran into each other."""
    from matplotlib.ticker import Formatter, MaxNLocator

    class Compact(Formatter):
        step = None  # between neighbouring ticks, from set_locs (called with every tick before they are labelled)

        def set_locs(self, locs):
            steps = np.diff(np.sort(np.asarray(locs, dtype=float)))
            self.step = float(steps.min()) if len(steps) and steps.min() > 0 else None

        def __call__(self, value, pos=None):
            return compact(value, self.step)

    axis.set_major_locator(MaxNLocator(nbins=most - 1))
    axis.set_major_formatter(Compact())


def number_coding(fitted, column: int):
    """The number column whose (squashed) value network input ``column`` is, or None."""
    encoding = getattr(fitted, "encoding", None)
    if encoding is None:
        return None
    return next((c for c in encoding.columns if c.kind == "number" and c.name == fitted.inputs[column]), None)


def in_column_units(fitted, column: int, inputs: np.ndarray) -> np.ndarray:
    """A network input's values in its table column's own units: a squashed number column's raw numbers."""
    coding = number_coding(fitted, column)
    return inputs if coding is None else unsquashed(inputs, coding.center, coding.spread)


def _pd_panel(ax, fitted, X, column: int, name: str, outs: list[str], rows: Varied) -> None:
    lo, hi = float(X[:, column].min()), float(X[:, column].max())
    grid = np.linspace(lo, hi, PD_GRID) if hi > lo else np.array([lo])
    curves = partial_dependence(fitted, X, column, grid, rows)
    classes = fitted.task == "classify"
    labels = [f"p({c})" for c in fitted.classes] if classes else list(outs)
    if classes and len(labels) == 2:  # p(first) = 1 - p(second): the second class's curve says it all
        curves, labels = curves[:, 1:], labels[1:]
    drawn = moving_most(curves)
    for k in drawn:
        ax.plot(in_column_units(fitted, column, grid), curves[:, k], lw=1.4, label=_short(labels[k]))
    deciles = in_column_units(fitted, column, np.quantile(X[:, column], np.linspace(0.05, 0.95, 10)))
    ax.plot(deciles, np.full(10, np.nanmin(curves[:, drawn])), "|", color="#555555", ms=8, label="data deciles")
    # The column's name as the panel's title, where it has the most room (the caption says what the curves are).
    ax.set(ylabel="mean prediction", title=layout.shorten(name, layout.axes_width(ax.figure, ax) + 0.5, layout.TITLE_CHAR))
    compact_ticks(ax.xaxis, most=4)
    compact_ticks(ax.yaxis)
    if classes or len(labels) > 1:
        ax.legend(loc="best", fontsize=7)


def moving_most(curves: np.ndarray, most: int = PD_CURVES) -> list[int]:
    """The outputs (or classes) of a panel's ``curves`` [grid, outputs] to draw: all of a few, else the ``most``
    that this column moves furthest, in their own order (letters' 26 classes showed A to J, whichever moved)."""
    count = curves.shape[1]
    if count <= most:
        return list(range(count))
    spans = np.nan_to_num(curves.max(axis=0) - curves.min(axis=0), nan=-1.0)
    return sorted(np.argsort(-spans, kind="stable")[:most].tolist())


def _share_y(panels) -> None:
    if panels:
        lows, highs = zip(*(ax.get_ylim() for ax in panels))
        for ax in panels:
            ax.set_ylim(min(lows), max(highs))


def _short(text: str, limit: int = 28) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pictures_plot(fitted, X: np.ndarray, summary: dict, path: str) -> str:
    """One picture per class: the mean gradient of its probability where the network predicts it."""
    import matplotlib.pyplot as plt

    from mlpfit.report.plots import STYLE, run_name, save_figure

    pictures, counts = class_pictures(fitted, X)
    h, w = summary["image_shape"][:2]
    n = len(pictures)
    cols = min(5, n)
    rows = -(-n // cols)
    limit = float(np.abs(pictures).max()) or 1.0
    size = (2.2 * cols + 1.2, 2.3 * rows + 0.5)
    title = layout.title_lines(f"{run_name(summary)}: pixels that raise (red) or lower (blue) the predicted class's "
                               f"probability, mean over {len(X)} stored rows", size[0])
    frame = layout.Frame(title_lines=len(title), xlabel=False, ylabel=False, ticks=False, colorbar=2)
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, axes = plt.subplots(rows, cols, figsize=size, squeeze=False,
                                 gridspec_kw=layout.grid(size, frame, rows, cols))
        for c, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if c < n:
                image = ax.imshow(pictures[c].reshape(h, w), cmap="RdBu_r", vmin=-limit, vmax=limit)
                ax.set_title(f"{_short(fitted.classes[c], 14)} ({counts[c]} rows)", fontsize=8)
        layout.colorbar(fig, image, axes, shrink=0.7, label="mean ∂p(class)/∂pixel")
        layout.suptitle(fig, title)
        return save_figure(fig, path)
