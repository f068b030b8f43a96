"""The results page (web/pages/results.py): descriptive outcomes with what they cannot show.

The cohort is that of tests/services/test_results.py: one implantation each on 2026-01-15, ratings
about 6 months later for a patient who declined, one unchanged and one improved, a death, and a
patient never rated at the time point. The app's clock is set after the time point's window.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.services import protocols
from tests.factories import make_site, make_user
from tests.services.test_results import Cohort, build_cohort
from tests.web.conftest import set_clock
from tests.web.pages import browser

AFTER_THE_WINDOW = datetime(2026, 8, 15, 9, 30, tzinfo=UTC)


@pytest.fixture
def cohort(app: FastAPI, session: Session) -> Cohort:
    set_clock(app, AFTER_THE_WINDOW)  # before signing in: the login session starts on this clock
    return build_cohort(session)


@pytest.fixture
def page(app: FastAPI, session: Session, cohort: Cohort) -> str:
    client = browser(app, session, cohort.c.physician)
    response = client.get(f"/results/{cohort.c.protocol.id}")
    assert response.status_code == 200, response.text
    return response.text


def count(html: str, category: str) -> int:
    found = re.search(
        rf'<tr data-category="{category}"><th scope="row">[^<]+</th><td>(\d+)</td>', html
    )
    assert found, category
    return int(found.group(1))


def category_of(html: str, code: str) -> str:
    row = re.search(rf'<tr data-patient="{code}">(.*?)</tr>', html, re.S)
    assert row, code
    badge = re.search(r'<span class="badge">([^<]+)</span>', row.group(1))
    return badge.group(1) if badge else ""


def test_the_results_index_links_each_protocol_version(app, session, cohort):
    client = browser(app, session, cohort.c.nurse)

    response = client.get("/results")

    assert response.status_code == 200
    assert f'href="/results/{cohort.c.protocol.id}"' in response.text


def test_each_patient_has_their_category(page):
    assert category_of(page, "AMS-001") == "worsened"
    assert category_of(page, "AMS-002") == "stable"
    assert category_of(page, "AMS-003") == "improved"
    assert category_of(page, "AMS-004") == "died"
    assert category_of(page, "AMS-005") == "no rating at the time point"


def test_the_counts_per_category(page):
    counts = {
        name: count(page, name) for name in ("improved", "stable", "worsened", "died", "no_rating")
    }

    assert counts == {"improved": 1, "stable": 1, "worsened": 1, "died": 1, "no_rating": 1}
    assert "1 patient(s) still without a rating at the time point" in page
    assert "-4" in page
    assert "+1" in page


def test_the_plan_version_and_its_lock_are_shown(page):
    assert "Analysis plan version 1.0" in page
    assert "locked 2026-01-05" in page
    assert "The plan has not been amended." in page


def test_what_the_counts_cannot_show_is_stated_next_to_them(page):
    counts_section = page[page.index('id="h-counts"') : page.index('id="h-patients"')]

    assert "What these counts cannot show" in counts_section
    assert "uncontrolled series" in counts_section
    assert "1 in 4 untreated patients show no ALSFRS-R decline over 6 months" in counts_section
    assert "Bedlack 2016" in counts_section
    assert "regress to the mean" in counts_section
    assert "not evidence of efficacy" in counts_section
    assert "program report" in counts_section


def test_the_page_never_claims_the_treatment_works(page):
    text = page.lower()

    assert "effective" not in text
    assert "success" not in text


def test_every_amendment_is_shown(app, session, cohort):
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


def test_another_sites_physician_sees_none_of_these_patients(app, session, cohort):
    stranger = make_user(session, Role.PHYSICIAN, site=make_site(session, code="ROM"))
    client = browser(app, session, stranger)

    text = client.get(f"/results/{cohort.c.protocol.id}").text

    assert "AMS-001" not in text
    assert count(text, "improved") == 0
