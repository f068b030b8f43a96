"""Figures (reports/figures.py): the outcome chart draws one point per patient with a change; the
survival chart draws the Kaplan-Meier steps, their band and the ENCALS curve it is given."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.path import Path

from alscell.domain import evaluation as ev
from alscell.domain.encals import SurvivalScale
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.protocol import ControlType
from alscell.domain.stats.survival import (
    ExpectedCurve,
    KaplanMeier,
    ObservedExpected,
    SurvivalComparison,
)
from alscell.reports.figures import (
    BAND_LABEL,
    CENSORED_LABEL,
    EXPECTED_LABEL,
    KAPLAN_MEIER_LABEL,
    LABELLED_PATIENTS,
    OBSERVED_LABEL,
    SURVIVAL_TITLE,
    outcome_chart,
    survival_chart,
    to_svg,
    waterfall_chart,
)
from alscell.storage.comparator_files import builtin_natural_history
from alscell.storage.protocol_files import builtin_protocol_path, read_protocol

ONSET = date(2024, 9, 1)
FIRST_DOSE = date(2026, 1, 15)
DOSES = tuple(ev.Dose(FIRST_DOSE + timedelta(days=7 * k), "implantation") for k in range(4))
# The seed plan: 6 months after the last implantation, window ± 14 days.
TARGET = DOSES[-1].given_on + timedelta(days=round(6 * DAYS_PER_MONTH))
BASELINE = (ev.Rating(date(2025, 12, 15), 40), ev.Rating(FIRST_DOSE, 38))


def course(code: str, *later: ev.Rating, event: tuple[str, date] | None = None) -> ev.PatientCourse:
    return ev.PatientCourse(patient_id=int(code[-2:]), study_code=code, onset_on=ONSET,
                            ratings=(*BASELINE, *later), doses=DOSES, event=event)  # fmt: skip


@pytest.fixture(scope="module")
def evaluation() -> ev.Evaluation:
    """Three patients with a change, one who died and one never rated at the time point."""
    courses = [
        course("P-01", ev.Rating(TARGET, 34)),
        course("P-02", ev.Rating(TARGET, 38)),
        course("P-03", ev.Rating(TARGET + timedelta(days=3), 40)),
        course("P-04", event=("death", FIRST_DOSE + timedelta(days=60))),
        course("P-05"),
    ]
    design = ev.Design(control=ControlType.NONE, rater_blinded=False, comparator="natural_history",
                       plan_version="1.0", plan_locked_on=date(2025, 12, 1), first_treatment_on=FIRST_DOSE,
                       amendments_after_first_treatment=0)  # fmt: skip
    return ev.evaluate(courses, read_protocol(builtin_protocol_path()), design=design, plan_locked=True,
                       model=builtin_natural_history(), cutoff=date(2026, 12, 31), seed=1, draws=400)  # fmt: skip


def observed(lines: list[Line2D]) -> tuple[list[float], list[float]]:
    """The x and y of the one line of observed changes."""
    [line] = [line for line in lines if line.get_label() == OBSERVED_LABEL]
    assert line.get_marker() == "o"
    assert line.get_linestyle() == "None"
    return np.asarray(line.get_xdata()).tolist(), np.asarray(line.get_ydata()).tolist()


def test_one_point_per_patient_with_a_change(evaluation):
    figure = outcome_chart(evaluation)
    [axes] = figure.axes

    xs, changes = observed(axes.get_lines())

    assert changes == [-4, 0, 2]
    assert xs == [0, 1, 2]
    assert [tick.get_text() for tick in axes.get_xticklabels()] == ["P-01", "P-02", "P-03"]


def test_natural_history_is_drawn_for_the_same_patients(evaluation):
    [axes] = outcome_chart(evaluation).axes
    [bars] = axes.collections  # the 95% prediction intervals, one segment each
    assert isinstance(bars, LineCollection)
    shown = [p for p in evaluation.patients if p.change is not None]

    assert [(low, high) for (_, low), (_, high) in bars.get_segments()] == [
        (p.expected_interval.low, p.expected_interval.high) for p in shown if p.expected_interval
    ]
    assert any(np.asarray(line.get_ydata()).tolist() == [0, 0] for line in axes.get_lines())


def test_the_chart_is_an_svg_and_byte_stable(evaluation):
    svg = to_svg(outcome_chart(evaluation))

    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert svg == to_svg(outcome_chart(evaluation))


def test_no_patient_with_a_change_gives_an_empty_chart(evaluation):
    none_rated = dataclasses.replace(
        evaluation, patients=tuple(p for p in evaluation.patients if p.change is None)
    )
    [axes] = outcome_chart(none_rated).axes

    assert observed(axes.get_lines()) == ([], [])
    assert len(axes.collections) == 0


def test_a_large_cohort_keeps_one_column_each_without_naming_them(evaluation):
    """Beyond LABELLED_PATIENTS the columns stay, one per patient, but unnamed, on a page-wide chart."""
    [rated] = [p for p in evaluation.patients if p.change is not None][:1]
    many = tuple(
        dataclasses.replace(rated, study_code=f"P-{i:04d}") for i in range(LABELLED_PATIENTS + 1)
    )
    large = dataclasses.replace(evaluation, patients=many)

    for chart in (outcome_chart, waterfall_chart):
        figure = chart(large)
        [axes] = figure.axes
        assert [tick.get_text() for tick in axes.get_xticklabels()] == []
        assert f"{LABELLED_PATIENTS + 1:,} patients" in axes.get_xlabel()
        assert figure.get_figwidth() <= 11.0
    xs, _ = observed(outcome_chart(large).axes[0].get_lines())
    assert xs == list(range(LABELLED_PATIENTS + 1))


def test_up_to_the_limit_every_column_is_named(evaluation):
    [rated] = [p for p in evaluation.patients if p.change is not None][:1]
    codes = [f"P-{i:04d}" for i in range(LABELLED_PATIENTS)]
    large = dataclasses.replace(
        evaluation, patients=tuple(dataclasses.replace(rated, study_code=c) for c in codes)
    )

    [axes] = outcome_chart(large).axes

    assert [tick.get_text() for tick in axes.get_xticklabels()] == codes


# ---------------------------------------------------------------- survival from enrollment

KM_MONTHS = (0.0, 2.5, 4.0, 7.25)
KM_SURVIVAL = (1.0, 0.75, 0.5, 0.5)
KM_LOWER = (1.0, 0.3, 0.15, 0.15)
KM_UPPER = (1.0, 0.95, 0.85, 0.85)
EXPECTED_MONTHS = (0.0, 2.0, 4.0, 6.0, 8.0)
EXPECTED_SURVIVAL = (1.0, 0.97, 0.93, 0.88, 0.82)


@pytest.fixture(scope="module")
def comparison() -> SurvivalComparison:
    """Four patients: events at 2.5 and 4 months, one censored at 4, one at 7.25."""
    observed = KaplanMeier(months=KM_MONTHS, survival=KM_SURVIVAL, lower=KM_LOWER, upper=KM_UPPER,
                           at_risk=(4, 4, 3, 1), events=(0, 1, 1, 0), censored=(0, 0, 1, 1),
                           median_months=4.0, n=4, confidence=0.95)  # fmt: skip
    expected = ExpectedCurve(months=EXPECTED_MONTHS, survival=EXPECTED_SURVIVAL, patients=4,
                             excluded=0, scale=SurvivalScale.ODDS)  # fmt: skip
    events = ObservedExpected(observed=2, expected=0.5, ratio=4.0, interval=ev.Interval(0.48, 14.4),
                              p_value=0.18, patients=4, excluded=0, scale=SurvivalScale.ODDS,
                              confidence=0.95)  # fmt: skip
    return SurvivalComparison(observed=observed, expected=expected, events=events)


def steps_post(xs: Sequence[float], ys: Sequence[float]) -> list[tuple[float, float]]:
    """The corners of a right-continuous step function through (x, y): across, then down."""
    corners = [(xs[0], ys[0])]
    for x, y, previous in zip(xs[1:], ys[1:], ys, strict=False):
        corners += [(x, previous), (x, y)]
    return corners


def labelled(axes: Axes, label: str) -> Line2D:
    [line] = [line for line in axes.get_lines() if line.get_label() == label]
    return line


def corners_of(path: Path) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in np.asarray(path.vertices)]


def test_the_kaplan_meier_steps_are_the_estimate(comparison):
    [axes] = survival_chart(comparison).axes
    line = labelled(axes, KAPLAN_MEIER_LABEL)

    assert line.get_drawstyle() == "steps-post"
    assert corners_of(line.get_path()) == steps_post(KM_MONTHS, KM_SURVIVAL)


def test_the_band_is_the_pointwise_interval_as_steps(comparison):
    [axes] = survival_chart(comparison).axes
    [band] = axes.collections
    corners = set(corners_of(band.get_paths()[0]))

    assert band.get_label() == "observed: pointwise 95% interval"
    assert band.get_label() == BAND_LABEL.format(confidence=0.95)
    assert corners == set(steps_post(KM_MONTHS, KM_LOWER)) | set(steps_post(KM_MONTHS, KM_UPPER))


def test_censored_patients_are_marked_on_the_steps(comparison):
    [axes] = survival_chart(comparison).axes
    marks = labelled(axes, CENSORED_LABEL)

    assert marks.get_marker() == "+"
    assert marks.get_linestyle() == "None"
    assert np.asarray(marks.get_xdata()).tolist() == [4.0, 7.25]
    assert np.asarray(marks.get_ydata()).tolist() == [0.5, 0.5]


def test_the_expected_curve_is_encals_for_the_same_patients(comparison):
    figure = survival_chart(comparison)
    [axes] = figure.axes
    line = labelled(axes, EXPECTED_LABEL)

    assert np.asarray(line.get_xdata()).tolist() == list(EXPECTED_MONTHS)
    assert np.asarray(line.get_ydata()).tolist() == list(EXPECTED_SURVIVAL)
    assert line.get_drawstyle() == "default"  # a curve, not steps
    assert axes.get_title() == SURVIVAL_TITLE
    assert axes.get_xlim() == (0.0, 8.0)
    assert axes.get_ylim()[0] == 0.0
    assert axes.get_xlabel() == "months from enrollment"
    assert {text.get_text() for text in figure.legends[0].get_texts()} == {
        KAPLAN_MEIER_LABEL,
        "observed: pointwise 95% interval",
        CENSORED_LABEL,
        EXPECTED_LABEL,
    }


def test_without_censoring_no_marks_are_drawn(comparison):
    no_censoring = dataclasses.replace(
        comparison, observed=dataclasses.replace(comparison.observed, censored=(0, 0, 0, 0))
    )
    [axes] = survival_chart(no_censoring).axes

    assert CENSORED_LABEL not in {line.get_label() for line in axes.get_lines()}


def test_the_survival_chart_is_an_svg_and_byte_stable(comparison):
    svg = to_svg(survival_chart(comparison))

    assert svg.startswith("<svg")
    assert svg == to_svg(survival_chart(comparison))
