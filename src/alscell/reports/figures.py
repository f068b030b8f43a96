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
from matplotlib.ticker import MaxNLocator

from alscell.domain.evaluation import KNOWN, Evaluation, PatientResult
from alscell.domain.report import Band, Trajectory
from alscell.domain.stats.survival import KaplanMeier, SurvivalComparison

__all__ = [
    "BAND_LABEL",
    "CENSORED_LABEL",
    "EXPECTED_LABEL",
    "KAPLAN_MEIER_LABEL",
    "LABELLED_PATIENTS",
    "OBSERVED_LABEL",
    "SURVIVAL_TITLE",
    "alsfrs_chart",
    "category_chart",
    "outcome_chart",
    "spaghetti_chart",
    "survival_chart",
    "to_svg",
    "waterfall_chart",
]

OBSERVED_LABEL = "observed change"
"""The label of the observed changes' line in :func:`outcome_chart` (one marker per patient)."""
KAPLAN_MEIER_LABEL = "observed: Kaplan-Meier"
"""The label of the Kaplan-Meier step line in :func:`survival_chart`."""
BAND_LABEL = "observed: pointwise {confidence:.0%} interval"
"""The label of the Kaplan-Meier interval band in :func:`survival_chart`, formatted with its confidence."""
CENSORED_LABEL = "censored"
"""The label of the censoring marks in :func:`survival_chart` (one per time with a patient censored)."""
EXPECTED_LABEL = "ENCALS expected, conditional on survival to enrollment"
"""The label of the ENCALS expected curve in :func:`survival_chart`."""
SURVIVAL_TITLE = "Survival from enrollment beside ENCALS for the same patients"
LABELLED_PATIENTS = 60
"""Up to this many patients, a chart with a column per patient names each column by study code."""
MAX_WIDTH_INCHES = 11.0
"""The widest a chart with a column per patient grows (a landscape A4 page's width, about)."""

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


def outcome_chart(evaluation: Evaluation) -> Figure:
    """Each patient's ALSFRS-R change at the time point beside natural history's 95% prediction
    interval and median for them (the results page).

    Only patients with a change are drawn, one column each by study code; the others are left out.
    """
    shown = [patient for patient in evaluation.patients if patient.change is not None]
    figure = Figure(figsize=(_width(len(shown)), 4.2), dpi=100, layout="constrained")
    axes: Axes = figure.add_subplot()
    axes.axhline(0, color="#5b6475", linewidth=0.8)
    _draw_natural_history(axes, shown)
    changes = [patient.change for patient in shown if patient.change is not None]
    axes.plot(range(len(shown)), changes, linestyle="none", marker="o", color="#1d2433",
              markersize=6 if len(shown) <= LABELLED_PATIENTS else 2,
              label=OBSERVED_LABEL, zorder=3)  # fmt: skip
    _patient_axis(axes, [patient.study_code for patient in shown], "patient (study code)")
    axes.set_ylabel("ALSFRS-R change from baseline (points)")
    months = evaluation.time_point.months
    axes.set_title(f"ALSFRS-R change at {months:g} months beside natural history")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    if shown:
        figure.legend(loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    return figure


def _width(patients: int) -> float:
    """A chart with a column per patient: wider with each patient, up to a page's landscape width."""
    return min(max(7.0, 0.45 * patients + 2.0), MAX_WIDTH_INCHES)


def _patient_axis(axes: Axes, codes: Sequence[str], label: str) -> None:
    """One column per patient, named by study code while the names can be read.

    Beyond :data:`LABELLED_PATIENTS` the columns are not named one by one (thousands of labels can
    neither be read nor laid out in reasonable time); the axis says how many patients it holds.
    """
    n = len(codes)
    if n <= LABELLED_PATIENTS:
        axes.set_xticks(range(n), list(codes))
        axes.tick_params(axis="x", labelrotation=90 if n > 12 else 0)
    else:
        axes.set_xticks([])
        label = f"{label.replace('study code', 'one column each')}: {n:,} patients"
    axes.set_xlim(-0.7, max(n - 0.3, 0.7))
    axes.set_xlabel(label)


def _draw_natural_history(axes: Axes, patients: Sequence[PatientResult]) -> None:
    """Natural history's 95% prediction interval (a bar) and median (a tick) at each patient's column."""
    columns = [
        (x, p.expected_interval, p.expected_change)
        for x, p in enumerate(patients)
        if p.expected_interval is not None and p.expected_change is not None
    ]
    if not columns:
        return
    xs = [x for x, _, _ in columns]
    lows, highs = [i.low for _, i, _ in columns], [i.high for _, i, _ in columns]
    axes.vlines(xs, lows, highs, color="#1f5fbf", alpha=0.45, linewidth=6,
                label="natural history: 95% prediction interval")  # fmt: skip
    axes.plot(xs, [median for _, _, median in columns], linestyle="none", marker="_", markersize=14,
              markeredgewidth=2, color="#1f5fbf", label="natural history: median")  # fmt: skip


def survival_chart(comparison: SurvivalComparison) -> Figure:
    """Kaplan-Meier survival from enrollment, with its pointwise interval, beside the ENCALS expected
    survival of the same patients, conditional on the time each had survived at enrollment (the
    results page).

    Survival is free of death, tracheostomy and permanent ventilation; x is months from enrollment.
    """
    observed, expected = comparison.observed, comparison.expected
    figure = Figure(figsize=(7.0, 4.2), dpi=100, layout="constrained")
    axes: Axes = figure.add_subplot()
    axes.fill_between(observed.months, observed.lower, observed.upper, step="post", color="#1d2433",
                      alpha=0.15, linewidth=0, label=BAND_LABEL.format(confidence=observed.confidence))  # fmt: skip
    axes.plot(observed.months, observed.survival, drawstyle="steps-post", color="#1d2433",
              linewidth=1.8, label=KAPLAN_MEIER_LABEL)  # fmt: skip
    _draw_censored(axes, observed)
    axes.plot(expected.months, expected.survival, linestyle="--", color="#1f5fbf", linewidth=1.6,
              label=EXPECTED_LABEL)  # fmt: skip
    axes.set_xlim(0, max(observed.months[-1], expected.months[-1], 1.0))
    axes.set_ylim(0, 1.02)  # a curve at 1 stays visible above the frame's top edge
    axes.set_yticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    axes.set_xlabel("months from enrollment")
    axes.set_ylabel("survival free of death, tracheostomy\nor permanent ventilation")
    axes.set_title(SURVIVAL_TITLE)
    axes.grid(alpha=0.3)
    figure.legend(loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    return figure


def _draw_censored(axes: Axes, observed: KaplanMeier) -> None:
    """A "+" on the step at each time when a patient was censored."""
    times = [
        (month, survival)
        for month, survival, censored in zip(
            observed.months, observed.survival, observed.censored, strict=True
        )
        if censored
    ]
    if times:
        months, survival = zip(*times, strict=True)
        axes.plot(months, survival, linestyle="none", marker="+", markersize=9, color="#1d2433",
                  label=CENSORED_LABEL)  # fmt: skip


def spaghetti_chart(
    trajectories: Sequence[Trajectory], band: Band | None, *, time_point_months: float
) -> Figure:
    """Every patient's ALSFRS-R total in months from their first cell dose (one line each), the
    treatment period shaded, beside natural history's band of untreated courses from the same baselines."""
    figure = Figure(figsize=(7.0, 4.4), dpi=100, layout="constrained")
    axes: Axes = figure.add_subplot()
    longest = max((t.treatment_months for t in trajectories), default=0.0)
    axes.axvspan(
        0.0, max(longest, 0.15), color="#e0a21b", alpha=0.18, label="treatment period (cell doses)"
    )
    if band is not None:
        axes.fill_between(band.months, band.low, band.high, color="#1f5fbf", alpha=0.15, linewidth=0,
                          label=f"natural history: {band.coverage:.0%} of untreated courses")  # fmt: skip
        axes.plot(band.months, band.median, linestyle="--", color="#1f5fbf", linewidth=1.4,
                  label="natural history: median")  # fmt: skip
    for trajectory in trajectories:
        axes.plot(trajectory.months, trajectory.totals, marker="o", markersize=3.5, linewidth=1.1,
                  color="#1d2433", alpha=0.75)  # fmt: skip
    if trajectories:
        axes.plot(
            [], [], marker="o", markersize=3.5, color="#1d2433", label="each patient (observed)"
        )
    axes.axvline(time_point_months, color="#5b6475", linewidth=0.8, linestyle=":",
                 label=f"time point ({time_point_months:g} months)")  # fmt: skip
    axes.set_ylim(0, 48.5)
    axes.set_xlabel("months from first cell dose")
    axes.set_ylabel("ALSFRS-R total (points, 0-48)")
    axes.set_title("ALSFRS-R courses beside natural history")
    axes.grid(alpha=0.3)
    figure.legend(loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    return figure


def waterfall_chart(evaluation: Evaluation) -> Figure:
    """Observed minus natural history's median expected change per patient, sorted (one bar each);
    patients without both are left out."""
    shown = sorted(
        (
            (p.study_code, p.change - p.expected_change)
            for p in evaluation.patients
            if p.change is not None and p.expected_change is not None
        ),
        key=lambda item: item[1],
    )
    figure = Figure(figsize=(_width(len(shown)), 4.2), dpi=100, layout="constrained")
    axes: Axes = figure.add_subplot()
    differences = [difference for _, difference in shown]
    colours = ["#1f5fbf" if d >= 0 else "#b3412e" for d in differences]
    axes.bar(range(len(shown)), differences, color=colours, alpha=0.8)
    axes.axhline(0, color="#1d2433", linewidth=0.8)
    _patient_axis(axes, [code for code, _ in shown], "patient (study code), sorted")
    axes.set_ylabel("observed minus expected change\n(ALSFRS-R points)")
    axes.set_title(
        f"Observed minus natural history's expected change at {evaluation.time_point.months:g} months"
    )
    axes.grid(axis="y", alpha=0.3)
    return figure


def category_chart(evaluation: Evaluation) -> Figure:
    """Patients in each known outcome category beside natural history's expected count for them."""
    cohort = evaluation.cohort
    names = [category.value for category in KNOWN]
    observed = [cohort.counts[category] for category in KNOWN]
    expected = [cohort.expected.get(category, 0.0) for category in KNOWN]
    figure = Figure(figsize=(7.0, 3.8), dpi=100, layout="constrained")
    axes: Axes = figure.add_subplot()
    xs = range(len(names))
    axes.bar([x - 0.2 for x in xs], observed, width=0.4, color="#1d2433", label="observed")
    axes.bar([x + 0.2 for x in xs], expected, width=0.4, color="#1f5fbf", alpha=0.6,
             label="expected under natural history")  # fmt: skip
    axes.set_xticks(list(xs), names)
    axes.set_xlabel(f"category at {evaluation.time_point.months:g} months")
    axes.set_ylabel("patients")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"Outcome categories ({cohort.known} with a known outcome)")
    axes.grid(axis="y", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    if not evaluation.plan_locked:
        axes.text(0.5, 0.5, "analysis plan not locked: no patient categorised", transform=axes.transAxes,
                  ha="center", va="center", color="#5b6475")  # fmt: skip
    return figure


def to_svg(figure: Figure) -> str:
    """The figure as an inline SVG element (no XML prolog), without date metadata."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]
