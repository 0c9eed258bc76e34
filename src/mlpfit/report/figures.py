"""Every picture of a run: the plots of the fit (report.plots), what the hidden units compute
(report.units) and which inputs matter (report.sensitivity). The one list the report, the fit and
``Result.plot`` draw, so each shows the same files."""

from __future__ import annotations

from mlpfit.report import plots, sensitivity, units


def write_all(folder: str, summary: dict, history, fitted, samples: dict | None, equations=None) -> list[str]:
    """Every figure that fits this run, written into ``folder``; returns the paths."""
    paths = plots.write_all(folder, summary, history, fitted, samples, equations)
    paths += units.write(folder, summary, fitted, samples)
    paths += sensitivity.write(folder, summary, fitted, samples)
    return paths
