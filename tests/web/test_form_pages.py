"""The clinic's form pages: each saves through its service, keeps what was typed on a mistake, shows
each error next to its field, refuses the wrong role and other sites, and shows safety blocks."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from alscell.domain import isbt128
from alscell.domain.access import Role
from alscell.domain.safety import ABSOLUTE_CONTRAINDICATIONS
from alscell.services import patients, products
from alscell.storage.models import (
    Administration,
    AdverseEvent,
    AlsfrsRating,
    Consent,
    Diagnosis,
    Enrollment,
    LabResult,
    OutcomeEvent,
    Patient,
    ProductUnit,
    ScheduleEvent,
    Screening,
    User,
    VitalCapacity,
    Weight,
)
from tests.factories import NOW, make_site, make_user
from tests.services.scenario import (
    BIRTH,
    NORMAL_ITEMS,
    UNIT_IDS,
    Clinic,
    clinic,
    day,
    dispensed,
    eligible_patient,
    enrolled_in_treatment,
    released_units,
)
from tests.web.conftest import set_clock
from tests.web.pages import browser, csrf

VOID = frozenset({"input", "br", "img", "meta", "link", "hr"})
NO_CONTRAINDICATION = {
    f"ci_{name}": "no" for name in (*ABSOLUTE_CONTRAINDICATIONS, "cardiorespiratory_insufficiency")
}


# ---------------------------------------------------------------- reading a page's form


@dataclass
class Block:
    """One ``.field`` block: the controls it holds and the errors shown in it."""

    names: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


class FormPage(HTMLParser):
    """A page's ``.field`` blocks and the value each control shows (checked, selected, typed)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.values: dict[str, str] = {}
        self._open: list[tuple[str, Block | None, bool]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        block = Block() if "field" in classes else None
        if block is not None:
            self.blocks.append(block)
        if tag not in VOID:
            self._open.append((tag, block, "field-error" in classes))
        self._control(tag, found)

    def _control(self, tag: str, found: dict[str, str | None]) -> None:
        name = found.get("name")
        if tag in ("input", "select", "textarea") and name and self._innermost():
            self._innermost().names.add(name)  # type: ignore[union-attr]
        if tag == "input" and name:
            if found.get("type") not in ("radio", "checkbox") or "checked" in found:
                self.values[name] = found.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select:
            if "selected" in found or self._select not in self.values:  # the first is the default
                self.values[self._select] = found.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data
        if any(is_error for _, _, is_error in self._open) and self._innermost():
            self._innermost().errors.append(data.strip())  # type: ignore[union-attr]

    def _innermost(self) -> Block | None:
        return next((block for _, block, _ in reversed(self._open) if block), None)

    def error_of(self, name: str) -> str:
        """The error shown in the ``.field`` block of the control named ``name``."""
        block = next(block for block in self.blocks if name in block.names)
        return " ".join(text for text in block.errors if text)


def assert_error(response: Response, name: str, text: str) -> FormPage:
    page = FormPage(response.text)
    assert text in page.error_of(name), (name, page.error_of(name))
    return page


def assert_kept(page: FormPage, data: dict[str, str]) -> None:
    shown = {name: page.values.get(name) for name in data if name != "csrf_token"}
    assert shown == {name: value for name, value in data.items() if name != "csrf_token"}


def count(session: Session, model: type[Any], *conditions: sa.ColumnElement[bool]) -> int:
    statement = sa.select(sa.func.count()).select_from(model).where(*conditions)
    return int(session.execute(statement).scalar_one())


def signed_in(app: FastAPI, session: Session, user: User) -> tuple[TestClient, str]:
    client = browser(app, session, user)
    return client, csrf(client)


def refused(client: TestClient, token: str, path: str, data: dict[str, str] | None = None) -> None:
    """Both the form and its submission are refused (403 page)."""
    shown = client.get(path)
    sent = client.post(path, data={"csrf_token": token, **(data or {})})
    assert shown.status_code == 403, shown.text[:300]
    assert sent.status_code == 403, sent.text[:300]
    assert "<h1>Forbidden</h1>" in sent.text


def referred(c: Clinic, code: str = "AMS-002") -> Patient:
    return patients.register_patient(
        c.session,
        study_code=code,
        site_id=c.site.id,
        given_name="Robin",
        family_name="Roe",
        birth_on=BIRTH,
        by=c.coordinator,
        now=NOW,
    )


def at(day_: date, hour: int = 10) -> datetime:
    return NOW.replace(year=day_.year, month=day_.month, day=day_.day, hour=hour)


# ---------------------------------------------------------------- registration


REGISTRATION = {
    "study_code": "AMS-007",
    "given_name": "Kim",
    "family_name": "Lee",
    "birth_on": "1970-02-03",
    "sex": "male",
    "mrn": "MRN-1",
}


def test_a_coordinator_registers_a_patient_at_their_site(app, session):
    c = clinic(session)
    client, token = signed_in(app, session, c.coordinator)

    response = client.post("/patients/new", data={"csrf_token": token, **REGISTRATION})

    assert response.status_code == 303, response.text
    patient = session.scalars(sa.select(Patient).where(Patient.study_code == "AMS-007")).one()
    assert response.headers["location"].startswith(f"/patients/{patient.id}?done=")
    assert patient.site_id == c.site.id
    assert "Patient registered" in client.get(response.headers["location"]).text


def test_registration_mistakes_come_back_next_to_their_fields_with_everything_kept(app, session):
    c = clinic(session)
    client, token = signed_in(app, session, c.coordinator)
    data = REGISTRATION | {"study_code": "ams 7"}

    response = client.post("/patients/new", data={"csrf_token": token, **data})
    undated = client.post(
        "/patients/new", data={"csrf_token": token, **REGISTRATION, "birth_on": "03/02/1970"}
    )

    assert response.status_code == 422
    assert_kept(assert_error(response, "study_code", "capital letters"), data)
    assert undated.status_code == 422
    assert_error(undated, "birth_on", "YYYY-MM-DD")
    assert count(session, Patient) == 0


def test_a_nurse_may_not_register_patients(app, session):
    c = clinic(session)
    client, token = signed_in(app, session, c.nurse)

    refused(client, token, "/patients/new", REGISTRATION)


# ---------------------------------------------------------------- diagnosis

DIAGNOSIS = {
    "onset_on": "2025-03-10",
    "onset_site": "bulbar",
    "diagnosis_on": "2025-11-20",
    "el_escorial": "probable",
    "awaji": "probable",
    "gold_coast": "yes",
    "c9orf72": "no",
    "ftd": "yes",
}


def test_a_physician_records_a_diagnosis(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.physician)

    response = client.post(
        f"/patients/{patient.id}/diagnosis", data={"csrf_token": token, **DIAGNOSIS}
    )

    assert response.status_code == 303, response.text
    diagnosis = session.scalars(
        sa.select(Diagnosis).where(Diagnosis.patient_id == patient.id)
    ).one()
    assert (diagnosis.onset_site, diagnosis.awaji, diagnosis.gold_coast, diagnosis.c9orf72) == (
        "bulbar",
        "probable",
        True,
        False,
    )
    assert (diagnosis.ftd, diagnosis.familial) == (True, False)


def test_the_diagnosis_form_shows_the_diagnosis_on_record_and_changes_it(app, session):
    c = clinic(session)
    patient = eligible_patient(c)
    client, token = signed_in(app, session, c.physician)

    shown = FormPage(client.get(f"/patients/{patient.id}/diagnosis").text)
    changed = {**shown.values, "onset_site": "bulbar", "csrf_token": token}
    response = client.post(f"/patients/{patient.id}/diagnosis", data=changed)

    assert shown.values["onset_site"] == "spinal"
    assert shown.values["version"] == "1"
    assert response.status_code == 303, response.text
    diagnosis = session.scalars(
        sa.select(Diagnosis).where(Diagnosis.patient_id == patient.id)
    ).one()
    assert diagnosis.onset_site == "bulbar"


def test_a_diagnosis_before_onset_is_shown_next_to_the_diagnosis_date(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.physician)
    data = DIAGNOSIS | {"diagnosis_on": "2025-01-01"}

    response = client.post(f"/patients/{patient.id}/diagnosis", data={"csrf_token": token, **data})

    assert response.status_code == 422
    assert_kept(assert_error(response, "diagnosis_on", "before symptom onset"), data)


def test_a_nurse_may_not_record_a_diagnosis(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)

    refused(client, token, f"/patients/{patient.id}/diagnosis", DIAGNOSIS)


# ---------------------------------------------------------------- consent


def test_a_coordinator_records_consent(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.coordinator)
    data = {"csrf_token": token, "form_version": "v3", "consented_on": "2026-01-05"}

    response = client.post(f"/patients/{patient.id}/consent", data=data)

    assert response.status_code == 303, response.text
    assert count(session, Consent, Consent.patient_id == patient.id, Consent.form_version == "v3")


def test_consent_in_the_future_is_refused_next_to_its_date(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.coordinator)
    data = {"form_version": "v3", "consented_on": "2026-02-01"}

    response = client.post(f"/patients/{patient.id}/consent", data={"csrf_token": token, **data})

    assert response.status_code == 422
    assert_kept(assert_error(response, "consented_on", "in the future"), data)


def test_a_nurse_may_not_record_consent(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)

    refused(client, token, f"/patients/{patient.id}/consent", {"form_version": "v3"})


# ---------------------------------------------------------------- screening

SCREENING = {
    "screened_on": "2026-01-05",
    "anticoagulants_reviewed": "yes",
    "platelets": "180",
    **{
        f"exclusion_{name}": "no"
        for name in (
            "pregnancy",
            "tracheostomy",
            "active_infection",
            "malignancy",
            "other_neurological_disease",
        )
    },
    **NO_CONTRAINDICATION,
}


def test_a_screening_shows_each_criterion_with_its_value_and_rule(app, session):
    c = clinic(session)
    patient = eligible_patient(c)
    client, token = signed_in(app, session, c.physician)
    form = FormPage(client.get(f"/patients/{patient.id}/screening").text)
    data = {"csrf_token": token, "protocol_id": form.values["protocol_id"], **SCREENING}

    response = client.post(f"/patients/{patient.id}/screening", data=data)
    result = client.get(response.headers["location"])

    assert response.status_code == 303, response.text
    assert count(session, Screening, Screening.patient_id == patient.id) == 2
    assert result.status_code == 200
    assert "eligible" in result.text
    assert "platelets" in result.text
    assert "180" in result.text  # the value typed, not the one on record
    assert "ALSFRS-R" in result.text or "alsfrs" in result.text


def test_a_screening_with_a_bad_date_keeps_every_answer(app, session):
    c = clinic(session)
    patient = eligible_patient(c)
    client, token = signed_in(app, session, c.physician)
    protocol_id = FormPage(client.get(f"/patients/{patient.id}/screening").text).values[
        "protocol_id"
    ]
    data = {"protocol_id": protocol_id, **SCREENING, "screened_on": "yesterday", "inr": "x"}

    response = client.post(f"/patients/{patient.id}/screening", data={"csrf_token": token, **data})

    assert response.status_code == 422
    page = assert_error(response, "screened_on", "YYYY-MM-DD")
    assert "must be a number" in page.error_of("inr")
    assert_kept(page, data)


def test_a_nurse_may_not_screen(app, session):
    c = clinic(session)
    patient = eligible_patient(c)
    client, token = signed_in(app, session, c.nurse)

    refused(client, token, f"/patients/{patient.id}/screening", SCREENING)


# ---------------------------------------------------------------- enrollment and start


def test_a_physician_enrolls_then_starts_treatment(app, session):
    c = clinic(session)
    patient = eligible_patient(c)
    client, token = signed_in(app, session, c.physician)
    data = {"csrf_token": token, "protocol_id": str(c.protocol.id), "enrolled_on": "2026-01-02"}

    enrolled = client.post(f"/patients/{patient.id}/enroll", data=data)
    record = session.scalars(sa.select(Enrollment).where(Enrollment.patient_id == patient.id)).one()
    page = client.get(f"/patients/{patient.id}/enroll")
    started = client.post(
        f"/enrollments/{record.id}/start", data={"csrf_token": token, "start_on": "2026-01-05"}
    )

    assert enrolled.status_code == 303, enrolled.text
    assert f'action="/enrollments/{record.id}/start"' in page.text
    assert started.status_code == 303, started.text
    session.refresh(record)
    assert record.start_on == date(2026, 1, 5)


def test_enrolling_keeps_the_form_on_a_mistake_and_on_a_refusal(app, session):
    c = clinic(session)
    patient = referred(c)  # never screened
    client, token = signed_in(app, session, c.physician)
    data = {"protocol_id": str(c.protocol.id), "enrolled_on": "2026-01-02"}

    undated = client.post(
        f"/patients/{patient.id}/enroll",
        data={"csrf_token": token, **data, "enrolled_on": "2 Jan"},
    )
    unscreened = client.post(f"/patients/{patient.id}/enroll", data={"csrf_token": token, **data})

    assert undated.status_code == 422
    assert_kept(assert_error(undated, "enrolled_on", "YYYY-MM-DD"), data | {"enrolled_on": "2 Jan"})
    assert unscreened.status_code == 409
    assert "no screening against this protocol" in unscreened.text
    assert_kept(FormPage(unscreened.text), data)


def test_a_coordinator_may_not_enroll_or_start(app, session):
    c = clinic(session)
    patient = eligible_patient(c)
    client, token = signed_in(app, session, c.coordinator)

    refused(client, token, f"/patients/{patient.id}/enroll", {"enrolled_on": "2026-01-02"})


# ---------------------------------------------------------------- ALSFRS-R


def rating(**changes: str) -> dict[str, str]:
    items = {key: str(value) for key, value in NORMAL_ITEMS.items() if key != "q5a"}
    return {"rated_on": "2026-01-05", "form": "clinician", **items} | changes


def test_the_alsfrs_form_has_every_anchor_and_the_live_totals(app, session):
    c = clinic(session)
    patient = referred(c)
    client, _ = signed_in(app, session, c.nurse)

    page = client.get(f"/patients/{patient.id}/alsfrs")

    found = re.search(r'data-alsfrs="([^"]+)"', page.text)
    assert found, page.text[:300]
    domains = json.loads(html.unescape(found.group(1)))
    assert domains["fine_motor"] == ["q4", "q5", "q6"]
    for cell in ("bulbar", "fine_motor", "gross_motor", "respiratory", "all"):
        assert f'id="total-{cell}"' in page.text
    assert page.text.count('type="radio"') == 13 * 5
    assert "/static/alsfrs.js" in page.text


def test_a_nurse_records_a_rating_with_item_5_by_gastrostomy(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)
    data = rating(gastrostomy="yes", q5b="2", q5a="4", q8="3")

    response = client.post(f"/patients/{patient.id}/alsfrs", data={"csrf_token": token, **data})

    assert response.status_code == 303, response.text
    saved = session.scalars(
        sa.select(AlsfrsRating).where(AlsfrsRating.patient_id == patient.id)
    ).one()
    assert (saved.q5a, saved.q5b, saved.total) == (None, 2, 45)


def test_an_item_out_of_range_or_missing_is_shown_on_the_item(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)
    data = rating(q5a="4", q3="7")
    missing = {key: value for key, value in rating(q5a="4").items() if key != "q7"}

    response = client.post(f"/patients/{patient.id}/alsfrs", data={"csrf_token": token, **data})
    unanswered = client.post(
        f"/patients/{patient.id}/alsfrs", data={"csrf_token": token, **missing}
    )

    assert response.status_code == 422
    kept = {key: value for key, value in data.items() if key != "q3"}  # 7 is no radio button
    assert_kept(assert_error(response, "q3", "out of range"), kept)
    assert unanswered.status_code == 422
    assert_kept(assert_error(unanswered, "q7", "required"), missing)


def test_a_coordinator_may_not_rate_alsfrs(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.coordinator)

    refused(client, token, f"/patients/{patient.id}/alsfrs", rating(q5a="4"))


# ---------------------------------------------------------------- measurements


def test_measurements_record_any_subset_on_one_date(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)
    data = {
        "measured_on": "2026-01-05",
        "vc_percent": "81",
        "vc_method": "svc",
        "weight_kg": "70.5",
        "lab_platelets": "190",
        "lab_inr": "1.1",
    }

    response = client.post(
        f"/patients/{patient.id}/measurements", data={"csrf_token": token, **data}
    )

    assert response.status_code == 303, response.text
    vc = session.scalars(
        sa.select(VitalCapacity).where(VitalCapacity.patient_id == patient.id)
    ).one()
    assert (vc.percent_predicted, vc.method) == (81, "svc")
    assert count(session, Weight, Weight.patient_id == patient.id) == 1
    assert count(session, LabResult, LabResult.patient_id == patient.id) == 2


def test_a_measurement_mistake_keeps_the_form_and_nothing_is_recorded(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)
    data = {
        "measured_on": "2026-01-05",
        "vc_percent": "81",
        "vc_method": "fvc",
        "weight_kg": "heavy",
        "lab_hemoglobin": "13.2",
    }

    response = client.post(
        f"/patients/{patient.id}/measurements", data={"csrf_token": token, **data}
    )

    assert response.status_code == 422
    assert_kept(assert_error(response, "weight_kg", "must be a number"), data)
    assert count(session, VitalCapacity, VitalCapacity.patient_id == patient.id) == 0


def test_one_measurement_refused_by_the_service_records_none_of_them(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)
    data = {"measured_on": "2026-01-05", "vc_percent": "81", "vc_method": "fvc", "weight_kg": "500",
            "lab_platelets": "-3"}  # fmt: skip

    response = client.post(
        f"/patients/{patient.id}/measurements", data={"csrf_token": token, **data}
    )

    assert response.status_code == 422
    page = assert_error(response, "weight_kg", "from 20 to 300")
    assert_error(response, "lab_platelets", "from 0 to")
    assert_kept(page, data)  # everything typed comes back, so nothing is sent twice or lost
    assert count(session, VitalCapacity, VitalCapacity.patient_id == patient.id) == 0
    assert count(session, LabResult, LabResult.patient_id == patient.id) == 0


def test_a_coordinator_may_not_record_measurements(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.coordinator)

    refused(client, token, f"/patients/{patient.id}/measurements", {"weight_kg": "70"})


# ---------------------------------------------------------------- lumbar puncture


def puncture(unit_id: str = UNIT_IDS[0], **changes: str) -> dict[str, str]:
    return {
        "unit_id": unit_id,
        "dose_cells": "5000000",
        "given_on": "2026-01-15",
        "study_code": "AMS-001",
        "birth_on": BIRTH.isoformat(),
        "anticoagulants_reviewed": "yes",
        **NO_CONTRAINDICATION,
    } | changes


@pytest.fixture
def in_treatment(app, session):
    """A patient in treatment on the day of the first implantation (day 10), units released."""
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    units = released_units(c, 2)
    dispensed(c, units[0], patient, day(9))
    set_clock(app, at(day(10)))
    return c, patient, enrollment


def doses(session: Session, enrollment: Enrollment) -> list[Administration]:
    statement = sa.select(Administration).where(
        Administration.enrollment_id == enrollment.id, Administration.dose_cells.is_not(None)
    )
    return list(session.scalars(statement))


def test_the_dose_form_offers_the_units_dispensed_to_the_patient(app, session, in_treatment):
    c, _, enrollment = in_treatment
    client, _ = signed_in(app, session, c.physician)

    page = client.get(f"/enrollments/{enrollment.id}/dose")

    assert page.status_code == 200, page.text
    assert f'<option value="{UNIT_IDS[0]}"' in page.text  # the DIN with its check character
    assert UNIT_IDS[1] not in page.text  # released, not dispensed to this patient
    assert "at least 50" in page.text  # the protocol's thresholds
    assert "at most 1.4" in page.text
    assert 'name="birth_on" type="date" value=""' in page.text  # typed at the bedside


def test_a_physician_records_a_lumbar_puncture(app, session, in_treatment):
    c, patient, enrollment = in_treatment
    client, token = signed_in(app, session, c.physician)

    response = client.post(
        f"/enrollments/{enrollment.id}/dose", data={"csrf_token": token, **puncture()}
    )

    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(f"/patients/{patient.id}?done=")
    [dose] = doses(session, enrollment)
    assert (dose.dose_cells, dose.given_on, dose.overridden_rules) == (5e6, day(10), None)


def test_a_dose_mistake_keeps_every_value_typed(app, session, in_treatment):
    c, _, enrollment = in_treatment
    client, token = signed_in(app, session, c.physician)
    data = puncture(dose_cells="five million", platelets="120", hold_warfarin="200")

    response = client.post(f"/enrollments/{enrollment.id}/dose", data={"csrf_token": token, **data})

    assert response.status_code == 422
    assert_kept(assert_error(response, "dose_cells", "must be a number"), data)
    assert doses(session, enrollment) == []


def test_an_undispensed_unit_is_blocked_and_a_physician_may_override_it(app, session, in_treatment):
    c, patient, enrollment = in_treatment
    client, token = signed_in(app, session, c.physician)
    data = puncture(unit_id="", unit_scanned=UNIT_IDS[1])

    blocked = client.post(f"/enrollments/{enrollment.id}/dose", data={"csrf_token": token, **data})
    shown = FormPage(blocked.text)
    overridden = client.post(
        f"/enrollments/{enrollment.id}/dose",
        data={
            **shown.values,
            "csrf_token": token,
            "override:unit.not_dispensed": "yes",
            "override_reason": "unit hand-carried by the lab; dispensing entry to follow",
        },
    )

    assert blocked.status_code == 409
    assert "unit.not_dispensed" in blocked.text
    assert "has not been dispensed to a patient" in blocked.text
    assert 'name="override:unit.not_dispensed"' in blocked.text
    assert 'name="override_reason"' in blocked.text
    assert_kept(shown, data)
    assert overridden.status_code == 303, overridden.text
    [dose] = doses(session, enrollment)
    assert dose.overridden_rules == ["unit.not_dispensed"]
    assert dose.override_by_id == c.physician.id
    assert "override: unit.not_dispensed" in client.get(f"/patients/{patient.id}").text


def test_an_override_without_a_reason_is_asked_for_next_to_the_reason(app, session, in_treatment):
    c, _, enrollment = in_treatment
    client, token = signed_in(app, session, c.physician)
    data = puncture(unit_id="", unit_scanned=UNIT_IDS[1])
    blocked = FormPage(
        client.post(f"/enrollments/{enrollment.id}/dose", data={"csrf_token": token, **data}).text
    )

    response = client.post(
        f"/enrollments/{enrollment.id}/dose",
        data={**blocked.values, "csrf_token": token, "override:unit.not_dispensed": "yes"},
    )

    assert response.status_code == 422
    page = assert_error(response, "override_reason", "written reason")
    assert page.values["override:unit.not_dispensed"] == "yes"
    assert doses(session, enrollment) == []


def test_an_unreleased_unit_is_blocked_with_its_rule(app, session, in_treatment):
    c, _, enrollment = in_treatment
    unit = products.UnitInput(
        unit_id=UNIT_IDS[4],
        cells=5e6,
        volume_ml=2.0,
        endotoxin_eu=2.0,
        expires_on=date(2026, 6, 30),
    )
    products.register_lot(
        c.session,
        lot_code="LOT-Q",
        site_id=c.site.id,
        product_name="NSC",
        source="xenogeneic",
        cell_type="neural stem cells",
        manufactured_on=date(2025, 12, 30),
        received_on=date(2026, 1, 2),
        units=[unit],
        by=c.lab,
        now=at(date(2026, 1, 2)),
    )
    client, token = signed_in(app, session, c.physician)

    response = client.post(
        f"/enrollments/{enrollment.id}/dose",
        data={"csrf_token": token, **puncture(unit_id="", unit_scanned=UNIT_IDS[4])},
    )

    assert response.status_code == 409
    assert "unit.not_released" in response.text
    assert "ask the cell lab to release it" in response.text


def test_a_mistyped_or_unknown_unit_is_shown_next_to_the_unit(app, session, in_treatment):
    c, _, enrollment = in_treatment
    client, token = signed_in(app, session, c.physician)
    unknown = "A999926000001" + isbt128.check_character("A999926000001")
    path = f"/enrollments/{enrollment.id}/dose"

    mistyped = client.post(path, data={"csrf_token": token, **puncture(unit_id="G123498654321J")})
    missing = client.post(
        path, data={"csrf_token": token, **puncture(unit_id="", unit_scanned=unknown)}
    )

    assert mistyped.status_code == 422
    page = assert_error(mistyped, "unit_id", "check character")
    assert page.values["unit_id"] == "G123498654321J"  # kept, though no unit has it
    assert missing.status_code == 422
    assert_kept(assert_error(missing, "unit_scanned", "was not found"), {"unit_scanned": unknown})


def test_a_wrong_bedside_birth_date_is_refused_and_never_overridable(app, session, in_treatment):
    c, _, enrollment = in_treatment
    client, token = signed_in(app, session, c.physician)
    data = puncture(birth_on="1964-05-18")

    response = client.post(f"/enrollments/{enrollment.id}/dose", data={"csrf_token": token, **data})
    forced = client.post(
        f"/enrollments/{enrollment.id}/dose",
        data={
            "csrf_token": token,
            **data,
            "override:identity.mismatch": "yes",
            "override_reason": "I know the patient",
        },
    )

    assert response.status_code == 409
    assert "identity.mismatch" in response.text
    assert "cannot be overridden" in response.text
    assert 'name="override:' not in response.text
    assert_kept(FormPage(response.text), data)
    assert forced.status_code == 409
    assert doses(session, enrollment) == []


def test_a_nurse_may_not_record_a_lumbar_puncture(app, session, in_treatment):
    c, _, enrollment = in_treatment
    client, token = signed_in(app, session, c.nurse)

    refused(client, token, f"/enrollments/{enrollment.id}/dose", puncture())


# ---------------------------------------------------------------- daily care


def test_a_nurse_records_an_infusion(app, session):
    c = clinic(session)
    _, enrollment = enrolled_in_treatment(c)
    set_clock(app, at(day(7)))
    client, token = signed_in(app, session, c.nurse)
    data = {
        "activity_id": "iv-neurotrophic",
        "given_on": day(7).isoformat(),
        "drug": "neurotrophic factors",
        "dose_text": "10 mL",
        "duration_minutes": "60",
    }

    page = client.get(f"/enrollments/{enrollment.id}/care")
    response = client.post(f"/enrollments/{enrollment.id}/care", data={"csrf_token": token, **data})

    assert '<option value="physiotherapy"' in page.text
    assert '<option value="implantation"' not in page.text
    assert response.status_code == 303, response.text
    given = session.scalars(
        sa.select(Administration).where(Administration.enrollment_id == enrollment.id)
    ).one()
    assert (given.kind, given.drug, given.duration_minutes) == (
        "iv_infusion",
        "neurotrophic factors",
        60,
    )


def test_care_mistakes_are_shown_next_to_their_fields(app, session):
    c = clinic(session)
    _, enrollment = enrolled_in_treatment(c)
    set_clock(app, at(day(7)))
    client, token = signed_in(app, session, c.nurse)
    data = {
        "activity_id": "physiotherapy",
        "given_on": day(7).isoformat(),
        "duration_minutes": "5000",
    }
    early = data | {"given_on": "2025-12-01", "duration_minutes": "45"}

    response = client.post(f"/enrollments/{enrollment.id}/care", data={"csrf_token": token, **data})
    before = client.post(f"/enrollments/{enrollment.id}/care", data={"csrf_token": token, **early})

    assert response.status_code == 422
    assert_kept(assert_error(response, "duration_minutes", "must be 1-1440"), data)
    assert before.status_code == 422
    assert_kept(assert_error(before, "given_on", "before the program start"), early)
    assert count(session, Administration) == 0


def test_a_coordinator_may_not_record_care(app, session):
    c = clinic(session)
    _, enrollment = enrolled_in_treatment(c)
    client, token = signed_in(app, session, c.coordinator)

    refused(client, token, f"/enrollments/{enrollment.id}/care", {"activity_id": "physiotherapy"})


# ---------------------------------------------------------------- visits


def test_a_visit_is_recorded_done_or_missed(app, session):
    c = clinic(session)
    _, enrollment = enrolled_in_treatment(c)
    set_clock(app, at(day(2)))
    client, token = signed_in(app, session, c.nurse)

    page = client.get(f"/enrollments/{enrollment.id}/visit")
    done = client.post(
        f"/enrollments/{enrollment.id}/visit",
        data={
            "csrf_token": token,
            "activity": "spine-imaging:1",
            "outcome": "done",
            "on": "2026-01-07",
        },
    )
    missed = client.post(
        f"/enrollments/{enrollment.id}/visit",
        data={
            "csrf_token": token,
            "activity": "month-1:1",
            "outcome": "missed",
            "reason": "moved abroad",
        },
    )

    assert '<option value="month-3:1"' in page.text  # follow-up visits are offered
    assert '<option value="implantation:1"' not in page.text
    assert done.status_code == 303, done.text
    assert missed.status_code == 303, missed.text
    events = session.scalars(
        sa.select(ScheduleEvent).where(ScheduleEvent.enrollment_id == enrollment.id)
    ).all()
    assert {(e.activity_id, e.kind, e.reason) for e in events} == {
        ("spine-imaging", "done", None),
        ("month-1", "skipped", "moved abroad"),
    }


def test_visit_mistakes_are_shown_next_to_their_fields(app, session):
    c = clinic(session)
    _, enrollment = enrolled_in_treatment(c)
    set_clock(app, at(day(2)))
    client, token = signed_in(app, session, c.nurse)
    no_reason = {"activity": "month-1:1", "outcome": "missed", "on": "", "reason": ""}
    early = {"activity": "spine-imaging:1", "outcome": "done", "on": "2026-01-01", "reason": ""}

    response = client.post(
        f"/enrollments/{enrollment.id}/visit", data={"csrf_token": token, **no_reason}
    )
    before = client.post(f"/enrollments/{enrollment.id}/visit", data={"csrf_token": token, **early})

    assert response.status_code == 422
    assert_kept(assert_error(response, "reason", "required"), no_reason)
    assert before.status_code == 422
    assert_kept(assert_error(before, "on", "before the program start"), early)


def test_a_coordinator_may_not_record_visits(app, session):
    c = clinic(session)
    _, enrollment = enrolled_in_treatment(c)
    client, token = signed_in(app, session, c.coordinator)

    refused(client, token, f"/enrollments/{enrollment.id}/visit", {"activity": "month-1:1"})


# ---------------------------------------------------------------- adverse events and outcomes

ADVERSE_EVENT = {
    "term": "Post-lumbar puncture headache",
    "onset_on": "2026-01-04",
    "aware_on": "2026-01-05",
    "ctcae_grade": "2",
    "causality_procedure": "probable",
    "causality_product": "unlikely",
    "causality_drug": "unrelated",
    "expected": "yes",
}


def test_a_nurse_records_an_adverse_event(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)

    page = client.get(f"/patients/{patient.id}/adverse-events/new")
    response = client.post(
        f"/patients/{patient.id}/adverse-events/new", data={"csrf_token": token, **ADVERSE_EVENT}
    )

    assert "limits self-care activities of daily living" in page.text  # CTCAE grade 3
    assert response.status_code == 303, response.text
    event = session.scalars(
        sa.select(AdverseEvent).where(AdverseEvent.patient_id == patient.id)
    ).one()
    assert (event.ctcae_grade, event.serious, event.expected) == (2, False, True)
    assert event.causality_procedure == "probable"


def test_a_serious_event_without_its_criteria_is_shown_next_to_serious(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)
    data = ADVERSE_EVENT | {"serious": "yes", "seriousness_hospitalization": ""}

    response = client.post(
        f"/patients/{patient.id}/adverse-events/new", data={"csrf_token": token, **data}
    )

    assert response.status_code == 422
    page = assert_error(response, "serious", "name the criteria met")
    assert_kept(page, {k: v for k, v in data.items() if v})
    assert count(session, AdverseEvent) == 0


def test_a_coordinator_may_not_record_adverse_events(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.coordinator)

    refused(client, token, f"/patients/{patient.id}/adverse-events/new", ADVERSE_EVENT)


def test_an_outcome_event_is_recorded(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.coordinator)
    data = {"kind": "tracheostomy", "occurred_on": "2026-01-03", "source": "hospital letter"}

    response = client.post(f"/patients/{patient.id}/outcome", data={"csrf_token": token, **data})

    assert response.status_code == 303, response.text
    event = session.scalars(
        sa.select(OutcomeEvent).where(OutcomeEvent.patient_id == patient.id)
    ).one()
    assert (event.kind, event.occurred_on, event.source) == (
        "tracheostomy",
        date(2026, 1, 3),
        "hospital letter",
    )


def test_an_outcome_in_the_future_is_shown_next_to_its_date(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.physician)
    data = {"kind": "death", "occurred_on": "2026-03-01", "source": ""}

    response = client.post(f"/patients/{patient.id}/outcome", data={"csrf_token": token, **data})

    assert response.status_code == 422
    assert_kept(assert_error(response, "occurred_on", "in the future"), data)


def test_a_nurse_may_not_record_outcome_events(app, session):
    c = clinic(session)
    patient = referred(c)
    client, token = signed_in(app, session, c.nurse)

    refused(client, token, f"/patients/{patient.id}/outcome", {"kind": "death"})


# ---------------------------------------------------------------- other sites

PATIENT_FORMS = (
    "diagnosis",
    "consent",
    "screening",
    "enroll",
    "alsfrs",
    "measurements",
    "adverse-events/new",
    "outcome",
)
ENROLLMENT_FORMS = ("dose", "care", "visit")


def test_no_form_of_a_patient_opens_for_another_sites_physician(app, session):
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    stranger = make_user(session, Role.PHYSICIAN, site=make_site(session, code="ROM"))
    client, token = signed_in(app, session, stranger)
    paths = [f"/patients/{patient.id}/{form}" for form in PATIENT_FORMS]
    paths += [f"/enrollments/{enrollment.id}/{form}" for form in ENROLLMENT_FORMS]

    for path in paths:
        shown, sent = client.get(path), client.post(path, data={"csrf_token": token})
        assert (shown.status_code, sent.status_code) == (403, 403), path
        assert "at another site" in shown.text
        assert "AMS-001" not in shown.text.split("<main>")[1]
    assert count(session, ProductUnit) == 0


def test_every_form_posts_the_sessions_security_token(app, session):
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    waiting = eligible_patient(c, code="AMS-003")
    client, token = signed_in(app, session, c.physician)
    paths = [f"/patients/{patient.id}/{form}" for form in PATIENT_FORMS if form != "enroll"]
    paths += [f"/enrollments/{enrollment.id}/{form}" for form in ENROLLMENT_FORMS]
    paths += ["/patients/new", f"/patients/{waiting.id}/enroll"]

    for path in paths:
        page = client.get(path)
        form = re.search(
            rf'<form method="post" action="{re.escape(path)}"[^>]*>\s*<input [^>]+>', page.text
        )
        assert page.status_code == 200, (path, page.text[:300])
        assert form, path
        assert f'name="csrf_token" value="{token}"' in form.group(0), path
