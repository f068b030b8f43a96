"""Form pages of the program: screening, enrollment and start, lumbar punctures, daily care, visits.

A lumbar puncture blocked by a safety rule comes back (409) listing each rule and its reason; when
the block may be overridden, a physician ticks each rule and writes a reason (the service records
the override); a block that may never be overridden says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from alscell.domain import isbt128
from alscell.domain.access import Action
from alscell.domain.protocol import Protocol
from alscell.domain.scheduling import ItemStatus, ScheduledActivity
from alscell.errors import Conflict
from alscell.services import access, dosing, enrollment, patients, products, protocols
from alscell.storage.models import ProductUnit, User
from alscell.web.deps import NowDep, SessionDep, TodayDep
from alscell.web.pages.common import Form, FormDep, PageUser, WriterUser, render
from alscell.web.pages.forms import (
    FormPage,
    Kwargs,
    answered,
    bedside_checks,
    complete,
    enrollment_for,
    event_fields,
    patient_for,
    protocol_options,
    save,
)

router = APIRouter(include_in_schema=False)

OUTCOMES: Final = [("done", "It took place"), ("missed", "It was missed")]


def _to_patient(patient_id: int) -> str:
    return f"/patients/{patient_id}"


# ---------------------------------------------------------------- screening


def _screening_page(
    request: Request, session: Session, user: User, patient_id: int, protocol_id: str | None
) -> tuple[FormPage, Protocol]:
    patient = patient_for(session, patient_id, user, Action.SCREEN)
    choices = protocol_options(session, user)
    if not choices:
        raise Conflict("no protocol is loaded; ask an administrator to load one")
    listed = [value for value, _ in choices]
    chosen = protocol_id if protocol_id in listed else listed[0]
    _, protocol = protocols.get_protocol(session, int(chosen), by=user)
    context = {
        "title": "Screening",
        "patient": patient,
        "protocols": choices,
        "protocol": protocol,
        "protocol_id": chosen,
    }
    return FormPage(request, session, user, "forms/screening.html", context), protocol


@router.get("/patients/{patient_id}/screening", response_class=HTMLResponse)
def screening_form(
    patient_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep,
    protocol_id: str = "",
) -> HTMLResponse:  # fmt: skip
    """Exclusions and pre-puncture checks of a protocol; the rest comes from the records."""
    page, _ = _screening_page(request, session, user, patient_id, protocol_id)
    return page.show({"protocol_id": page.context["protocol_id"], "screened_on": today.isoformat()})


@router.post("/patients/{patient_id}/screening", response_model=None)
def save_screening(
    patient_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Evaluate eligibility and show the answer for each criterion."""
    entry = Form(form)
    page, protocol = _screening_page(
        request, session, user, patient_id, entry.values.get("protocol_id")
    )
    return save(
        page,
        entry,
        _screening(entry, protocol),
        lambda kw: enrollment.screen_patient(
            session, patient_id=patient_id, by=user, now=now, **kw
        ),
        to=lambda screening: f"/screenings/{screening.id}",
        done="Screening recorded",
    )


def _screening(entry: Form, protocol: Protocol) -> Kwargs | None:
    required = {
        "protocol_id": entry.integer("protocol_id"),
        "screened_on": entry.day("screened_on"),
    }
    optional = {
        "exclusions": answered(entry, "exclusion_", protocol.eligibility.exclusions),
        "pre_puncture": bedside_checks(entry, protocol.safety),
    }
    return complete(required, optional)


@router.get("/screenings/{screening_id}", response_class=HTMLResponse)
def screening_result(
    screening_id: int, request: Request, user: PageUser, session: SessionDep
) -> HTMLResponse:
    """A screening's answer for each criterion: met, not met, unknown or review, with its value."""
    screening = enrollment.get_screening(session, screening_id, by=user)
    patient = patients.get_patient(session, screening.patient_id, by=user)
    row, _ = protocols.get_protocol(session, screening.protocol_id, by=user)
    return render(
        request,
        "forms/screening_result.html",
        user=user,
        title="Eligibility",
        patient=patient,
        screening=screening,
        protocol_label=f"{row.key} {row.version}",
    )


# ---------------------------------------------------------------- enrollment and start


def _enroll_page(request: Request, session: Session, user: User, patient_id: int) -> FormPage:
    patient = patient_for(session, patient_id, user, Action.ENROLL)
    rows, _ = enrollment.list_enrollments(session, patient_id, by=user, limit=1)
    current = rows[0] if rows and rows[0].ended_on is None else None
    context = {
        "title": "Enrollment",
        "patient": patient,
        "current": current,
        "protocols": protocol_options(session, user),
    }
    return FormPage(request, session, user, "forms/enroll.html", context)


@router.get("/patients/{patient_id}/enroll", response_class=HTMLResponse)
def enroll_form(
    patient_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """Enroll the patient in a protocol; once enrolled, start the treatment."""
    page = _enroll_page(request, session, user, patient_id)
    return page.show({"enrolled_on": today.isoformat(), "start_on": today.isoformat()})


@router.post("/patients/{patient_id}/enroll", response_model=None)
def save_enrollment(
    patient_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Enroll an eligible, consented patient."""
    entry = Form(form)
    parsed = complete(
        {"protocol_id": entry.integer("protocol_id"), "enrolled_on": entry.day("enrolled_on")}
    )
    return save(
        _enroll_page(request, session, user, patient_id),
        entry,
        parsed,
        lambda kw: enrollment.enroll(session, patient_id=patient_id, by=user, now=now, **kw),
        to=_to_patient(patient_id),
        done="Patient enrolled",
    )


@router.post("/enrollments/{enrollment_id}/start", response_model=None)
def start_treatment(
    enrollment_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Start the treatment on day 0: the calendar is planned."""
    _, patient = enrollment_for(session, enrollment_id, user, Action.START_TREATMENT)
    entry = Form(form)
    return save(
        _enroll_page(request, session, user, patient.id),
        entry,
        complete({"start_on": entry.day("start_on")}),
        lambda kw: enrollment.start_treatment(
            session, enrollment_id=enrollment_id, by=user, now=now, **kw
        ),
        to=_to_patient(patient.id),
        done="Treatment started",
    )


# ---------------------------------------------------------------- lumbar puncture


def _dose_page(request: Request, session: Session, user: User, enrollment_id: int) -> FormPage:
    record, patient = enrollment_for(session, enrollment_id, user, Action.RECORD_PUNCTURE)
    _, protocol = protocols.get_protocol(session, record.protocol_id, by=user)
    units = products.dispensed_units_for(session, patient_id=patient.id, by=user)
    context = {
        "title": "Lumbar puncture",
        "patient": patient,
        "enrollment": record,
        "protocol": protocol,
        "units": [_unit_choice(unit) for unit in units],
        "dose_rule": f"the protocol's dose: {protocol.product.dose.describe()}"
        if protocol.product
        else "",
        "can_override": access.allowed_to(user, Action.OVERRIDE_SAFETY),
        "block": None,
    }
    return FormPage(request, session, user, "forms/dose.html", context)


def _unit_choice(unit: ProductUnit) -> tuple[str, str]:
    typed = unit.din + isbt128.check_character(unit.din)
    return typed, f"{typed}: {unit.cells:,.0f} cells, expires {unit.expires_on}"


@router.get("/enrollments/{enrollment_id}/dose", response_class=HTMLResponse)
def dose_form(
    enrollment_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """The lumbar puncture: unit, dose, bedside identity and pre-procedure checks."""
    page = _dose_page(request, session, user, enrollment_id)
    return page.show({"given_on": today.isoformat()})  # the unit is chosen, never preselected


@router.post("/enrollments/{enrollment_id}/dose", response_model=None)
def save_dose(
    enrollment_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record the dose; a safety block shows its rules (and, where allowed, the override)."""
    entry = Form(form)
    page = _dose_page(request, session, user, enrollment_id)
    unit_field = "unit_scanned" if entry.text("unit_scanned", required=False) else "unit_id"
    fields = {
        "unit_id": unit_field,
        "override.reason": "override_reason",
        "override.rules": "override_rules",
        "override": "override_rules",
    }
    return save(
        page,
        entry,
        _dose(entry, page.context["protocol"], unit_field),
        lambda kw: dosing.record_cell_dose(
            session, enrollment_id=enrollment_id, by=user, now=now, **kw
        ),
        to=_to_patient(page.context["patient"].id),
        done="Lumbar puncture recorded",
        fields=fields,
        missing={"product unit": unit_field},
    )


def _dose(entry: Form, protocol: Protocol, unit_field: str) -> Kwargs | None:
    identity = complete({"study_code": entry.text("study_code"), "birth_on": entry.day("birth_on")})
    checks = bedside_checks(entry, protocol.safety)
    required = {
        "unit_id": entry.text(unit_field),
        "dose_cells": entry.number("dose_cells"),
        "given_on": entry.day("given_on"),
    }
    optional = {
        "volume_ml": entry.number("volume_ml", required=False),
        "notes": entry.text("notes", required=False),
        "override": _override(entry),
    }
    fields = complete(required, optional)
    if fields is None or identity is None:
        return None
    return fields | {
        "bedside": dosing.Bedside(identity["study_code"], identity["birth_on"], checks)
    }


def _override(entry: Form) -> dosing.Override | None:
    ticked = [name for name in entry.values if name.startswith("override:") and entry.flag(name)]
    reason = entry.text("override_reason", required=False)
    if not ticked and reason is None:
        return None
    rules = tuple(name.removeprefix("override:") for name in ticked)
    return dosing.Override(rules, reason or "")


# ---------------------------------------------------------------- daily care


def _care_page(request: Request, session: Session, user: User, enrollment_id: int) -> FormPage:
    record, patient = enrollment_for(session, enrollment_id, user, Action.RECORD_CARE)
    _, protocol = protocols.get_protocol(session, record.protocol_id, by=user)
    activities = [(a.id, a.name) for a in protocol.activities() if a.kind in dosing.CARE_KINDS]
    context = {
        "title": "IV infusion, medication or rehabilitation",
        "patient": patient,
        "enrollment": record,
        "activities": activities,
    }
    return FormPage(request, session, user, "forms/care.html", context)


@router.get("/enrollments/{enrollment_id}/care", response_class=HTMLResponse)
def care_form(
    enrollment_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """An infusion, medication or rehabilitation session of the protocol."""
    page = _care_page(request, session, user, enrollment_id)
    return page.show({"given_on": today.isoformat()})


@router.post("/enrollments/{enrollment_id}/care", response_model=None)
def save_care(
    enrollment_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record the session; the calendar marks it done."""
    entry = Form(form)
    page = _care_page(request, session, user, enrollment_id)
    return save(
        page,
        entry,
        _care(entry),
        lambda kw: dosing.record_care(session, enrollment_id=enrollment_id, by=user, now=now, **kw),
        to=_to_patient(page.context["patient"].id),
        done="Recorded",
        fields=event_fields("given_on", "activity_id"),
    )


def _care(entry: Form) -> Kwargs | None:
    required = {"activity_id": entry.text("activity_id"), "given_on": entry.day("given_on")}
    optional = {
        "drug": entry.text("drug", required=False),
        "dose_text": entry.text("dose_text", required=False),
        "duration_minutes": entry.integer("duration_minutes", required=False),
        "notes": entry.text("notes", required=False),
    }
    return complete(required, optional)


# ---------------------------------------------------------------- visits and examinations


def _visit_page(request: Request, session: Session, user: User, enrollment_id: int) -> FormPage:
    record, patient = enrollment_for(session, enrollment_id, user, Action.RECORD_ASSESSMENT)
    plan = enrollment.get_schedule(session, enrollment_id, by=user)
    activities = [_visit_choice(item) for item in plan.items if _is_visit(item)]
    context = {
        "title": "Visit or examination",
        "patient": patient,
        "enrollment": record,
        "activities": activities,
        "outcomes": OUTCOMES,
    }
    return FormPage(request, session, user, "forms/visit.html", context)


def _is_visit(item: ScheduledActivity) -> bool:
    planned = item.status is ItemStatus.PLANNED
    return planned and not item.cell_dose and item.kind not in dosing.CARE_KINDS


def _visit_choice(item: ScheduledActivity) -> tuple[str, str]:
    count = f" {item.occurrence}/{item.of}" if item.of and item.of > 1 else ""
    return f"{item.activity_id}:{item.occurrence}", f"{item.name}{count}, planned {item.planned_on}"


@router.get("/enrollments/{enrollment_id}/visit", response_class=HTMLResponse)
def visit_form(
    enrollment_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """A visit or examination of the calendar: done on a day, or missed with a reason."""
    page = _visit_page(request, session, user, enrollment_id)
    return page.show({"outcome": "done", "on": today.isoformat()})


@router.post("/enrollments/{enrollment_id}/visit", response_model=None)
def save_visit(
    enrollment_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record that the visit took place, or that it was missed and why."""
    entry = Form(form)
    page = _visit_page(request, session, user, enrollment_id)
    return save(
        page,
        entry,
        _visit(entry),
        lambda kw: _record_visit(session, enrollment_id, kw, user=user, now=now),
        to=_to_patient(page.context["patient"].id),
        done="Calendar updated",
        fields=event_fields("on", "activity"),
    )


def _visit(entry: Form) -> Kwargs | None:
    which = _occurrence(entry)
    missed = entry.choice("outcome", {"done": False, "missed": True})
    if missed is None:
        return None
    if missed:
        return complete(which | {"reason": entry.text("reason")}, {"missed": True})
    return complete(which | {"on": entry.day("on")}, {"missed": False})


def _occurrence(entry: Form) -> Kwargs:
    """The activity and occurrence chosen, written ``activity-id:occurrence`` in the list."""
    raw = entry.text("activity")
    activity_id, _, number = (raw or "").rpartition(":")
    if raw and not (activity_id and number.isdigit()):
        entry.errors["activity"] = "choose a visit or examination from the list"
    return {
        "activity_id": activity_id or None,
        "occurrence": int(number) if number.isdigit() else None,
    }


def _record_visit(
    session: Session, enrollment_id: int, kwargs: Kwargs, *, user: User, now: datetime
) -> Any:
    fields = dict(kwargs)
    if fields.pop("missed"):
        return enrollment.skip_activity(
            session, enrollment_id=enrollment_id, by=user, now=now, **fields
        )
    return enrollment.record_activity(
        session, enrollment_id=enrollment_id, by=user, now=now, **fields
    )
