"""Where a figure's axes go: margins fixed in inches, from what the figure holds.

Every report figure is laid out here, without a layout engine. matplotlib's constrained layout
measured every text of every axes (``get_tightbbox``) on each draw, nearly half of a figure's
CPU time. A figure's surroundings are known before it is drawn: how many lines its title has,
whether its axes carry labels and ticks, whether colorbars sit beside them. So the room for them
is reserved in inches (a colorbar or an axis label is as wide in a small figure as in a large one),
sized for tick labels as wide as "-1000", "1e-05" or "-0.25" and for the names the figure shows,
and long titles are wrapped or shortened to the width they have.

Fixed margins, with titles at a fixed height (plots.STYLE), units.png's numbers as one collection of
outlines (report.units) and PNG zlib level 1 (plots.save_figure), cut the quick start's four figures
to about 0.6 of their CPU time under constrained layout (benchmarks/README.md has the times). What
is left is mostly matplotlib's cost per tick (a tick is five artists: 0.03-0.06 s a figure) and per
axes, and the network's own work (fit's predictions, sensitivity's partial dependence: 0.03-0.05 s).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

EDGE = 0.08  # blank border around everything, inches
CHAR = 0.085  # a 9-pt tick label's character (DejaVu digits are 0.64 em, a minus 0.84 em)
TEXT_CHAR = 0.075  # an average character of 9-pt text (letters and spaces), for shortening
TITLE_CHAR = 0.075  # ... of 10-pt title text (measured: 0.064-0.07)
LINE = 0.16  # a line of 9-pt text
TITLE_LINE = 0.19  # a line of a 10-pt title, with its leading
TICKS = 0.1  # a tick (3.5 pt) and its label's pad (3.5 pt)
LABEL = 0.22  # an axis label and its 4-pt pad
AXES_TITLE = 0.27  # a 10-pt axes title and its 6-pt pad
OVERHANG = 0.22  # the last x tick label's half that sticks out right of its axes
GAP = 0.12  # air between one panel's texts and the next panel's
TICK_CHARS = 5  # the tick labels planned for: "-1000", "1e-05", "-0.25"
BAR = 0.13  # a colorbar's width
BAR_PAD = 0.1  # between an axes and its colorbar
OFFSET_ROOM = 0.22  # above a colorbar, for its scale ("1e-7") under the title of its axes


@dataclass(frozen=True)
class Frame:
    """What sits around each axes of a figure (a grid of alike panels), to reserve room for."""

    title_lines: int = 0  # lines of the figure's title (suptitle)
    axes_title: bool = True
    xlabel: bool = True
    ylabel: bool = True
    ticks: bool = True  # tick labels on both axes (False: axes switched off)
    ytick_chars: int = TICK_CHARS
    xtick_chars: int = 0  # > 0: x tick labels rotated 45°, this long
    colorbar: int = 0  # colorbar right of the panels: 0 none, 1 with tick labels, 2 with a label too
    colorbar_between: bool = False  # colorbars also between columns (else only right of the last)
    right: float = OVERHANG  # room right of the last column besides a colorbar's
    left: float = 0.0  # more room left of the first column only (wide tick labels there alone)

    def left_of_axes(self) -> float:
        return (TICKS + self.ytick_chars * CHAR if self.ticks else 0.0) + (LABEL if self.ylabel else 0.0)

    def below_axes(self) -> float:
        if not self.ticks:
            tick_labels = 0.0
        elif self.xtick_chars:
            tick_labels = TICKS + 0.71 * (self.xtick_chars * CHAR + LINE)  # rotated 45°
        else:
            tick_labels = TICKS + LINE
        return tick_labels + (LABEL if self.xlabel else 0.0)

    def above_axes(self) -> float:
        return AXES_TITLE if self.axes_title else 0.0

    def colorbar_room(self) -> float:
        """Right of a colorbar (carved from its axes' width): its ticks, labels and title."""
        return (TICKS + TICK_CHARS * CHAR + (LABEL if self.colorbar == 2 else 0.0)) if self.colorbar else 0.0


def grid(size: tuple[float, float], frame: Frame, rows: int = 1, cols: int = 1) -> dict:
    """``subplots_adjust`` / gridspec parameters placing ``rows`` x ``cols`` axes in a figure of
    ``size`` inches with ``frame``'s room around each."""
    width, height = size
    left = EDGE + frame.left_of_axes() + frame.left
    right = EDGE + max(frame.colorbar_room(), frame.right)  # a colorbar's labels stand above the tick's overhang
    top = EDGE + frame.title_lines * TITLE_LINE + frame.above_axes()
    bottom = EDGE + frame.below_axes()
    gap_w = frame.left_of_axes() + max(frame.colorbar_room() if frame.colorbar_between else 0.0, OVERHANG) + GAP
    gap_h = frame.below_axes() + frame.above_axes() + GAP
    axes_w = max(0.3, (width - left - right - (cols - 1) * gap_w) / cols)
    axes_h = max(0.3, (height - top - bottom - (rows - 1) * gap_h) / rows)
    return {"left": left / width, "right": 1 - right / width, "bottom": bottom / height, "top": 1 - top / height,
            "wspace": gap_w / axes_w, "hspace": gap_h / axes_h}


def title_lines(text: str, width: float) -> list[str]:
    """A figure title's lines, each wrapped to ``width`` inches."""
    chars = max(20, int((width - 2 * EDGE) / TITLE_CHAR))
    return [part for line in text.split("\n") for part in (textwrap.wrap(line, chars) or [""])]


def suptitle(fig, lines: list[str], fontsize: float = 10) -> None:
    """The figure's title, its top ``EDGE`` below the figure's top."""
    fig.suptitle("\n".join(lines), y=1 - EDGE / fig.get_size_inches()[1], va="top", fontsize=fontsize)


def shorten(text: str, width: float, char: float = TEXT_CHAR) -> str:
    """``text``, cut with an ellipsis to about ``width`` inches of 9-pt text."""
    limit = max(4, int(width / char))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def axes_width(fig, ax) -> float:
    """An axes' width in inches."""
    return ax.get_position().width * fig.get_size_inches()[0]


def colorbar(fig, mappable, axes, *, label: str | None = None, shrink: float = 0.9, extend: str = "neither"):
    """A colorbar right of ``axes`` (one or a row of them), its width taken from theirs in inches.

    Axes of fixed aspect (images) are measured where they draw, so the bar sits beside the picture.
    """
    axes = list(axes) if isinstance(axes, (list, tuple)) else list(getattr(axes, "flat", [axes]))
    width, height = fig.get_size_inches()
    boxes = [ax.get_position() for ax in axes]
    x0, x1 = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    scale = (x1 - x0 - (BAR + BAR_PAD) / width) / (x1 - x0)
    for ax, b in zip(axes, boxes):
        ax.set_position([x0 + (b.x0 - x0) * scale, b.y0, b.width * scale, b.height])
        ax.apply_aspect()
    drawn = [ax.get_position() for ax in axes if ax.get_visible()]
    right = max(b.x1 for b in drawn)
    y0, y1 = min(b.y0 for b in drawn), max(b.y1 for b in drawn)
    gap = (y1 - y0) * (1 - shrink) / 2
    top = max(gap, OFFSET_ROOM / height)  # the bar's "1e-7" multiplier stands above it, below the axes title
    cax = fig.add_axes([right + BAR_PAD / width, y0 + gap, BAR / width, y1 - y0 - gap - top])
    return fig.colorbar(mappable, cax=cax, label=label, extend=extend)
