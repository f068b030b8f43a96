"""Form pages about a patient: registration, diagnosis, consent, ALSFRS-R, measurements, adverse
events and outcome events. Each reads its form, calls one service and redirects to the patient."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from alscell.domain.access import Action
from alscell.domain.adverse_events import Causality
from alscell.domain.alsfrs import ITEMS, Domain, Item
from alscell.domain.eligibility import CATEGORIES, DiagnosticSystem
from alscell.errors import NotFound
from alscell.services import access, assessments, outcomes, patients, safety
from alscell.storage.models import Diagnosis, User
from alscell.web.deps import NowDep, SessionDep, TodayDep
from alscell.web.pages.common import Form, FormDep, PageUser, WriterUser
from alscell.web.pages.forms import FormPage, Kwargs, complete, patient_for, save

router = APIRouter(include_in_schema=False)

FIVE: Final = ("q5a", "q5b")
TRI_STATE: Final = {"yes": True, "no": False, "unknown": None}
GRADES: Final = (
    "Mild: asymptomatic or mild symptoms; observation only; no intervention indicated",
    "Moderate: minimal, local or non-invasive intervention indicated; limits instrumental "
    "activities of daily living",
    "Severe or medically significant but not immediately life-threatening: hospitalization "
    "indicated; limits self-care activities of daily living",
    "Life-threatening consequences: urgent intervention indicated",
    "Death related to the adverse event",
)
"""The CTCAE v5.0 general descriptions of each grade (clinical.md §9.3)."""
CAUSALITY: Final = {causality.value: causality for causality in Causality}
CAUSALITY_FIELDS: Final = ("causality_procedure", "causality_product", "causality_drug")


def _choices(names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ").capitalize()) for name in names]


def _domain_keys(domain: Domain) -> list[str]:
    keys = ["q5" if item.key in FIVE else item.key for item in ITEMS if item.domain is domain]
    return list(dict.fromkeys(keys))  # "q5" stands for 5a or 5b, whichever is scored


def _anchors(item: Item) -> list[tuple[str, str]]:
    return [(str(score), f"{score}: {item.anchors[score]}") for score in range(4, -1, -1)]


SEXES: Final = _choices(("female", "male", "other", "unknown"))


@dataclass(frozen=True, slots=True)
class _PatientForm:
    """A form about one patient: template, title, the action it needs and the choices it shows."""

    template: str
    title: str
    action: Action
    choices: Mapping[str, Any] = field(default_factory=dict)

    def page(self, request: Request, session: Session, user: User, patient_id: int) -> FormPage:
        patient = patient_for(session, patient_id, user, self.action)
        context = {"title": self.title, "patient": patient, **self.choices}
        return FormPage(request, session, user, f"forms/{self.template}.html", context)


DIAGNOSIS: Final = _PatientForm("diagnosis", "Diagnosis", Action.RECORD_DIAGNOSIS, {
    "onset_sites": _choices(patients.ONSET_SITES),
    "el_escorial": _choices(CATEGORIES[DiagnosticSystem.REVISED_EL_ESCORIAL]),
    "awaji": _choices(CATEGORIES[DiagnosticSystem.AWAJI]),
})  # fmt: skip
CONSENT: Final = _PatientForm("consent", "Informed consent", Action.RECORD_CONSENT)
ALSFRS: Final = _PatientForm("alsfrs", "ALSFRS-R rating", Action.RECORD_ASSESSMENT, {
    "domains_json": json.dumps({domain.value: _domain_keys(domain) for domain in Domain}),
    "groups": [(domain.value, [i for i in ITEMS if i.domain is domain]) for domain in Domain],
    "anchors": {item.key: _anchors(item) for item in ITEMS},
    "forms": [("clinician", "By a clinician"), ("self", "Self-administered")],
})  # fmt: skip
MEASUREMENTS: Final = _PatientForm("measurements", "Vital capacity, weight and laboratory results",
                                   Action.RECORD_ASSESSMENT, {
    "methods": [("fvc", "Forced (FVC)"), ("svc", "Slow (SVC)")],
    "labs": list(assessments.LAB_UNITS.items()),
})  # fmt: skip
ADVERSE_EVENT: Final = _PatientForm("adverse_event", "Adverse event", Action.RECORD_ADVERSE_EVENT, {
    "grades": [(str(grade), f"Grade {grade}. {text}") for grade, text in enumerate(GRADES, 1)],
    "seriousness": safety.SERIOUSNESS,
    "causalities": _choices(tuple(CAUSALITY)),
})  # fmt: skip
OUTCOME: Final = _PatientForm("outcome", "Outcome event", Action.RECORD_OUTCOME,
                              {"kinds": _choices(outcomes.OUTCOME_KINDS)})  # fmt: skip


def _to_patient(patient_id: int) -> str:
    return f"/patients/{patient_id}"


# ---------------------------------------------------------------- registration


def _register_page(request: Request, session: Session, user: User) -> FormPage:
    access.require(user, Action.REGISTER_PATIENT, resource="a patient")
    context = {"title": "Register a patient", "sexes": SEXES}
    return FormPage(request, session, user, "forms/register.html", context)


@router.get("/patients/new", response_class=HTMLResponse)
def register_form(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    """The form registering a referred patient at the user's site."""
    return _register_page(request, session, user).show({})


@router.post("/patients/new", response_model=None)
def register(
    request: Request, user: WriterUser, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Register the patient, then show their page."""
    entry = Form(form)
    return save(
        _register_page(request, session, user),
        entry,
        _registration(entry, user),
        lambda kw: patients.register_patient(session, by=user, now=now, **kw),
        to=lambda patient: _to_patient(patient.id),
        done="Patient registered",
    )


def _registration(entry: Form, user: User) -> Kwargs | None:
    if user.site_id is None:
        entry.errors["_form"] = "your account belongs to no site; ask an administrator"
    required = {
        "study_code": entry.text("study_code"),
        "given_name": entry.text("given_name"),
        "family_name": entry.text("family_name"),
        "birth_on": entry.day("birth_on"),
        "site_id": user.site_id,
    }
    optional = {
        "sex": entry.choice("sex", {sex: sex for sex, _ in SEXES}, required=False),
        "mrn": entry.text("mrn", required=False),
    }
    return complete(required, optional)


# ---------------------------------------------------------------- diagnosis


def _diagnosis_page(
    request: Request, session: Session, user: User, patient_id: int
) -> tuple[FormPage, Diagnosis | None]:
    page = DIAGNOSIS.page(request, session, user, patient_id)
    try:
        current: Diagnosis | None = patients.get_diagnosis(session, patient_id, by=user)
    except NotFound:
        current = None
    page.context["signed"] = current is not None and current.signed_at is not None
    return page, current


@router.get("/patients/{patient_id}/diagnosis", response_class=HTMLResponse)
def diagnosis_form(
    patient_id: int, request: Request, user: PageUser, session: SessionDep
) -> HTMLResponse:
    """The diagnosis form, filled in with the diagnosis on record."""
    page, current = _diagnosis_page(request, session, user, patient_id)
    return page.show(_diagnosis_values(current))


@router.post("/patients/{patient_id}/diagnosis", response_model=None)
def save_diagnosis(
    patient_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record the diagnosis, or change it (with a reason once signed)."""
    entry = Form(form)
    page, _ = _diagnosis_page(request, session, user, patient_id)
    return save(
        page,
        entry,
        _diagnosis(entry),
        lambda kw: patients.record_diagnosis(
            session, patient_id=patient_id, by=user, now=now, **kw
        ),
        to=_to_patient(patient_id),
        done="Diagnosis saved",
        fields={DiagnosticSystem.REVISED_EL_ESCORIAL.value: "el_escorial"},
    )


def _diagnosis(entry: Form) -> Kwargs | None:
    changes = {
        "expected_version": entry.integer("version", required=False),
        "reason": entry.text("reason", required=False),
    }
    required = {
        "onset_on": entry.day("onset_on"),
        "onset_site": entry.text("onset_site"),
        "diagnosis_on": entry.day("diagnosis_on"),
    }
    optional = {
        "familial": entry.flag("familial"),
        "el_escorial": entry.text("el_escorial", required=False),
        "awaji": entry.text("awaji", required=False),
        "gold_coast": entry.choice("gold_coast", TRI_STATE, required=False),
        "c9orf72": entry.choice("c9orf72", TRI_STATE, required=False),
        "other_genetics": entry.text("other_genetics", required=False),
        "ftd": entry.flag("ftd"),
    }
    fields = complete(required, optional)
    return None if fields is None else {"diagnosis": patients.DiagnosisInput(**fields)} | changes


def _diagnosis_values(current: Diagnosis | None) -> dict[str, str]:
    if current is None:
        return {}
    answer = {True: "yes", False: "no", None: "unknown"}
    return {
        "onset_on": current.onset_on.isoformat(),
        "onset_site": current.onset_site,
        "diagnosis_on": current.diagnosis_on.isoformat(),
        "familial": answer[current.familial],
        "el_escorial": current.el_escorial or "",
        "awaji": current.awaji or "",
        "gold_coast": answer[current.gold_coast],
        "c9orf72": answer[current.c9orf72],
        "other_genetics": current.other_genetics or "",
        "ftd": answer[current.ftd],
        "version": str(current.version),
    }


# ---------------------------------------------------------------- consent


@router.get("/patients/{patient_id}/consent", response_class=HTMLResponse)
def consent_form(
    patient_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """The consent form."""
    page = CONSENT.page(request, session, user, patient_id)
    return page.show({"consented_on": today.isoformat()})


@router.post("/patients/{patient_id}/consent", response_model=None)
def save_consent(
    patient_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record informed consent to a version of the consent form."""
    entry = Form(form)
    parsed = complete(
        {"form_version": entry.text("form_version"), "consented_on": entry.day("consented_on")}
    )
    return save(
        CONSENT.page(request, session, user, patient_id),
        entry,
        parsed,
        lambda kw: patients.record_consent(session, patient_id=patient_id, by=user, now=now, **kw),
        to=_to_patient(patient_id),
        done="Consent recorded",
    )


# ---------------------------------------------------------------- ALSFRS-R


@router.get("/patients/{patient_id}/alsfrs", response_class=HTMLResponse)
def alsfrs_form(
    patient_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """The ALSFRS-R form: every item's anchors, and totals by domain as it is filled in."""
    page = ALSFRS.page(request, session, user, patient_id)
    return page.show({"rated_on": today.isoformat(), "form": "clinician"})


@router.post("/patients/{patient_id}/alsfrs", response_model=None)
def save_alsfrs(
    patient_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record the rating; the service scores it."""
    entry = Form(form)
    five = "q5b" if entry.flag("gastrostomy") else "q5a"
    return save(
        ALSFRS.page(request, session, user, patient_id),
        entry,
        _alsfrs(entry, five),
        lambda kw: assessments.record_alsfrs_rating(
            session, patient_id=patient_id, by=user, now=now, **kw
        ),
        to=_to_patient(patient_id),
        done="ALSFRS-R rating recorded",
        fields={"q5a/q5b": five},
    )


def _alsfrs(entry: Form, five: str) -> Kwargs | None:
    keys = [item.key for item in ITEMS if item.key not in FIVE or item.key == five]
    items = {key: entry.integer(key) for key in keys}
    required = {
        "rated_on": entry.day("rated_on"),
        "items": None if None in items.values() else items,
    }
    return complete(required, {"form": entry.text("form", required=False) or "clinician"})


# ---------------------------------------------------------------- measurements


@router.get("/patients/{patient_id}/measurements", response_class=HTMLResponse)
def measurements_form(
    patient_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """Vital capacity, weight and laboratory values: any of them, on one date."""
    page = MEASUREMENTS.page(request, session, user, patient_id)
    return page.show({"measured_on": today.isoformat(), "vc_method": "fvc"})


@router.post("/patients/{patient_id}/measurements", response_model=None)
def save_measurements(
    patient_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record every measurement given, together: all of them or, after a mistake, none."""
    entry = Form(form)
    page = MEASUREMENTS.page(request, session, user, patient_id)
    parsed = _measurements(entry)
    return save(
        page, entry, parsed,
        lambda kwargs: assessments.record_measurements(session, patient_id=patient_id, by=user, now=now, **kwargs),
        to=_to_patient(patient_id), done=lambda records: f"Recorded {len(records)} measurement(s)",
        fields=_measurement_field,
    )  # fmt: skip


def _measurements(entry: Form) -> Kwargs | None:
    on = entry.day("measured_on")
    percent = entry.number("vc_percent", required=False)
    method = entry.text("vc_method", required=False) or "fvc"
    weight = entry.number("weight_kg", required=False)
    labs = {
        analyte: value
        for analyte in assessments.LAB_UNITS
        if (value := entry.number(f"lab_{analyte}", required=False)) is not None
    }
    if percent is None and weight is None and not labs and not entry.errors:
        entry.errors["_form"] = "enter at least one measurement"
    if entry.errors:
        return None
    return {
        "measured_on": on, "vital_capacity": (percent, method) if percent is not None else None,
        "weight_kg": weight, "labs": labs,
    }  # fmt: skip


def _measurement_field(location: str) -> str:
    """The form field of a problem found by ``record_measurements``."""
    renamed = {"vital_capacity.percent_predicted": "vc_percent", "vital_capacity.method": "vc_method",
               "weight.weight_kg": "weight_kg"}  # fmt: skip
    if location in renamed:
        return renamed[location]
    if location.startswith("labs."):
        return f"lab_{location.split('.')[1]}"  # labs.<analyte>.value or .analyte
    return location


# ---------------------------------------------------------------- adverse events


@router.get("/patients/{patient_id}/adverse-events/new", response_class=HTMLResponse)
def adverse_event_form(
    patient_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """The adverse event form, with CTCAE grades and relatedness."""
    page = ADVERSE_EVENT.page(request, session, user, patient_id)
    return page.show({"aware_on": today.isoformat()})


@router.post("/patients/{patient_id}/adverse-events/new", response_model=None)
def save_adverse_event(
    patient_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record the event; a serious one starts its reporting clock."""
    entry = Form(form)
    return save(
        ADVERSE_EVENT.page(request, session, user, patient_id),
        entry,
        _adverse_event(entry),
        lambda kw: safety.record_adverse_event(
            session, patient_id=patient_id, by=user, now=now, **kw
        ),
        to=_to_patient(patient_id),
        done="Adverse event recorded",
    )


def _adverse_event(entry: Form) -> Kwargs | None:
    grades = {str(grade): grade for grade in range(1, len(GRADES) + 1)}
    required = {
        "term": entry.text("term"),
        "onset_on": entry.day("onset_on"),
        "ctcae_grade": entry.choice("ctcae_grade", grades),
        "aware_on": entry.day("aware_on"),
    } | {name: entry.choice(name, CAUSALITY) for name in CAUSALITY_FIELDS}
    optional = {
        "serious": entry.flag("serious"),
        "seriousness": [name for name in safety.SERIOUSNESS if entry.flag(f"seriousness_{name}")],
        "expected": entry.flag("expected"),
    }
    return complete(required, optional)


# ---------------------------------------------------------------- outcome events


@router.get("/patients/{patient_id}/outcome", response_class=HTMLResponse)
def outcome_form(
    patient_id: int, request: Request, user: PageUser, session: SessionDep
) -> HTMLResponse:
    """The form for a death, tracheostomy or permanent ventilation."""
    return OUTCOME.page(request, session, user, patient_id).show({})


@router.post("/patients/{patient_id}/outcome", response_model=None)
def save_outcome(
    patient_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record the outcome event (a death also ends participation)."""
    entry = Form(form)
    parsed = complete(
        {"kind": entry.text("kind"), "occurred_on": entry.day("occurred_on")},
        {"source": entry.text("source", required=False)},
    )
    return save(
        OUTCOME.page(request, session, user, patient_id),
        entry,
        parsed,
        lambda kw: outcomes.record_outcome_event(
            session, patient_id=patient_id, by=user, now=now, **kw
        ),
        to=_to_patient(patient_id),
        done="Outcome event recorded",
    )
