"""``units.png``: what each hidden unit computes, for runs with one or two inputs.

Every hidden unit's output over the training box (a curve for one input, a small heatmap for two),
layer by layer, as TensorFlow Playground shows them. The frame of each unit says where its output
goes: for the last hidden layer of a one-output net, red for a positive and blue for a negative
weight to the output, thicker for larger; elsewhere grey, thicker for a larger sum of |outgoing
weights|. A unit with a flat picture is dead or saturated; a thin frame marks a unit the next
layer hardly reads. Each layer is one mosaic in one axes (a hundred small axes cost seconds to
draw). Ensembles show their first member; layers wider than ``MAX_UNITS`` show their first units.
"""

# Deferred imports: matplotlib loads inside the functions that draw, so the numbers need none.

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from mlpfit.network import gradient
from mlpfit.report import layout
from mlpfit.report.domain import training_box

MAX_UNITS = 64  # per layer: more would be too small to read
COLUMNS = 16  # units per row of a layer's mosaic
CELL = 40  # heatmap pixels per side of one unit
PAD = 10  # pixels between cells (room for the frame)
CURVE_POINTS = 120
POSITIVE, NEGATIVE, UNSIGNED = "#c44e52", "#4c72b0", "#666666"
BOUNDED = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}  # a fixed colour scale shows saturation as such


@dataclass
class UnitsDrawing:
    path: str
    shown: list[int]  # units drawn, per hidden layer
    total: list[int]  # units the layer has


def applicable(summary: dict) -> bool:
    """One or two (non-image) inputs and at least one hidden layer."""
    sizes = summary.get("architecture", {}).get("sizes", [])
    return len(summary.get("inputs", [])) in (1, 2) and len(sizes) > 2 and not summary.get("image_shape")


def single_network(fitted):
    """The plain network to draw, as NumPy arrays: the model itself, or an ensemble's first member
    (and the member count)."""
    net = fitted
    return net.member(0), net.members


def hidden_outputs(net, scaled: np.ndarray) -> list[np.ndarray]:
    """Every hidden layer's activations ``[points, units]`` for scaled inputs (a single network)."""
    return gradient.hidden_outputs(net, scaled)


def outgoing(net) -> list[tuple[np.ndarray, bool]]:
    """Per hidden layer: each unit's outgoing weight (signed, for the last layer of a one-output net)
    or its sum of |outgoing weights| (unsigned), and whether it is signed."""
    weights = [np.asarray(w, dtype=np.float64) for w in net.weights[1:]]
    result = []
    for i, W in enumerate(weights):  # W: [next units, these units]
        if i == len(weights) - 1 and W.shape[0] == 1:
            result.append((W[0], True))
        else:
            result.append((np.abs(W).sum(axis=0), False))
    return result


def grid_points(box, cell: int = CELL) -> np.ndarray:
    """Raw input points: a line of CURVE_POINTS for one input, a cell x cell grid (x fast) for two."""
    if len(box) == 1:
        return np.linspace(*box[0], CURVE_POINTS)[:, None]
    gx, gy = np.meshgrid(np.linspace(*box[0], cell), np.linspace(*box[1], cell))
    return np.column_stack([gx.ravel(), gy.ravel()])


def write(folder: str, summary: dict, fitted, samples: dict | None) -> list[str]:
    """``units.png`` in ``folder`` when the run suits it; returns the paths written."""
    if not applicable(summary):
        return []
    X = samples["train_X"] if samples and "train_X" in samples else None
    if X is None and not summary.get("domain"):
        return []  # no box to draw over
    box = training_box(summary, np.asarray(X if X is not None else np.zeros((1, len(summary["inputs"])))))
    return [units_plot(fitted, summary, box, os.path.join(folder, "units.png")).path]


def units_plot(fitted, summary: dict, box, path: str) -> UnitsDrawing:
    """Draw every hidden layer's units (at most MAX_UNITS each); returns the path and the counts."""
    import matplotlib.pyplot as plt

    from mlpfit.report.plots import STYLE, run_name, save_figure

    net, members = single_network(fitted)
    points = grid_points(box)
    activations = hidden_outputs(net, fitted.x_scaler.transform(points))
    weights = outgoing(net)
    total = [a.shape[1] for a in activations]
    shown = [min(n, MAX_UNITS) for n in total]
    heights = [0.5 + -(-n // COLUMNS) for n in shown]
    layer_titles = [_layer_title(i, total[i], shown[i], net.activation, weights[i][1], fitted.outputs)
                    for i in range(len(shown))]
    # As wide as the mosaic needs, or as its longest layer title (a narrow net's title would run off the page)
    width = max(0.8 * min(COLUMNS, max(shown)) + 1.6, layout.TEXT_CHAR * max(map(len, layer_titles)) + 2 * layout.EDGE)
    title = layout.title_lines(_figure_title(run_name(summary), summary["inputs"], box, members), width)
    size = (width, 0.8 * sum(heights) + 0.7 + layout.TITLE_LINE * len(title))
    frame = layout.Frame(title_lines=len(title), xlabel=False, ylabel=False, ticks=False, colorbar=2 * (len(box) == 2))
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, axes = plt.subplots(len(shown), 1, figsize=size, height_ratios=heights, squeeze=False,
                                 gridspec_kw=layout.grid(size, frame, len(shown)))
        for i, ax in enumerate(axes[:, 0]):
            values = activations[i][:, : shown[i]]
            strength, signed = weights[i]
            draw = _heatmaps if len(box) == 2 else _curves
            draw(ax, values, strength[: shown[i]], signed, BOUNDED.get(net.activation))
            ax.set_title(layer_titles[i], fontsize=9, loc="left")
        layout.suptitle(fig, title)
        return UnitsDrawing(save_figure(fig, path), shown, total)


def _layer_title(i: int, total: int, shown: int, activation: str, signed: bool, outputs) -> str:
    count = f"{total} {activation} units" + (f" (first {shown} shown)" if shown < total else "")
    frame = (f"frame: weight to {outputs[0] if len(outputs[0]) < 20 else 'the output'}, red + / blue −, "
             "thicker = larger" if signed else "frame: grey, thicker = larger sum of |outgoing weights|")
    return f"hidden layer {i + 1}: {count}; {frame}"


def _figure_title(name: str, inputs, box, members: int) -> str:
    where = " × ".join(f"{n} ∈ [{lo:.3g}, {hi:.3g}]" for n, (lo, hi) in zip(inputs, box))
    axes = f"{inputs[0]} → right" + (f", {inputs[1]} → up" if len(inputs) == 2 else ", unit output ↑")
    member = f"; first of {members} ensemble members" if members > 1 else ""
    return f"{name}: what each hidden unit computes over {where} ({axes}){member}"


def _frame_widths(strength: np.ndarray) -> np.ndarray:
    top = float(np.abs(strength).max()) or 1.0
    return 0.4 + 3.6 * np.abs(strength) / top


def _frame_colours(strength: np.ndarray, signed: bool) -> list[str]:
    return [(POSITIVE if s >= 0 else NEGATIVE) if signed else UNSIGNED for s in strength]


def _cell_origin(j: int, cell: int) -> tuple[int, int]:
    return (j % COLUMNS) * (cell + PAD) + PAD // 2, (j // COLUMNS) * (cell + PAD) + PAD // 2


def _frames(ax, count: int, strength, signed: bool, cell: int, ink: list[str] | None = None) -> None:
    """Each cell's frame and, in its top left corner, the unit's number in ``ink`` (a colour per
    cell that stands out from the picture there; dark by default)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    boxes = [Rectangle((x, y), cell, cell) for x, y in (_cell_origin(j, cell) for j in range(count))]
    ax.add_collection(PatchCollection(boxes, facecolor="none", edgecolor=_frame_colours(strength, signed),
                                      linewidths=_frame_widths(strength)))
    _numbers(ax, count, cell, ink or ["#222222"] * count)


def _numbers(ax, count: int, cell: int, ink: list[str]) -> None:
    """The units' numbers as glyph outlines in one collection: drawn in one go, a third of the cost
    of 128 text artists (a backing box per number, as before, cost a fifth of the figure)."""
    from matplotlib.collections import PathCollection
    from matplotlib.transforms import Affine2D

    corners = [(x + 2, y + 1.5) for x, y in (_cell_origin(j, cell) for j in range(count))]
    ax.add_collection(PathCollection([number_path(j) for j in range(count)], offsets=corners,
                                     offset_transform=ax.transData, facecolors=ink, edgecolors="none",
                                     transform=Affine2D().scale(ax.figure.dpi / 72)))


@functools.lru_cache(maxsize=MAX_UNITS)
def number_path(number: int, size: float = 6):
    """``number``'s outline in points, hanging from (0, 0) (made once: every layer numbers its units alike)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    return TextPath((0, -0.75 * size), str(number), prop=FontProperties(size=size))


def label_inks(corners: np.ndarray, cmap, norm) -> list[str]:
    """White on a dark corner, near-black on a light one: each cell's number readable over its picture."""
    rgb = cmap(norm(corners))[:, :3]
    luminance = rgb @ np.array([0.299, 0.587, 0.114])
    return ["white" if v < 0.5 else "#111111" for v in luminance]


def _mosaic_limits(ax, count: int, cell: int) -> None:
    cols, rows = min(COLUMNS, count), -(-count // COLUMNS)
    ax.set_xlim(0, cols * (cell + PAD))
    ax.set_ylim(rows * (cell + PAD), 0)  # row 0 on top
    ax.set_aspect("equal")
    ax.set_anchor("NW")  # under its title, left-aligned like it
    ax.set_axis_off()


def _heatmaps(ax, values: np.ndarray, strength, signed: bool, bounds) -> None:
    """Two inputs: a CELL x CELL picture per unit, one shared colour scale per layer."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    count = values.shape[1]
    cols, rows = min(COLUMNS, count), -(-count // COLUMNS)
    mosaic = np.full((rows * (CELL + PAD), cols * (CELL + PAD)), np.nan)
    for j in range(count):
        x, y = _cell_origin(j, CELL)
        mosaic[y : y + CELL, x : x + CELL] = values[:, j].reshape(CELL, CELL)[::-1]  # second input upward
    lo, hi = bounds or (float(np.nanmin(values)), float(np.nanmax(values)))
    colours = ScalarMappable(Normalize(lo, hi if hi > lo else lo + 1), "viridis")
    # Coloured here, once, as bytes: matplotlib would colour the float mosaic (NaN gaps masked) at a
    # slower pace on every draw. The gaps stay transparent.
    ax.imshow(colours.to_rgba(mosaic, bytes=True), interpolation="nearest", extent=(0, mosaic.shape[1], mosaic.shape[0], 0))
    corners = np.array([np.nanmean(mosaic[y : y + 8, x : x + 10]) for x, y in (_cell_origin(j, CELL) for j in range(count))])
    _frames(ax, count, strength, signed, CELL, label_inks(corners, colours.cmap, colours.norm))
    _mosaic_limits(ax, count, CELL)
    layout.colorbar(ax.figure, colours, ax, shrink=0.8, label="unit output")


def _curves(ax, values: np.ndarray, strength, signed: bool, bounds) -> None:
    """One input: each unit's output as a curve in its cell, one shared vertical scale per layer."""
    from matplotlib.collections import LineCollection

    count = values.shape[1]
    lo, hi = bounds or (float(values.min()), float(values.max()))
    span = hi - lo if hi > lo else 1.0
    xs = np.linspace(0, CELL, len(values))
    lines, zeros = [], []
    for j in range(count):
        x, y = _cell_origin(j, CELL)
        lines.append(np.column_stack([x + xs, y + CELL * (0.9 - 0.8 * (values[:, j] - lo) / span)]))
        if lo < 0 < hi:  # a light line at 0, inside a margin that keeps saturated curves off the frame
            zero = y + CELL * (0.9 - 0.8 * (0 - lo) / span)
            zeros.append([(x, zero), (x + CELL, zero)])
    ax.add_collection(LineCollection(zeros, colors="#cccccc", linewidths=0.6))
    ax.add_collection(LineCollection(lines, colors="#222222", linewidths=1.1))
    _frames(ax, count, strength, signed, CELL)
    _mosaic_limits(ax, count, CELL)
