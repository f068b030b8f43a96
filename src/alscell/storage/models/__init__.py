"""Every table of alscell, importable from one place (Alembic and the services use this module)."""

from alscell.storage.models.audit import AuditEvent, AuditHead
from alscell.storage.models.auth import ApiToken, LoginSession, LoginThrottle
from alscell.storage.models.clinical import (
    AlsfrsRating,
    Consent,
    Diagnosis,
    LabResult,
    OutcomeEvent,
    Screening,
    VitalCapacity,
    VitalSigns,
    Weight,
)
from alscell.storage.models.comparator import (
    ComparatorCohort,
    ComparatorFvc,
    ComparatorRating,
    ComparatorSubject,
)
from alscell.storage.models.people import Patient, PatientIdentity, Site, User
from alscell.storage.models.product import CustodyEvent, ProductLot, ProductUnit, ReleaseTest
from alscell.storage.models.program import (
    Administration,
    AdverseEvent,
    AnalysisPlan,
    AnalysisPlanAmendment,
    Enrollment,
    ProtocolVersion,
    ScheduledActivityRow,
    ScheduleEvent,
    SiteClosure,
    StoppingRuleDecision,
)

__all__ = [
    "Administration",
    "AdverseEvent",
    "AlsfrsRating",
    "AnalysisPlan",
    "AnalysisPlanAmendment",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "ComparatorCohort",
    "ComparatorFvc",
    "ComparatorRating",
    "ComparatorSubject",
    "Consent",
    "CustodyEvent",
    "Diagnosis",
    "Enrollment",
    "LabResult",
    "LoginSession",
    "LoginThrottle",
    "OutcomeEvent",
    "Patient",
    "PatientIdentity",
    "ProductLot",
    "ProductUnit",
    "ProtocolVersion",
    "ReleaseTest",
    "ScheduleEvent",
    "ScheduledActivityRow",
    "Screening",
    "Site",
    "SiteClosure",
    "StoppingRuleDecision",
    "User",
    "VitalCapacity",
    "VitalSigns",
    "Weight",
]
