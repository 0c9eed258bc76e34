"""quickplot: the small figure behind Result.plot, drawn without pyplot."""
import numpy as np
from matplotlib.figure import Figure

from mlpfit.quickplot import loss_axes
from mlpfit.train.history import History


def test_loss_axes_draws_both_curves_and_hides_zero_losses_on_the_log_scale():
    history = History()
    for epoch, (train, val) in enumerate([(1.0, 2.0), (0.1, 0.5), (0.0, 0.2)], start=1):
        history.append({"epoch": epoch, "train_loss": train, "val_loss": val, "lr": 0.01, "seconds": 0.0})
    ax = Figure().subplots()
    loss_axes(ax, history)
    train_line, val_line = ax.get_lines()
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]
    assert np.isnan(train_line.get_ydata()[2]) and list(val_line.get_ydata()) == [2.0, 0.5, 0.2]
