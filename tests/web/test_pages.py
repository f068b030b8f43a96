"""The clinic's pages (web/pages): sign-in, Today, the patient list and page, errors as pages."""

from __future__ import annotations

import re

from alscell.domain.access import Role
from alscell.services import dosing
from tests.factories import make_site, make_user
from tests.services.scenario import clinic, day, enrolled_in_treatment
from tests.web.conftest import set_clock
from tests.web.pages import PASSWORD, browser, csrf


def test_pages_need_a_signed_in_user(client):
    response = client.get("/patients", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fpatients"


def test_a_wrong_password_shows_the_form_again_with_the_username_kept(client, session, site):
    make_user(session, Role.NURSE, site=site, username="nina")

    response = client.post(
        "/login",
        data={"username": "nina", "password": "wrong", "next": "/today",
              "csrf_token": csrf(client, "/login")},
    )  # fmt: skip

    assert response.status_code == 401
    assert 'value="nina"' in response.text
    assert "wrong username or password" in response.text


def test_sign_in_then_today_then_sign_out(app, session, site):
    nurse = make_user(session, Role.NURSE, site=site)
    client = browser(app, session, nurse)

    today = client.get("/today")
    out = client.post("/logout", data={"csrf_token": csrf(client)})

    assert today.status_code == 200
    assert "Due today" in today.text
    assert out.status_code == 303
    assert client.get("/today").status_code == 303  # signed out: back to the login page


def test_a_form_without_the_csrf_token_is_refused(app, session, site):
    client = browser(app, session, make_user(session, Role.NURSE, site=site))

    response = client.post("/logout", data={"csrf_token": "forged"})

    assert response.status_code == 403
    assert "security token" in response.text


def test_the_patient_page_shows_summary_calendar_and_chart(app, session):
    c = clinic(session)
    patient, _ = enrolled_in_treatment(c)
    client = browser(app, session, c.nurse)

    page = client.get(f"/patients/{patient.id}")

    assert page.status_code == 200, page.text
    assert "AMS-001" in page.text
    assert "<svg" in page.text
    assert (
        "2026-01-15" in page.text
    )  # the first implantation of the seed program started 2026-01-05
    assert "ΔFS" in page.text
    assert "History of this record" in page.text


def test_another_sites_patient_page_is_refused(app, session):
    c = clinic(session)
    patient, _ = enrolled_in_treatment(c)
    stranger = make_user(session, Role.PHYSICIAN, site=make_site(session, code="ROM"))
    client = browser(app, session, stranger)

    page = client.get(f"/patients/{patient.id}")

    assert page.status_code == 403
    assert "at another site" in page.text
    assert "AMS-001" not in page.text.split("<main>")[1]


def test_an_unknown_patient_is_a_404_page(app, session, site):
    client = browser(app, session, make_user(session, Role.NURSE, site=site))

    page = client.get("/patients/999999")

    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text


def test_the_today_page_lists_the_days_activities(app, session):
    c = clinic(session)
    enrolled_in_treatment(c)
    client = browser(app, session, c.nurse)

    page = client.get("/today")  # the app's clock says 2026-01-05, day 0

    assert "Neurological evaluation with ALSFRS-R and vital capacity" in page.text
    assert PASSWORD not in page.text


def test_the_patient_page_counts_repeated_sessions_by_status(app, session):
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    for n in (7, 8):  # the seed program's daily IV runs 28 days from day 7
        dosing.record_care(session, enrollment_id=enrollment.id, activity_id="iv-neurotrophic", given_on=day(n),
                           drug="neurotrophic factors", by=c.nurse, now=c.at(day(n)))  # fmt: skip
    client = browser(app, session, c.nurse)

    page = client.get(f"/patients/{patient.id}")

    cells = re.search(
        r"<tr><td>IV neurotrophic factors[^<]*</td>((?:<td>\d+</td>){6})</tr>", page.text
    )
    assert cells is not None, page.text
    done, skipped, closed, cancelled, unrecorded, total = map(
        int, re.findall(r"\d+", cells.group(1))
    )
    assert (done, skipped, closed, cancelled, unrecorded, total) == (2, 0, 0, 0, 26, 28)


def test_deviations_of_one_kind_for_one_activity_are_shown_together(app, session):
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    for n in (7, 8):
        dosing.record_care(session, enrollment_id=enrollment.id, activity_id="iv-neurotrophic", given_on=day(n),
                           drug="neurotrophic factors", by=c.nurse, now=c.at(day(n)))  # fmt: skip
    set_clock(app, c.at(day(12)))
    client = browser(app, session, c.nurse)

    page = client.get(f"/patients/{patient.id}")

    # Days 9, 10 and 11 passed without the daily IV: one line with its dates, each listed inside.
    summary = re.search(
        r"<summary>IV neurotrophic factors[^<]*: (\d+) × not recorded, ([\d-]+) to ([\d-]+)</summary>",
        page.text,
    )
    assert summary is not None, page.text
    assert summary.groups() == ("3", day(9).isoformat(), day(11).isoformat())
    exam = re.search(r"<tr><td>Neurological evaluation[^<]*</td>.*?</tr>", page.text, re.DOTALL)
    assert exam is not None
    assert "not recorded" in exam.group(0)  # day 0: its window closed long ago
