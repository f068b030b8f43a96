"""Safety over the API (web/api/safety.py): adverse events, reporting clocks, stopping rules, outcomes.

The rules (clocks, counting, decisions) are tested in tests/services/test_safety.py and
test_outcomes.py; here each route's status, permissions and problem details.
"""

from __future__ import annotations

from typing import Any

import pytest

from alscell.domain.access import Role
from tests.factories import make_patient, make_site
from tests.services.scenario import clinic, enrolled_in_treatment


def event(patient_id: int, **changes: Any) -> dict[str, Any]:
    """A mild, expected post-puncture headache unless ``changes`` say otherwise."""
    return {
        "patient_id": patient_id, "term": "Post lumbar puncture headache", "onset_on": "2026-01-03",
        "ctcae_grade": 2, "serious": False, "seriousness": [], "expected": True,
        "causality_procedure": "probable", "causality_product": "unlikely", "causality_drug": "unrelated",
        "aware_on": "2026-01-04",
    } | changes  # fmt: skip


SERIOUS = {"ctcae_grade": 3, "serious": True, "seriousness": ["hospitalization"], "expected": False}
GRADE_4 = {
    "ctcae_grade": 4,
    "serious": True,
    "seriousness": ["life_threatening"],
    "expected": False,
}


@pytest.fixture
def patient(session, site):
    return make_patient(session, site=site)


@pytest.fixture
def physician(caller, site):
    return caller(Role.PHYSICIAN, site)


@pytest.fixture
def elsewhere(caller, session):
    """A physician of another site."""
    return caller(Role.PHYSICIAN, make_site(session, code="ROM"))


def locations(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {error["location"] for error in response.json()["errors"]}


def record(physician, patient, **changes: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = physician.post("/api/v1/adverse-events", json=event(patient.id, **changes))
    assert response.status_code == 201, response.text
    return dict(response.json())


# ---------------------------------------------------------------- adverse events


def test_record_read_and_list_an_adverse_event(caller, site, physician, patient):
    created = physician.post("/api/v1/adverse-events", json=event(patient.id))
    one = caller(Role.CELL_LAB, site).get(f"/api/v1/adverse-events/{created.json()['id']}")
    listed = physician.get(f"/api/v1/patients/{patient.id}/adverse-events")

    assert created.status_code == 201, created.text
    assert (created.json()["serious"], created.json()["sponsor_due_on"]) == (False, None)
    assert one.json() == created.json()
    assert (listed.json()["total"], listed.json()["items"]) == (1, [created.json()])


def test_a_serious_event_gets_its_clock_and_its_reports_are_marked_once(physician, patient):
    created = record(physician, patient, causality_product="possible", **SERIOUS)
    url = f"/api/v1/adverse-events/{created['id']}/reports"

    clocks = physician.get("/api/v1/reporting-clocks")
    sent = physician.post(url, json={"report": "sponsor", "reported_on": "2026-01-05"})
    twice = physician.post(url, json={"report": "sponsor", "reported_on": "2026-01-05"})

    assert created["sponsor_due_on"] == "2026-01-05"
    first = clocks.json()[0]
    assert (first["report"], first["days_left"], first["overdue"]) == ("sponsor", 0, False)
    assert sent.status_code == 200, sent.text
    assert sent.json()["sponsor_reported_on"] == "2026-01-05"
    assert twice.status_code == 409
    assert "sponsor" not in [
        due["report"] for due in physician.get("/api/v1/reporting-clocks").json()
    ]


def test_reports_are_checked(caller, site, physician, patient, elsewhere):
    mild = record(physician, patient)
    serious = record(physician, patient, causality_product="possible", **SERIOUS)
    url = f"/api/v1/adverse-events/{serious['id']}/reports"

    unknown = physician.post(url, json={"report": "press", "reported_on": "2026-01-05"})
    future = physician.post(url, json={"report": "sponsor", "reported_on": "2026-02-01"})
    not_serious = physician.post(f"/api/v1/adverse-events/{mild['id']}/reports",
                                 json={"report": "sponsor", "reported_on": "2026-01-05"})  # fmt: skip

    assert (unknown.status_code, locations(unknown)) == (422, {"report"})
    assert locations(future) == {"reported_on"}
    assert locations(not_serious) == {"adverse_event_id"}
    body = {"report": "sponsor", "reported_on": "2026-01-05"}
    assert physician.post("/api/v1/adverse-events/999/reports", json=body).status_code == 404
    assert elsewhere.post(url, json=body).status_code == 403
    assert caller(Role.COORDINATOR, site).post(url, json=body).status_code == 403


def test_an_update_needs_the_version_read(physician, patient):
    created = record(physician, patient)
    url = f"/api/v1/adverse-events/{created['id']}"

    changed = physician.patch(
        url, json={"version": 1, "ctcae_grade": 3, "resolved_on": "2026-01-05"}
    )
    stale = physician.patch(url, json={"version": 1, "ctcae_grade": 1})
    nothing = physician.patch(url, json={"version": 2})
    no_version = physician.patch(url, json={"ctcae_grade": 1})

    assert changed.status_code == 200, changed.text
    assert (changed.json()["ctcae_grade"], changed.json()["version"]) == (3, 2)
    assert changed.json()["resolved_on"] == "2026-01-05"
    assert changed.json()["term"] == created["term"]  # fields left out stay
    assert stale.status_code == 409
    assert (nothing.status_code, locations(nothing)) == (422, {"changes"})
    assert locations(no_version) == {"version"}
    assert (
        physician.patch(
            "/api/v1/adverse-events/999", json={"version": 1, "ctcae_grade": 1}
        ).status_code
        == 404
    )


def test_updates_are_for_clinicians_of_the_site(caller, site, physician, patient, elsewhere):
    url = f"/api/v1/adverse-events/{record(physician, patient)['id']}"

    assert (
        caller(Role.NURSE, site).patch(url, json={"version": 1, "expected": False}).status_code
        == 200
    )
    assert elsewhere.patch(url, json={"version": 2, "expected": True}).status_code == 403
    assert caller(Role.MONITOR).patch(url, json={"version": 2, "expected": True}).status_code == 403


def test_events_are_validated_and_strict(physician, patient):
    response = physician.post(
        "/api/v1/adverse-events",
        json=event(patient.id, ctcae_grade=7, causality_drug="maybe", serious="no", extra=1),
    )
    service = physician.post("/api/v1/adverse-events", json=event(patient.id, ctcae_grade=7))

    assert response.status_code == 422
    assert locations(response) == {"causality_drug", "serious", "extra"}
    assert (service.status_code, locations(service)) == (422, {"ctcae_grade"})


def test_adverse_events_stay_at_their_site(caller, site, physician, patient, elsewhere):
    created = record(physician, patient)

    assert elsewhere.post("/api/v1/adverse-events", json=event(patient.id)).status_code == 403
    assert (
        caller(Role.COORDINATOR, site)
        .post("/api/v1/adverse-events", json=event(patient.id))
        .status_code
        == 403
    )
    assert elsewhere.get(f"/api/v1/adverse-events/{created['id']}").status_code == 403
    assert elsewhere.get(f"/api/v1/patients/{patient.id}/adverse-events").status_code == 403
    assert caller(Role.ANALYST).get(f"/api/v1/adverse-events/{created['id']}").status_code == 403
    assert elsewhere.get("/api/v1/reporting-clocks").json() == []
    assert physician.post("/api/v1/adverse-events", json=event(999)).status_code == 404
    assert physician.get("/api/v1/adverse-events/999").status_code == 404
    assert physician.get("/api/v1/patients/999/adverse-events").status_code == 404


# ---------------------------------------------------------------- stopping rules


@pytest.fixture
def program(session):
    """The seed protocol with a patient in treatment (its own site, AMS)."""
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    return c, patient, enrollment


def test_a_related_grade_4_event_halts_doses_until_a_physician_resumes(caller, program):
    c, patient, enrollment = program
    physician = caller(Role.PHYSICIAN, c.site)
    rules_url = f"/api/v1/protocols/{c.protocol.id}/stopping-rules"
    record(physician, patient, enrollment_id=enrollment.id, causality_product="probable", **GRADE_4)

    halted = caller(Role.NURSE, c.site).get(rules_url)
    decided = physician.post(
        f"/api/v1/protocols/{c.protocol.id}/stopping-rule-decisions",
        json={"rule_id": "related-grade-4", "decision": "resume", "reason": "reviewed by the DSMB",
              "decided_on": "2026-01-05"},
    )  # fmt: skip

    assert halted.status_code == 200, halted.text
    assert [rule["id"] for rule in halted.json()] == ["related-grade-4"]
    assert halted.json()[0]["related_to"] == ["procedure", "product"]
    assert decided.status_code == 201, decided.text
    assert (decided.json()["decision"], decided.json()["decided_by_id"]) == (
        "resume",
        physician.user.id,
    )
    assert physician.get(rules_url).json() == []


def test_decisions_are_checked(caller, program):
    c, _, _ = program
    physician = caller(Role.PHYSICIAN, c.site)
    url = f"/api/v1/protocols/{c.protocol.id}/stopping-rule-decisions"
    body = {
        "rule_id": "related-grade-4",
        "decision": "resume",
        "reason": "x",
        "decided_on": "2026-01-05",
    }

    nothing_halted = physician.post(url, json=body)
    unknown = physician.post(url, json=body | {"rule_id": "nope", "decision": "pause"})
    strict = physician.post(url, json=body | {"decided_on": 20260105})

    assert nothing_halted.status_code == 409
    assert locations(unknown) == {"rule_id", "decision"}
    assert locations(strict) == {"decided_on"}
    assert caller(Role.NURSE, c.site).post(url, json=body).status_code == 403
    assert (
        physician.post("/api/v1/protocols/999/stopping-rule-decisions", json=body).status_code
        == 404
    )
    assert physician.get("/api/v1/protocols/999/stopping-rules").status_code == 404
    assert (
        caller(Role.ANALYST).get(f"/api/v1/protocols/{c.protocol.id}/stopping-rules").status_code
        == 403
    )


# ---------------------------------------------------------------- outcome events


def test_a_death_is_recorded_once(caller, site, patient):
    coordinator = caller(Role.COORDINATOR, site)
    url = f"/api/v1/patients/{patient.id}/outcome-events"
    body = {"kind": "death", "occurred_on": "2026-01-04", "source": "death certificate"}

    recorded = coordinator.post(url, json=body)
    again = coordinator.post(url, json=body)

    assert recorded.status_code == 201, recorded.text
    assert (recorded.json()["kind"], recorded.json()["source"]) == ("death", "death certificate")
    assert again.status_code == 409
    assert coordinator.get(f"/api/v1/patients/{patient.id}").json()["status"] == "died"


def test_outcome_events_are_checked(caller, site, physician, patient, elsewhere):
    url = f"/api/v1/patients/{patient.id}/outcome-events"
    body = {"kind": "tracheostomy", "occurred_on": "2026-01-04"}

    unknown = physician.post(url, json=body | {"kind": "flu", "occurred_on": "2026-02-01"})
    strict = physician.post(url, json=body | {"occurred_on": None})

    assert locations(unknown) == {"kind", "occurred_on"}
    assert locations(strict) == {"occurred_on"}
    assert physician.post("/api/v1/patients/999/outcome-events", json=body).status_code == 404
    assert elsewhere.post(url, json=body).status_code == 403
    assert caller(Role.NURSE, site).post(url, json=body).status_code == 403
