"""Patients: registration, the list, identity, diagnosis, consents and lifecycle steps."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from alscell.domain.access import Action
from alscell.domain.lifecycle import PatientStatus
from alscell.services import patients
from alscell.web.deps import CurrentUser, NowDep, PageDep, SessionDep
from alscell.web.schemas import IsoDate, Page, ReadModel, StrictModel, action, lax

router = APIRouter(prefix="/patients", tags=["patients"])


class PatientCreate(StrictModel):
    """A referred patient: study code, site, and identifying data (kept apart)."""

    study_code: str = Field(min_length=3, max_length=40, examples=["AMS-001"])
    site_id: int
    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    birth_on: IsoDate
    sex: str | None = Field(default=None, max_length=10)
    mrn: str | None = Field(default=None, max_length=80)


class PatientRead(ReadModel):
    """A patient without identifying data."""

    id: int
    study_code: str
    site_id: int
    status: PatientStatus
    sex: str | None
    birth_year: int | None
    registered_at: datetime
    version: int


class IdentityRead(ReadModel):
    """A patient's identifying data (roles allowed to see it only)."""

    patient_id: int
    given_name: str
    family_name: str
    birth_on: date
    mrn: str | None


class DiagnosisWrite(StrictModel):
    """A diagnosis (clinical.md §8); ``version`` and ``reason`` when changing one already recorded."""

    onset_on: IsoDate
    onset_site: str = Field(max_length=20)
    diagnosis_on: IsoDate
    familial: bool
    el_escorial: str | None = Field(default=None, max_length=40)
    awaji: str | None = Field(default=None, max_length=40)
    gold_coast: bool | None = None
    c9orf72: bool | None = None
    other_genetics: str | None = Field(default=None, max_length=400)
    ftd: bool = False
    version: int | None = Field(
        default=None, ge=1, description="The version read; a stale one is refused (409)."
    )
    reason: str | None = Field(
        default=None, max_length=2000, description="Required to change a signed diagnosis."
    )


class DiagnosisRead(ReadModel):
    """A recorded diagnosis."""

    id: int
    patient_id: int
    onset_on: date
    onset_site: str
    diagnosis_on: date
    familial: bool
    el_escorial: str | None
    awaji: str | None
    gold_coast: bool | None
    c9orf72: bool | None
    other_genetics: str | None
    ftd: bool
    signed_at: datetime | None
    version: int


class ConsentCreate(StrictModel):
    """Informed consent to a version of the consent form."""

    form_version: str = Field(min_length=1, max_length=40)
    consented_on: IsoDate


class ConsentRead(ReadModel):
    """A recorded consent."""

    id: int
    patient_id: int
    form_version: str
    consented_on: date
    withdrawn_on: date | None


class StatusChange(StrictModel):
    """Withdraw, lose to follow-up, begin follow-up or complete; with the day and the reason."""

    status: PatientStatus = lax()
    on: IsoDate
    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "", response_model=PatientRead, status_code=201, openapi_extra=action(Action.REGISTER_PATIENT)
)
def register_patient(
    body: PatientCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> PatientRead:
    """Register a referred patient."""
    patient = patients.register_patient(session, by=user, now=now, **body.model_dump())
    return PatientRead.model_validate(patient)


@router.get("", response_model=Page[PatientRead], openapi_extra=action(Action.VIEW_PATIENT))
def list_patients(
    user: CurrentUser, session: SessionDep, page: PageDep,
    status: Annotated[PatientStatus | None, Query(description="Only patients in this state.")] = None,
    search: Annotated[str | None, Query(max_length=40, description="Study codes starting with this.")] = None,
) -> Page[PatientRead]:  # fmt: skip
    """Patients the user may see, by study code."""
    rows, total = patients.list_patients(
        session, by=user, status=status, search=search, limit=page.limit, offset=page.offset
    )
    return Page(
        items=[PatientRead.model_validate(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{patient_id}", response_model=PatientRead, openapi_extra=action(Action.VIEW_PATIENT))
def get_patient(patient_id: int, user: CurrentUser, session: SessionDep) -> PatientRead:
    """One patient."""
    return PatientRead.model_validate(patients.get_patient(session, patient_id, by=user))


@router.get(
    "/{patient_id}/identity",
    response_model=IdentityRead,
    openapi_extra=action(Action.VIEW_IDENTITY),
)
def get_identity(patient_id: int, user: CurrentUser, session: SessionDep) -> IdentityRead:
    """The patient's identifying data."""
    return IdentityRead.model_validate(patients.get_identity(session, patient_id, by=user))


@router.get(
    "/{patient_id}/diagnosis",
    response_model=DiagnosisRead,
    openapi_extra=action(Action.VIEW_PATIENT),
)
def get_diagnosis(patient_id: int, user: CurrentUser, session: SessionDep) -> DiagnosisRead:
    """The patient's diagnosis."""
    return DiagnosisRead.model_validate(patients.get_diagnosis(session, patient_id, by=user))


@router.put(
    "/{patient_id}/diagnosis",
    response_model=DiagnosisRead,
    openapi_extra=action(Action.RECORD_DIAGNOSIS),
)
def record_diagnosis(
    patient_id: int, body: DiagnosisWrite, user: CurrentUser, session: SessionDep, now: NowDep
) -> DiagnosisRead:
    """Record or change the diagnosis (send the ``version`` read; a signed one needs a ``reason``)."""
    fields = body.model_dump(exclude={"version", "reason"})
    diagnosis = patients.record_diagnosis(
        session, patient_id=patient_id, diagnosis=patients.DiagnosisInput(**fields), by=user, now=now,
        expected_version=body.version, reason=body.reason,
    )  # fmt: skip
    return DiagnosisRead.model_validate(diagnosis)


@router.get(
    "/{patient_id}/consents",
    response_model=list[ConsentRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_consents(patient_id: int, user: CurrentUser, session: SessionDep) -> list[ConsentRead]:
    """The patient's consents."""
    return [
        ConsentRead.model_validate(c) for c in patients.list_consents(session, patient_id, by=user)
    ]


@router.post(
    "/{patient_id}/consents",
    response_model=ConsentRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_CONSENT),
)
def record_consent(
    patient_id: int, body: ConsentCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> ConsentRead:
    """Record informed consent."""
    consent = patients.record_consent(
        session, patient_id=patient_id, by=user, now=now, **body.model_dump()
    )
    return ConsentRead.model_validate(consent)


@router.post(
    "/{patient_id}/status",
    response_model=PatientRead,
    openapi_extra=action(Action.CLOSE_PARTICIPATION),
)
def change_status(
    patient_id: int, body: StatusChange, user: CurrentUser, session: SessionDep, now: NowDep
) -> PatientRead:
    """Withdraw, lose to follow-up, begin follow-up or complete a patient."""
    patient = patients.close_participation(session, patient_id=patient_id, status=body.status, on=body.on,
                                           reason=body.reason, by=user, now=now)  # fmt: skip
    return PatientRead.model_validate(patient)
