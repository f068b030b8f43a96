"""Screening, enrollment, start, calendar and deviations over HTTP (web/api/enrollments.py).

Routes are tested for status, permission and shape; the rules themselves are tested in
tests/services/test_enrollment.py. Data are built with the services (tests/services/scenario.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.safety import ABSOLUTE_CONTRAINDICATIONS
from alscell.services import enrollment
from tests.factories import NOW, make_patient
from tests.services.scenario import (
    Clinic,
    clinic,
    eligible_patient,
    enrolled_in_treatment,
    no_exclusions,
)
from tests.web.conftest import set_clock

API = "/api/v1"


def locations(response: Any) -> list[str]:
    return [error["location"] for error in response.json()["errors"]]


def screening(c: Clinic, **changes: object) -> dict[str, object]:
    """A screening body that meets every criterion for :func:`eligible_patient`."""
    findings = dict.fromkeys(
        (*ABSOLUTE_CONTRAINDICATIONS, "cardiorespiratory_insufficiency"), False
    )
    body: dict[str, object] = {
        "protocol_id": c.protocol.id,
        "screened_on": "2025-12-21",
        "exclusions": no_exclusions(),
        "pre_puncture": {"anticoagulants_reviewed": True, "findings": findings},
    }
    return body | changes


def enrolled_not_started(c: Clinic, *, code: str = "AMS-001") -> int:
    patient = eligible_patient(c, code=code)
    row = enrollment.enroll(c.session, patient_id=patient.id, protocol_id=c.protocol.id,
                            enrolled_on=date(2025, 12, 22), by=c.physician, now=c.at(date(2025, 12, 22)))  # fmt: skip
    return row.id


@pytest.fixture
def c(session: Session) -> Clinic:
    return clinic(session)


@pytest.fixture
def doctor(caller, c):
    return caller(Role.PHYSICIAN, c.site)


@pytest.fixture
def nurse(caller, c):
    return caller(Role.NURSE, c.site)


@pytest.fixture
def coordinator(caller, c):
    return caller(Role.COORDINATOR, c.site)


# ---------------------------------------------------------------- screening


def test_a_screening_answers_every_criterion(c, doctor):
    patient = eligible_patient(c)

    response = doctor.post(f"{API}/patients/{patient.id}/screenings", json=screening(c))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["outcome"] == "met"
    assert body["screened_on"] == "2025-12-21"
    assert {c_["status"] for c_ in body["criteria"]} == {"met"}
    assert all(set(c_) == {"criterion", "status", "value", "rule"} for c_ in body["criteria"])
    by_name = {c_["criterion"]: c_["value"] for c_ in body["criteria"]}
    assert by_name["age_years"] == 61  # born 1964-05-17
    assert by_name["alsfrs_r_total_min"] == 46  # 48 minus q4 and q8 at 3


def test_screenings_are_listed_newest_first_and_paged(c, doctor):
    patient = eligible_patient(c)  # screened on 2025-12-20
    doctor.post(f"{API}/patients/{patient.id}/screenings", json=screening(c))

    page = doctor.get(f"{API}/patients/{patient.id}/screenings", params={"limit": 1}).json()

    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 0)
    assert [s["screened_on"] for s in page["items"]] == ["2025-12-21"]


def test_screening_is_for_physicians_of_the_patients_site(c, nurse, caller):
    patient = eligible_patient(c)
    elsewhere = caller(Role.PHYSICIAN)

    by_nurse = nurse.post(f"{API}/patients/{patient.id}/screenings", json=screening(c))
    from_elsewhere = elsewhere.post(f"{API}/patients/{patient.id}/screenings", json=screening(c))
    listed_elsewhere = elsewhere.get(f"{API}/patients/{patient.id}/screenings")

    assert by_nurse.status_code == 403
    assert from_elsewhere.status_code == 403
    assert listed_elsewhere.status_code == 403


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"screened_on": "2025-12-32"}, "screened_on"),
        ({"screened_on": 20251221}, "screened_on"),
        ({"protocol_id": "1"}, "protocol_id"),
        ({"pre_puncture": {"platelets": False}}, "pre_puncture.platelets"),
        ({"exclusions": {"pregnancy": "no"}}, "exclusions.pregnancy"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_bad_screening_is_422_naming_the_field(c, doctor, change, location):
    patient = eligible_patient(c)

    response = doctor.post(f"{API}/patients/{patient.id}/screenings", json=screening(c, **change))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert location in locations(response)


def test_screening_an_unknown_patient_or_protocol_is_404(c, doctor):
    patient = eligible_patient(c)

    no_patient = doctor.post(f"{API}/patients/999999/screenings", json=screening(c))
    no_protocol = doctor.post(
        f"{API}/patients/{patient.id}/screenings", json=screening(c, protocol_id=999999)
    )

    assert no_patient.status_code == 404
    assert no_protocol.status_code == 404
    assert doctor.get(f"{API}/patients/999999/screenings").status_code == 404


def test_an_enrolled_patient_is_not_screened_again(c, doctor):
    patient, _ = enrolled_in_treatment(c)

    response = doctor.post(f"{API}/patients/{patient.id}/screenings", json=screening(c))

    assert response.status_code == 409
    assert "only referred or screened patients" in response.json()["detail"]


# ---------------------------------------------------------------- enrollment


def test_an_eligible_patient_is_enrolled_and_the_enrollment_read(c, doctor):
    patient = eligible_patient(c)
    body = {"patient_id": patient.id, "protocol_id": c.protocol.id, "enrolled_on": "2025-12-22"}

    created = doctor.post(f"{API}/enrollments", json=body)
    read = doctor.get(f"{API}/enrollments/{created.json()['id']}")
    listed = doctor.get(f"{API}/patients/{patient.id}/enrollments")

    assert created.status_code == 201, created.text
    assert created.json() | {"id": 0} == {
        "id": 0, "patient_id": patient.id, "protocol_id": c.protocol.id, "enrolled_on": "2025-12-22",
        "start_on": None, "ended_on": None, "end_reason": None, "version": 1,
    }  # fmt: skip
    assert read.json() == created.json()
    assert listed.json()["total"] == 1
    assert listed.json()["items"] == [created.json()]


def test_a_patient_not_screened_eligible_is_not_enrolled(c, doctor, session):
    patient = make_patient(session, site=c.site)
    body = {"patient_id": patient.id, "protocol_id": c.protocol.id, "enrolled_on": "2025-12-22"}

    response = doctor.post(f"{API}/enrollments", json=body)

    assert response.status_code == 409
    assert "every criterion met" in response.json()["detail"]


def test_enrolling_is_for_physicians_of_the_patients_site(c, nurse, caller):
    patient = eligible_patient(c)
    body = {"patient_id": patient.id, "protocol_id": c.protocol.id, "enrolled_on": "2025-12-22"}

    assert nurse.post(f"{API}/enrollments", json=body).status_code == 403
    assert caller(Role.PHYSICIAN).post(f"{API}/enrollments", json=body).status_code == 403


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"patient_id": "3"}, "patient_id"),
        ({"enrolled_on": "22/12/2025"}, "enrolled_on"),
        ({"enrolled_on": None}, "enrolled_on"),
        ({"arm": "a"}, "arm"),
    ],
)
def test_a_bad_enrollment_is_422_naming_the_field(c, doctor, change, location):
    body = {"patient_id": 1, "protocol_id": c.protocol.id, "enrolled_on": "2025-12-22"} | change

    response = doctor.post(f"{API}/enrollments", json=body)

    assert response.status_code == 422
    assert locations(response) == [location]


def test_enrollments_of_unknown_or_other_sites_patients_are_refused(c, doctor, caller):
    _, e = enrolled_in_treatment(c)
    elsewhere = caller(Role.PHYSICIAN)
    body = {"patient_id": 999999, "protocol_id": c.protocol.id, "enrolled_on": "2025-12-22"}

    assert doctor.post(f"{API}/enrollments", json=body).status_code == 404
    assert doctor.get(f"{API}/enrollments/999999").status_code == 404
    assert doctor.get(f"{API}/patients/999999/enrollments").status_code == 404
    assert elsewhere.get(f"{API}/enrollments/{e.id}").status_code == 403
    assert elsewhere.get(f"{API}/patients/{e.patient_id}/enrollments").status_code == 403
    assert caller(Role.ANALYST).get(f"{API}/enrollments/{e.id}").status_code == 403


# ---------------------------------------------------------------- start of treatment


def test_treatment_starts_once(c, doctor):
    enrollment_id = enrolled_not_started(c)
    url = f"{API}/enrollments/{enrollment_id}/start"

    started = doctor.post(url, json={"start_on": "2026-01-05"})
    again = doctor.post(url, json={"start_on": "2026-01-06"})

    assert started.status_code == 200, started.text
    assert (started.json()["start_on"], started.json()["version"]) == ("2026-01-05", 2)
    assert again.status_code == 409


def test_treatment_does_not_start_before_the_analysis_plan_is_locked(session, caller):
    c = clinic(session, lock_plan=False)
    enrollment_id = enrolled_not_started(c)

    response = caller(Role.PHYSICIAN, c.site).post(
        f"{API}/enrollments/{enrollment_id}/start", json={"start_on": "2026-01-05"}
    )

    assert response.status_code == 409
    assert "analysis plan is not locked" in response.json()["detail"]


def test_starting_treatment_is_refused_to_nurses_other_sites_and_bad_input(
    c, doctor, nurse, caller
):
    enrollment_id = enrolled_not_started(c)
    url = f"{API}/enrollments/{enrollment_id}/start"

    assert nurse.post(url, json={"start_on": "2026-01-05"}).status_code == 403
    assert caller(Role.PHYSICIAN).post(url, json={"start_on": "2026-01-05"}).status_code == 403
    missing = doctor.post(url, json={})
    assert (missing.status_code, locations(missing)) == (422, ["start_on"])
    unknown = doctor.post(f"{API}/enrollments/999999/start", json={"start_on": "2026-01-05"})
    assert unknown.status_code == 404


# ---------------------------------------------------------------- calendar and deviations


def test_the_schedule_lists_every_dated_occurrence(c, nurse):
    _, e = enrolled_in_treatment(c)  # day 0 is 2026-01-05

    response = nurse.get(f"{API}/enrollments/{e.id}/schedule")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["start_on"] == "2026-01-05"
    implantations = [i for i in body["items"] if i["activity_id"] == "implantation"]
    # days 10, 17, 24 and 31, each within ± 1 day (protocols/als-nsc-4lp.yaml)
    assert [(i["occurrence"], i["of"], i["planned_on"]) for i in implantations] == [
        (1, 4, "2026-01-15"), (2, 4, "2026-01-22"), (3, 4, "2026-01-29"), (4, 4, "2026-02-05"),
    ]  # fmt: skip
    first = implantations[0]
    assert (first["earliest_on"], first["latest_on"]) == ("2026-01-14", "2026-01-16")
    assert (first["kind"], first["status"], first["actual_on"]) == (
        "lumbar_puncture_implantation", "planned", None,
    )  # fmt: skip
    assert set(first) == {"activity_id", "name", "kind", "occurrence", "of", "planned_on",
                          "earliest_on", "latest_on", "status", "actual_on", "note"}  # fmt: skip


def test_a_schedule_needs_a_started_enrollment_a_known_one_and_the_right_reader(c, nurse, caller):
    not_started = enrolled_not_started(c)

    assert nurse.get(f"{API}/enrollments/{not_started}/schedule").status_code == 409
    assert nurse.get(f"{API}/enrollments/999999/schedule").status_code == 404
    assert caller(Role.NURSE).get(f"{API}/enrollments/{not_started}/schedule").status_code == 403
    assert caller(Role.ANALYST).get(f"{API}/enrollments/{not_started}/schedule").status_code == 403


def test_deviations_count_windows_closed_before_as_of(c, nurse):
    _, e = enrolled_in_treatment(c)
    url = f"{API}/enrollments/{e.id}/deviations"

    today = nurse.get(url)  # today is day 0: nothing is overdue yet
    later = nurse.get(url, params={"as_of": "2026-01-08"})

    assert today.status_code == 200, today.text
    assert today.json() == []
    # neuro-exam (day 0) and organ-labs (day 0 ± 1) were not recorded by 2026-01-08
    found = {(d["activity_id"], d["kind"], d["severity"]) for d in later.json()}
    assert found == {
        ("neuro-exam", "not_recorded", "minor"),
        ("organ-labs", "not_recorded", "minor"),
    }
    assert set(later.json()[0]) == {"kind", "severity", "activity_id", "occurrence", "on", "detail"}


def test_deviations_are_refused_for_bad_dates_unstarted_unknown_and_other_sites(c, nurse, caller):
    _, e = enrolled_in_treatment(c)
    not_started = enrolled_not_started(c, code="AMS-002")

    bad = nurse.get(f"{API}/enrollments/{e.id}/deviations", params={"as_of": "2026-02-30"})

    assert (bad.status_code, locations(bad)) == (422, ["as_of"])
    assert nurse.get(f"{API}/enrollments/{not_started}/deviations").status_code == 409
    assert nurse.get(f"{API}/enrollments/999999/deviations").status_code == 404
    assert caller(Role.NURSE).get(f"{API}/enrollments/{e.id}/deviations").status_code == 403


# ---------------------------------------------------------------- activities, skips, closures


def test_a_recorded_activity_shows_in_the_schedule(c, nurse, app):
    _, e = enrolled_in_treatment(c)
    set_clock(app, NOW.replace(day=8))  # day 3 of the program, when the imaging was done

    response = nurse.post(
        f"{API}/enrollments/{e.id}/activities",
        json={"activity_id": "spine-imaging", "on": "2026-01-08"},
    )
    schedule = nurse.get(f"{API}/enrollments/{e.id}/schedule").json()["items"]

    assert response.status_code == 201, response.text
    assert response.json() | {"id": 0} == {
        "id": 0, "enrollment_id": e.id, "activity_id": "spine-imaging", "occurrence": None,
        "kind": "done", "on": "2026-01-08", "reason": None, "version": 1,
    }  # fmt: skip
    imaging = next(i for i in schedule if i["activity_id"] == "spine-imaging")
    assert (imaging["status"], imaging["actual_on"]) == ("done", "2026-01-08")


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"activity_id": "implantation", "on": "2026-01-15"}, "activity_id"),  # a cell dose
        ({"activity_id": "spine-imaging", "on": "2026-01-08", "occurrence": "1"}, "occurrence"),
        ({"activity_id": "spine-imaging", "on": "2026-01-08", "occurrence": 0}, "occurrence"),
        ({"activity_id": "", "on": "2026-01-08"}, "activity_id"),
        ({"activity_id": "spine-imaging"}, "on"),
        ({"activity_id": "spine-imaging", "on": "2026-01-08", "by": "me"}, "by"),
    ],
)
def test_a_bad_activity_is_422_naming_the_field(c, nurse, app, body, location):
    _, e = enrolled_in_treatment(c)
    set_clock(app, NOW.replace(day=16))  # every date in the bodies is in the past

    response = nurse.post(f"{API}/enrollments/{e.id}/activities", json=body)

    assert response.status_code == 422, response.text
    assert location in locations(response)


def test_an_unknown_activity_is_422(c, nurse):
    _, e = enrolled_in_treatment(c)

    response = nurse.post(
        f"{API}/enrollments/{e.id}/activities", json={"activity_id": "x-ray", "on": "2026-01-05"}
    )

    assert response.status_code == 422
    assert "no activity or visit 'x-ray'" in response.text


def test_recording_activities_is_refused_to_other_roles_sites_and_unstarted_enrollments(
    c, nurse, coordinator, caller
):
    _, e = enrolled_in_treatment(c)
    not_started = enrolled_not_started(c, code="AMS-002")
    body = {"activity_id": "spine-imaging", "on": "2026-01-05"}

    assert coordinator.post(f"{API}/enrollments/{e.id}/activities", json=body).status_code == 403
    elsewhere = caller(Role.NURSE).post(f"{API}/enrollments/{e.id}/activities", json=body)
    assert elsewhere.status_code == 403
    assert nurse.post(f"{API}/enrollments/999999/activities", json=body).status_code == 404
    unstarted = nurse.post(f"{API}/enrollments/{not_started}/activities", json=body)
    assert unstarted.status_code == 409


def test_a_skipped_occurrence_is_recorded_with_its_reason(c, nurse):
    _, e = enrolled_in_treatment(c)
    body = {"activity_id": "physiotherapy", "occurrence": 1, "reason": "fatigue"}

    response = nurse.post(f"{API}/enrollments/{e.id}/skips", json=body)
    schedule = nurse.get(f"{API}/enrollments/{e.id}/schedule").json()["items"]

    assert response.status_code == 201, response.text
    assert (response.json()["kind"], response.json()["reason"]) == ("skipped", "fatigue")
    first = next(i for i in schedule if (i["activity_id"], i["occurrence"]) == ("physiotherapy", 1))
    assert first["status"] == "skipped"


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"reason": "   "}, "reason"),  # refused by the service: a reason must say something
        ({"reason": ""}, "reason"),
        ({"occurrence": None}, "occurrence"),
        ({"occurrence": True}, "occurrence"),
        ({"note": "x"}, "note"),
    ],
)
def test_a_bad_skip_is_422_naming_the_field(c, nurse, change, location):
    _, e = enrolled_in_treatment(c)
    body = {"activity_id": "physiotherapy", "occurrence": 1, "reason": "fatigue"} | change

    response = nurse.post(f"{API}/enrollments/{e.id}/skips", json=body)

    assert response.status_code == 422, response.text
    assert locations(response) == [location]


def test_skipping_is_refused_to_other_roles_sites_and_unknown_enrollments(
    c, nurse, coordinator, caller
):
    _, e = enrolled_in_treatment(c)
    body = {"activity_id": "physiotherapy", "occurrence": 1, "reason": "fatigue"}

    assert coordinator.post(f"{API}/enrollments/{e.id}/skips", json=body).status_code == 403
    assert caller(Role.NURSE).post(f"{API}/enrollments/{e.id}/skips", json=body).status_code == 403
    assert nurse.post(f"{API}/enrollments/999999/skips", json=body).status_code == 404


def test_a_site_closure_moves_the_calendars_of_the_site(c, coordinator, nurse):
    _, e = enrolled_in_treatment(c)
    site_id, url = c.site.id, f"{API}/sites/{c.site.id}/closures"

    response = coordinator.post(url, json={"closed_on": "2026-01-15", "reason": "holiday"})
    schedule = nurse.get(f"{API}/enrollments/{e.id}/schedule").json()["items"]
    # last: a refused insert leaves the test's shared session needing a rollback (the app does it)
    again = coordinator.post(url, json={"closed_on": "2026-01-15"})

    assert response.status_code == 201, response.text
    assert response.json() | {"id": 0} == {
        "id": 0, "site_id": site_id, "closed_on": "2026-01-15", "reason": "holiday",
    }  # fmt: skip
    on_the_day = {i["activity_id"]: i for i in schedule if i["planned_on"] == "2026-01-15"}
    assert on_the_day["physiotherapy"]["status"] == "closed"
    implantation = next(i for i in schedule if i["activity_id"] == "implantation")
    assert implantation["planned_on"] == "2026-01-16"  # moved to the next open day
    assert again.status_code == 409  # one closure per site and day


def test_closures_are_refused_to_other_roles_other_sites_and_bad_dates(
    c, coordinator, nurse, caller
):
    url = f"{API}/sites/{c.site.id}/closures"

    assert nurse.post(url, json={"closed_on": "2026-01-15"}).status_code == 403
    elsewhere = caller(Role.COORDINATOR).post(url, json={"closed_on": "2026-01-15"})
    assert elsewhere.status_code == 403
    bad = coordinator.post(url, json={"closed_on": "15/01/2026"})
    assert (bad.status_code, locations(bad)) == (422, ["closed_on"])
    long = coordinator.post(url, json={"closed_on": "2026-01-15", "reason": "x" * 201})
    assert (long.status_code, locations(long)) == (422, ["reason"])
