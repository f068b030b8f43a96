"""Patient (with identity only when given), ALS Condition, Consent and outcome events."""

from __future__ import annotations

from datetime import date
from typing import Final

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure

from alscell.domain.dataset import (
    ConsentRecord,
    DiagnosisRecord,
    IdentityRecord,
    OutcomeEventRecord,
    PatientRecord,
)
from alscell.interop.fhir import codes
from alscell.interop.fhir.entries import Entry, Links
from alscell.interop.fhir.extensions import Spec, from_extensions, to_extensions

GENDERS: Final = frozenset({"female", "male", "other", "unknown"})
"""Values of ``sex`` written as ``Patient.gender``; any other value goes in the ``sex`` extension."""

PATIENT: Final = (
    Spec("site_code", "site-code", "string", required=True),
    Spec("status", "patient-status", "code", required=True),
    Spec("birth_year", "birth-year", "integer"),
    Spec("registered_at", "registered-at", "datetime"),
)
SEX: Final = Spec("sex", "sex", "string")
DIAGNOSIS: Final = (
    Spec("onset_site", "onset-site", "code", required=True),
    Spec("familial", "familial", "boolean", required=True),
    Spec("el_escorial", "el-escorial", "code"),
    Spec("awaji", "awaji", "code"),
    Spec("gold_coast", "gold-coast", "boolean"),
    Spec("c9orf72", "c9orf72", "boolean"),
    Spec("other_genetics", "other-genetics", "string"),
    Spec("ftd", "ftd", "boolean", required=True),
)
CONSENT: Final = (
    Spec("form_version", "consent-form-version", "string", required=True),
    Spec("withdrawn_on", "withdrawn-on", "date"),
)
OUTCOME: Final = (Spec("source", "information-source", "string"),)


# ---------------------------------------------------------------- export


def to_patient(
    patient: PatientRecord, identity: IdentityRecord | None, *, died_on: date | None
) -> Patient:
    """The Patient: study code, birth year and sex; name, birth date and MRN only with ``identity``."""
    extensions = to_extensions(patient, PATIENT)
    if patient.sex is not None and patient.sex not in GENDERS:
        extensions.extend(to_extensions(patient, (SEX,)))
    identifiers = [Identifier(system=codes.STUDY_CODE, value=patient.study_code)]
    if identity is not None and identity.mrn is not None:
        identifiers.append(Identifier(system=codes.MRN, value=identity.mrn))
    return Patient(
        extension=extensions,
        identifier=identifiers,
        gender=patient.sex if patient.sex in GENDERS else None,
        name=None
        if identity is None
        else [HumanName(family=identity.family_name, given=[identity.given_name])],
        birthDate=None if identity is None else identity.birth_on,
        deceasedDateTime=died_on,
    )


def to_condition(diagnosis: DiagnosisRecord, links: Links) -> Condition:
    """ALS (SNOMED CT 86044005): onset as onsetDateTime, the diagnosis date as recordedDate."""
    return Condition(
        extension=to_extensions(diagnosis, DIAGNOSIS),
        verificationStatus=codes.concept(codes.CONDITION_VERIFICATION, "confirmed"),
        code=codes.concept(codes.SNOMED, codes.ALS_SNOMED, "Amyotrophic lateral sclerosis"),
        subject=links.subject(diagnosis.study_code),
        onsetDateTime=diagnosis.onset_on,
        recordedDate=diagnosis.diagnosis_on,
    )


def to_consent(consent: ConsentRecord, links: Links) -> Consent:
    """Research consent: given on ``dateTime``; inactive once withdrawn."""
    return Consent(
        extension=to_extensions(consent, CONSENT),
        status="active" if consent.withdrawn_on is None else "inactive",
        scope=codes.concept(codes.CONSENT_SCOPE, "research"),
        category=[codes.concept(codes.CONSENT_CATEGORY, "program-consent")],
        patient=links.subject(consent.study_code),
        dateTime=consent.consented_on,
    )


def to_outcome(event: OutcomeEventRecord, links: Links) -> Observation | Procedure:
    """Death as an Observation; tracheostomy, permanent ventilation and others as a Procedure."""
    kind = codes.concept(codes.OUTCOME_KIND, event.kind)
    if event.kind == codes.DEATH:
        return Observation(
            extension=to_extensions(event, OUTCOME),
            status="final",
            code=codes.concept(codes.OBSERVATION, codes.OUTCOME_EVENT),
            subject=links.subject(event.study_code),
            effectiveDateTime=event.occurred_on,
            valueCodeableConcept=kind,
        )
    return Procedure(
        extension=to_extensions(event, OUTCOME),
        status="completed",
        code=kind,
        subject=links.subject(event.study_code),
        performedDateTime=event.occurred_on,
    )


# ---------------------------------------------------------------- import


def from_patient(
    resource: Patient, entry: Entry
) -> tuple[PatientRecord | None, IdentityRecord | None]:
    """The patient record, and the identity when the Patient carries a name or birth date."""
    code = _identifier(resource.identifier, codes.STUDY_CODE)
    if code is None:
        entry.problem("identifier", f"needs an identifier of {codes.STUDY_CODE}")
    values = from_extensions(resource.extension, (*PATIENT, SEX), entry, path="extension")
    sex = values.pop("sex", None) or resource.gender
    identity = None
    if resource.name or resource.birthDate is not None:
        identity = _identity(resource, code or "", entry)
    if not entry.ok or code is None:
        return None, None
    patient = PatientRecord(study_code=code, sex=sex, origin=entry.place, **values)
    return patient, identity


def _identity(resource: Patient, code: str, entry: Entry) -> IdentityRecord | None:
    name = resource.name[0] if resource.name else None
    family = entry.require(name.family if name else None, "name[0].family")
    given = entry.require(name.given[0] if name and name.given else None, "name[0].given[0]")
    born = entry.date(resource.birthDate, "birthDate")
    if family is None or given is None or born is None:
        return None
    return IdentityRecord(
        study_code=code,
        given_name=given,
        family_name=family,
        birth_on=born,
        mrn=_identifier(resource.identifier, codes.MRN),
        origin=entry.place,
    )


def _identifier(identifiers: list[Identifier] | None, system: str) -> str | None:
    for identifier in identifiers or []:
        if identifier.system == system and identifier.value:
            return str(identifier.value)
    return None


def from_condition(resource: Condition, entry: Entry) -> DiagnosisRecord | None:
    """The diagnosis record of an ALS Condition."""
    if codes.code_in(resource.code, codes.SNOMED) != codes.ALS_SNOMED:
        entry.problem("code", f"must be SNOMED CT {codes.ALS_SNOMED} (ALS)")
    code = entry.study_code(resource.subject, "subject")
    onset = entry.date(resource.onsetDateTime, "onsetDateTime")
    diagnosed = entry.date(resource.recordedDate, "recordedDate")
    values = from_extensions(resource.extension, DIAGNOSIS, entry, path="extension")
    if not entry.ok or code is None or onset is None or diagnosed is None:
        return None
    return DiagnosisRecord(
        study_code=code, onset_on=onset, diagnosis_on=diagnosed, origin=entry.place, **values
    )


def from_consent(resource: Consent, entry: Entry) -> ConsentRecord | None:
    """The consent record of a Consent."""
    code = entry.study_code(resource.patient, "patient")
    given = entry.date(resource.dateTime, "dateTime")
    values = from_extensions(resource.extension, CONSENT, entry, path="extension")
    if not entry.ok or code is None or given is None:
        return None
    return ConsentRecord(study_code=code, consented_on=given, origin=entry.place, **values)


def from_outcome(resource: Observation | Procedure, entry: Entry) -> OutcomeEventRecord | None:
    """The outcome event of a death Observation or an outcome Procedure."""
    if isinstance(resource, Observation):
        kind = codes.code_in(resource.valueCodeableConcept, codes.OUTCOME_KIND)
        on = entry.date(resource.effectiveDateTime, "effectiveDateTime")
        kind_path = "valueCodeableConcept"
    else:
        kind = codes.code_in(resource.code, codes.OUTCOME_KIND)
        on = entry.date(resource.performedDateTime, "performedDateTime")
        kind_path = "code"
    if kind is None:
        entry.problem(kind_path, f"needs a code of {codes.OUTCOME_KIND}")
    code = entry.study_code(resource.subject, "subject")
    values = from_extensions(resource.extension, OUTCOME, entry, path="extension")
    if not entry.ok or code is None or kind is None or on is None:
        return None
    return OutcomeEventRecord(
        study_code=code, kind=kind, occurred_on=on, origin=entry.place, **values
    )
