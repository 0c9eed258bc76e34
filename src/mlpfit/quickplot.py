"""A small figure for :meth:`mlpfit.Result.plot`: the loss history and, for one input, the fit.

It draws on a bare :class:`matplotlib.figure.Figure` (rendered by Agg when saved), so it never
touches pyplot's global state or needs a display. The full plots live in the plots module.
"""

from __future__ import annotations

import numpy as np


def result_figure(result):
    """Loss per epoch (log scale); beside it, for a one-input regression, the data and the net's curve."""
    from matplotlib.figure import Figure

    show_fit = result.fitted.task == "regress" and len(result.fitted.inputs) == 1 and bool(result.samples)
    figure = Figure(figsize=(10 if show_fit else 5, 4), layout="constrained")
    axes = figure.subplots(1, 2 if show_fit else 1, squeeze=False)[0]
    loss_axes(axes[0], result.history)
    if show_fit:
        fit_axes(axes[1], result)
    return figure


def loss_axes(ax, history) -> None:
    epochs = history.column("epoch")
    for key, label in (("train_loss", "train"), ("val_loss", "validation")):
        values = np.asarray(history.column(key), dtype=float)
        ax.plot(epochs, np.where(values > 0, values, np.nan), label=label)
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss (scaled units)", title="training history")
    ax.legend()


def fit_axes(ax, result) -> None:
    X, Y = result.samples["train_X"], result.samples["train_Y"]
    grid = np.linspace(X.min(), X.max(), 400).reshape(-1, 1)
    predicted = result.predict(grid)
    for k, name in enumerate(result.fitted.outputs):
        ax.scatter(X[:, 0], Y[:, k], s=4, alpha=0.3, label=f"{name} (data)")
        ax.plot(grid[:, 0], predicted[:, k], label=f"{name} (net)")
    ax.set(xlabel=result.fitted.inputs[0], title="the fit")
    ax.legend(fontsize="small")
