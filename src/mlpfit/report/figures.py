"""Every picture of a run: the plots of the fit (report.plots), what the hidden units compute
(report.units) and which inputs matter (report.sensitivity). The one list the report, the fit and
``Result.plot`` draw, so each shows the same files, in this order."""

from __future__ import annotations

from mlpfit.report import plots, sensitivity, units
from mlpfit.report.drawing import draw_all

SENSITIVITY_COST = 3.0  # relative to another figure's


def write_all(folder: str, summary: dict, history, fitted, samples: dict | None, equations=None) -> list[str]:
    """Every figure that fits this run, written into ``folder`` (side by side where safe: report.drawing);
    returns the paths."""
    # NumPy arrays, once: a forked child must never run torch (its thread pools do not survive a fork).
    net = fitted
    fit_plots = plots.jobs(folder, summary, history, net, samples, equations)
    jobs = [*fit_plots, lambda: units.write(folder, summary, net, samples),
            lambda: sensitivity.write(folder, summary, net, samples)]
    # The sensitivity figure costs most (importances, up to eight curves, nine panels: 0.6-0.9 s against
    # 0.1-0.3 s for each other figure); dealt first, it gets a lane to itself.
    return draw_all(jobs, costs=[1.0] * (len(fit_plots) + 1) + [SENSITIVITY_COST])
