"""The results page (web/pages/results.py): the outcome evaluation, its statement before its numbers.

A cohort of five patients on the seed program (improved at +1 or more, worsened at -1 or less), each
given one implantation on day 10 (2026-01-15), so the 6-month time point is 2026-07-17 (± 14 days):
one declined 4 points, one unchanged, one improved 1 point, one died on 2026-04-01 and one was never
rated at the time point (and had the undispensed-unit block overridden). The app's clock is set after
the window has closed. The statistics are tested in tests/domain/test_evaluation.py; here, the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from markupsafe import escape
from sqlalchemy.orm import Session

from alscell import __version__
from alscell.domain.access import Role
from alscell.services import assessments, dosing, outcomes, protocols
from alscell.services.dosing import Override
from alscell.services.evaluation import DEFAULT_SEED, evaluate_program
from alscell.storage.models import Patient, Site
from tests.factories import make_site, make_user
from tests.services.scenario import (
    NORMAL_ITEMS,
    UNIT_IDS,
    Clinic,
    clear_bedside,
    clinic,
    day,
    dispensed,
    enrolled_in_treatment,
    released_units,
)
from tests.web.conftest import set_clock
from tests.web.pages import browser

AFTER_THE_WINDOW = datetime(2026, 8, 15, 9, 30, tzinfo=UTC)  # the window closed on 2026-07-31
SIX_MONTHS = date(2026, 7, 17)  # day 10 + round(6 × 30.4375) days
DIED_ON = date(2026, 4, 1)
AT_TIME_POINT = {
    "AMS-001": {**NORMAL_ITEMS, "q1": 3, "q4": 2, "q6": 3, "q8": 2},  # 42: from 46, -4
    "AMS-002": {**NORMAL_ITEMS, "q4": 3, "q8": 3},  # 46: unchanged
    "AMS-003": {**NORMAL_ITEMS, "q8": 3},  # 47: +1
}
CODES = ("AMS-001", "AMS-002", "AMS-003", "AMS-004", "AMS-005")
BANNED = re.compile(r"\b(effective|efficacy|success|proven|benefit)", re.IGNORECASE)


@dataclass
class Cohort:
    c: Clinic
    patients: dict[str, Patient]


def build_cohort(session: Session) -> Cohort:
    """Five patients, one dose each on day 10 (AMS-005's over a block); ratings at 6 months for
    three, a death for one."""
    c = clinic(session)
    enrolled = {code: enrolled_in_treatment(c, code=code) for code in CODES}
    for unit_id, unit, code in zip(UNIT_IDS, released_units(c, count=5), CODES, strict=True):
        patient, enrollment = enrolled[code]
        override = None
        if code == "AMS-005":
            override = Override(("unit.not_dispensed",), "unit hand-carried by the lab")
        else:
            dispensed(c, unit, patient, day(10))
        dosing.record_cell_dose(session, enrollment_id=enrollment.id, unit_id=unit_id, dose_cells=5e6,
                                given_on=day(10), bedside=clear_bedside(study_code=code), override=override,
                                by=c.physician, now=c.at(day(10)))  # fmt: skip
    for code, items in AT_TIME_POINT.items():
        assessments.record_alsfrs_rating(session, patient_id=enrolled[code][0].id, rated_on=SIX_MONTHS,
                                         items=items, by=c.nurse, now=c.at(SIX_MONTHS))  # fmt: skip
    outcomes.record_outcome_event(session, patient_id=enrolled["AMS-004"][0].id, kind="death",
                                  occurred_on=DIED_ON, source="family by telephone",
                                  by=c.physician, now=c.at(date(2026, 4, 2)))  # fmt: skip
    return Cohort(c, {code: patient for code, (patient, _) in enrolled.items()})


@pytest.fixture
def cohort(app: FastAPI, session: Session) -> Cohort:
    set_clock(app, AFTER_THE_WINDOW)  # before signing in: the login session starts on this clock
    return build_cohort(session)


def results_of(
    app: FastAPI, session: Session, cohort: Cohort, role: Role, site: Site | None = None
) -> str:
    user = make_user(session, role, site=site)
    response = browser(app, session, user).get(f"/results/{cohort.c.protocol.id}")
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture
def page(app: FastAPI, session: Session, cohort: Cohort) -> str:
    response = browser(app, session, cohort.c.physician).get(f"/results/{cohort.c.protocol.id}")
    assert response.status_code == 200, response.text
    return response.text


def count(html: str, category: str) -> int:
    found = re.search(
        rf'<tr data-category="{category}"><th scope="row">[^<]+</th><td>(\d+)</td>', html
    )
    assert found, category
    return int(found.group(1))


def patient_row(html: str, code: str) -> str:
    row = re.search(rf'<tr data-patient="{code}">(.*?)</tr>', html, re.S)
    assert row, code
    return row.group(1)


def category_of(html: str, code: str) -> str:
    badge = re.search(r'<span class="badge">([^<]+)</span>', patient_row(html, code))
    return badge.group(1) if badge else ""


def change_of(html: str, code: str) -> str:
    cell = re.search(r'<td class="change">([^<]*)</td>', patient_row(html, code))
    assert cell, code
    return cell.group(1)


# ---------------------------------------------------------------- the statement first


def test_the_statement_and_biases_come_before_any_number(page, session, cohort):
    evaluation = evaluate_program(session, protocol_id=cohort.c.protocol.id, by=cohort.c.physician,
                                  today=AFTER_THE_WINDOW.date())  # fmt: skip
    statement, table = page.index('id="statement"'), page.index('<table id="cohort"')

    assert page.index(">Data cut-off") < statement
    assert len(evaluation.statement) >= 4
    assert evaluation.biases
    for sentence in (*evaluation.statement, *evaluation.biases):
        assert statement < page.index(str(escape(sentence))) < table, sentence


def test_the_page_never_claims_the_treatment_works(page):
    assert BANNED.search(page) is None, BANNED.search(page)


# ---------------------------------------------------------------- numbers


def test_the_counts_per_category(page):
    counts = {
        name: count(page, name)
        for name in ("improved", "stable", "worsened", "died", "missing", "pending")
    }

    assert counts == {
        "improved": 1,
        "stable": 1,
        "worsened": 1,
        "died": 1,
        "missing": 1,
        "pending": 0,
    }
    assert 'data-category="uncategorised"' not in page
    assert "Completeness: 4 of 5 patients due have a known outcome (80%)." in page
    assert "with a safety block overridden: 1" in page
    assert "28% of patients given placebo met the same definition" in page


def test_each_patient_has_their_category_and_change(page):
    assert [category_of(page, code) for code in CODES] == [
        "worsened",
        "stable",
        "improved",
        "died",
        "missing",
    ]
    assert [change_of(page, code) for code in CODES] == ["-4", "0", "+1", "", ""]
    assert "death on 2026-04-01" in patient_row(page, "AMS-004")
    assert "not imputed" in patient_row(page, "AMS-005")
    assert "unit.not_dispensed overridden" in patient_row(page, "AMS-005")


def test_the_figure_shows_the_patients_with_a_change(page):
    figure = re.search(
        r'<figure class="chart" role="img" aria-label="([^"]+)">(.*?)</figure>', page, re.S
    )

    assert figure, "no figure"
    assert "for 3 patient(s)" in figure.group(1)
    assert figure.group(2).lstrip().startswith("<svg")
    assert "2 patient(s) without a change at the time point" in figure.group(2)


def test_the_reproducibility_line(page):
    line = re.search(r'<p id="reproducibility"[^>]*>(.*?)</p>', page, re.S)

    assert line, "no reproducibility line"
    text = line.group(1)
    assert "Data cut-off 2026-08-15" in text
    assert f"alscell {__version__}" in text
    assert "analysis plan version 1.0, locked on 2026-01-05" in text
    assert "model natural-history 1.0" in text
    assert f"seed {DEFAULT_SEED}" in text
    assert "4000 draws" in text


# ---------------------------------------------------------------- who sees what


def test_physicians_get_links_to_their_patients(page, cohort):
    for code, patient in cohort.patients.items():
        assert f'<a href="/patients/{patient.id}">{code}</a>' in patient_row(page, code)


def test_analysts_see_every_row_without_patient_links(app, session, cohort):
    text = results_of(app, session, cohort, Role.ANALYST)

    assert [category_of(text, code) for code in CODES] == [
        "worsened",
        "stable",
        "improved",
        "died",
        "missing",
    ]
    assert 'href="/patients/' not in text
    assert "Lock the analysis plan" not in text  # already locked


@pytest.mark.parametrize("role", [Role.NURSE, Role.COORDINATOR, Role.CELL_LAB])
def test_roles_that_do_not_evaluate_get_403(app, session, role):
    c = clinic(session)
    client = browser(app, session, make_user(session, role, site=c.site))

    assert client.get(f"/results/{c.protocol.id}").status_code == 403
    assert client.get("/results").status_code == 403


def test_another_sites_physician_sees_none_of_these_patients(app, session, cohort):
    text = results_of(app, session, cohort, Role.PHYSICIAN, site=make_site(session, code="ROM"))

    assert not any(code in text for code in CODES)
    assert count(text, "improved") == 0
    assert '<figure class="chart"' not in text
    assert "No patient enrolled in this protocol version at your site." in text


def test_the_results_index_links_each_protocol_version(app, session, cohort):
    response = browser(app, session, cohort.c.physician).get("/results")

    assert response.status_code == 200
    assert f'href="/results/{cohort.c.protocol.id}"' in response.text


# ---------------------------------------------------------------- the analysis plan


def test_every_amendment_is_shown_and_applied(app, session, cohort):
    analyst = make_user(session, Role.ANALYST)
    protocols.amend_analysis_plan(session, protocol_id=cohort.c.protocol.id,
                                  changes={"version": "1.1", "improved_min_change": 2},
                                  reason="the site's minimal important change", by=analyst,
                                  now=AFTER_THE_WINDOW)  # fmt: skip
    client = browser(app, session, analyst)

    text = client.get(f"/results/{cohort.c.protocol.id}").text

    assert "Analysis plan version 1.1" in text
    assert "the site&#39;s minimal important change" in text
    assert "improved_min_change 1.0 → 2.0" in text
    assert category_of(text, "AMS-003") == "stable"


def test_analysts_may_lock_an_unlocked_plan_from_the_page(app, session, cohort):
    plan = protocols.analysis_plan_for(session, cohort.c.protocol.id)
    plan.locked_at = None  # only behind the services' back: treatment cannot start before locking
    session.flush()

    analysts = results_of(app, session, cohort, Role.ANALYST)
    physicians = results_of(app, session, cohort, Role.PHYSICIAN, site=cohort.c.site)

    assert f'action="/admin/protocols/{cohort.c.protocol.id}/lock"' in analysts
    assert "Lock the analysis plan" not in physicians
    assert count(analysts, "improved") == 0
    assert count(analysts, "uncategorised") == 3
