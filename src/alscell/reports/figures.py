"""Figures as SVG, drawn with matplotlib's object API (never pyplot: not thread-safe in a server).

SVGs are byte-stable: a fixed hash salt and no date in the metadata, so the same data give the same file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import matplotlib
import matplotlib.dates
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["alsfrs_chart", "to_svg"]

matplotlib.rcParams["svg.hashsalt"] = "alscell"


def alsfrs_chart(
    points: Sequence[tuple[date, int]],
    *,
    treatment: tuple[date, date] | None = None,
    title: str = "ALSFRS-R",
) -> Figure:
    """ALSFRS-R total over time, the treatment period shaded (a patient's page)."""
    figure = Figure(figsize=(7.0, 3.2), dpi=100)
    axes: Axes = figure.add_subplot()
    if treatment is not None:
        start, end = (float(matplotlib.dates.date2num(day)) for day in treatment)  # type: ignore[no-untyped-call]
        axes.axvspan(start, end, color="#1f5fbf", alpha=0.12, label="treatment program")
    if points:
        days, totals = zip(*points, strict=True)
        axes.plot(days, totals, marker="o", color="#1d2433", label="ALSFRS-R total")
    axes.set_ylim(0, 48)
    axes.set_ylabel("ALSFRS-R total (0-48)")
    axes.set_xlabel("date")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if points or treatment:
        axes.legend(loc="lower left", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def to_svg(figure: Figure) -> str:
    """The figure as an inline SVG element (no XML prolog), without date metadata."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]
