"""Figures (reports/figures.py): the outcome chart draws one point per patient with a change."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from alscell.domain import evaluation as ev
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.protocol import ControlType
from alscell.reports.figures import OBSERVED_LABEL, outcome_chart, to_svg
from alscell.storage.natural_history_files import builtin_natural_history
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
