"""Adverse events as R4B AdverseEvent: seriousness, severity and CTCAE grade, causality for the
procedure, product and drug, the reporting dates, and the lumbar puncture it followed."""

from __future__ import annotations

from datetime import date
from typing import Final

from fhir.resources.R4B.adverseevent import AdverseEvent, AdverseEventSuspectEntity
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.reference import Reference

from alscell.domain.dataset import AdverseEventRecord
from alscell.interop.fhir import codes
from alscell.interop.fhir.entries import Entry, Links
from alscell.interop.fhir.extensions import Spec, from_extensions, to_extensions

EVENT: Final = (
    Spec("ctcae_grade", "ctcae-grade", "coding", required=True, system=codes.CTCAE_GRADE),
    Spec("expected", "expected", "boolean", required=True),
    Spec("causality_procedure", "causality-procedure", "coding", True, codes.CAUSALITY),
    Spec("causality_product", "causality-product", "coding", True, codes.CAUSALITY),
    Spec("causality_drug", "causality-drug", "coding", True, codes.CAUSALITY),
    Spec("aware_on", "aware-on", "date", required=True),
    Spec("seriousness", "seriousness-criterion", "strings"),
    Spec("resolved_on", "resolved-on", "date"),
    Spec("sponsor_due_on", "sponsor-due-on", "date"),
    Spec("regulator_due_on", "regulator-due-on", "date"),
    Spec("complete_report_due_on", "complete-report-due-on", "date"),
    Spec("sponsor_reported_on", "sponsor-reported-on", "date"),
    Spec("regulator_reported_on", "regulator-reported-on", "date"),
    Spec("complete_report_sent_on", "complete-report-sent-on", "date"),
    Spec("administration_activity_id", "administration-activity-id", "code"),
    Spec("administration_given_on", "administration-given-on", "date"),
)
SERIOUS: Final = {"Serious": True, "Non-serious": False}
"""AdverseEvent.seriousness codes (HL7 adverse-event-seriousness) and what they mean."""


def severity(grade: int) -> str:
    """The R4B severity for a CTCAE grade: 1 mild, 2 moderate, 3-5 severe (derived, not read back)."""
    return "mild" if grade <= 1 else "moderate" if grade == 2 else "severe"


def to_adverse_event(
    event: AdverseEventRecord, links: Links, *, administration_url: str | None
) -> AdverseEvent:
    """An adverse event; ``administration_url`` is the resource of the dose it followed, if exported."""
    suspects = None
    if administration_url is not None and administration_url in links.present:
        suspects = [AdverseEventSuspectEntity(instance=Reference(reference=administration_url))]
    return AdverseEvent(
        extension=to_extensions(event, EVENT),
        actuality="actual",
        event=CodeableConcept(text=event.term),
        subject=links.subject(event.study_code),
        date=event.onset_on,
        seriousness=codes.concept(
            codes.AE_SERIOUSNESS, "Serious" if event.serious else "Non-serious"
        ),
        severity=codes.concept(codes.AE_SEVERITY, severity(event.ctcae_grade)),
        suspectEntity=suspects,
        study=None
        if event.protocol_key is None or event.protocol_version is None
        else [links.study(event.protocol_key, event.protocol_version)],
    )


def from_adverse_event(resource: AdverseEvent, entry: Entry) -> AdverseEventRecord | None:
    """The adverse event record of an AdverseEvent."""
    code = entry.study_code(resource.subject, "subject")
    term = entry.require(resource.event.text if resource.event else None, "event.text")
    onset: date | None = entry.date(resource.date, "date")
    serious = SERIOUS.get(codes.code_in(resource.seriousness, codes.AE_SERIOUSNESS) or "")
    if serious is None:
        entry.problem("seriousness", f"needs Serious or Non-serious of {codes.AE_SERIOUSNESS}")
    study = entry.study(resource.study[0], "study[0]") if resource.study else None
    values = from_extensions(resource.extension, EVENT, entry, path="extension")
    grade = values.pop("ctcae_grade", None)
    if grade is not None and not grade.isdigit():
        entry.problem("extension", f"ctcae-grade {grade!r} is not a CTCAE grade")
    if not entry.ok or code is None or onset is None or serious is None or grade is None:
        return None
    return AdverseEventRecord(
        study_code=code, term=term, onset_on=onset, serious=serious, ctcae_grade=int(grade),
        protocol_key=study[0] if study else None, protocol_version=study[1] if study else None,
        origin=entry.place, **values,
    )  # fmt: skip
