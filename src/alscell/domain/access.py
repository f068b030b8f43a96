"""Who may do what: roles (DESIGN.md, "Users") mapped to actions in one table.

Site scoping is a separate rule, applied by the services: a user sees and changes only their own
site's patients, unless their role is global (administrator, monitor) or they are an analyst without
a site (de-identified, read-only work across sites).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

__all__ = ["GLOBAL_ROLES", "PERMISSIONS", "Action", "Role", "allowed"]


class Role(StrEnum):
    """A user's role in the program."""

    PHYSICIAN = "physician"
    NURSE = "nurse"
    COORDINATOR = "coordinator"
    CELL_LAB = "cell_lab"
    MONITOR = "monitor"
    ANALYST = "analyst"
    ADMIN = "admin"


class Action(StrEnum):
    """Everything a service can be asked to do."""

    VIEW_PATIENT = "view_patient"
    VIEW_IDENTITY = "view_identity"
    REGISTER_PATIENT = "register_patient"
    RECORD_DIAGNOSIS = "record_diagnosis"
    RECORD_CONSENT = "record_consent"
    SCREEN = "screen"
    ENROLL = "enroll"
    START_TREATMENT = "start_treatment"
    CLOSE_PARTICIPATION = "close_participation"
    RECORD_ASSESSMENT = "record_assessment"
    MANAGE_PRODUCT = "manage_product"
    DISPENSE_UNIT = "dispense_unit"
    RECORD_PUNCTURE = "record_puncture"
    OVERRIDE_SAFETY = "override_safety"
    RECORD_CARE = "record_care"
    RECORD_ADVERSE_EVENT = "record_adverse_event"
    RECORD_OUTCOME = "record_outcome"
    SIGN_RECORD = "sign_record"
    DECIDE_STOPPING_RULE = "decide_stopping_rule"
    MANAGE_ANALYSIS_PLAN = "manage_analysis_plan"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_PROTOCOLS = "manage_protocols"
    EXPORT_DATA = "export_data"
    RUN_EVALUATION = "run_evaluation"
    IMPORT_COMPARATOR = "import_comparator"
    IMPORT_RECORDS = "import_records"


R = Role
_CLINIC: Final = frozenset({R.PHYSICIAN, R.NURSE, R.COORDINATOR})
PERMISSIONS: Final[Mapping[Action, frozenset[Role]]] = {
    Action.VIEW_PATIENT: frozenset(Role) - {R.ANALYST},
    Action.VIEW_IDENTITY: _CLINIC | {R.ADMIN},
    Action.REGISTER_PATIENT: frozenset({R.COORDINATOR, R.PHYSICIAN}),
    Action.RECORD_DIAGNOSIS: frozenset({R.PHYSICIAN}),
    Action.RECORD_CONSENT: frozenset({R.PHYSICIAN, R.COORDINATOR}),
    Action.SCREEN: frozenset({R.PHYSICIAN}),
    Action.ENROLL: frozenset({R.PHYSICIAN}),
    Action.START_TREATMENT: frozenset({R.PHYSICIAN}),
    Action.CLOSE_PARTICIPATION: frozenset({R.PHYSICIAN, R.COORDINATOR}),
    Action.RECORD_ASSESSMENT: frozenset({R.PHYSICIAN, R.NURSE}),
    Action.MANAGE_PRODUCT: frozenset({R.CELL_LAB}),
    Action.DISPENSE_UNIT: frozenset({R.CELL_LAB}),
    Action.RECORD_PUNCTURE: frozenset({R.PHYSICIAN}),
    Action.OVERRIDE_SAFETY: frozenset({R.PHYSICIAN}),
    Action.RECORD_CARE: frozenset({R.PHYSICIAN, R.NURSE}),
    Action.RECORD_ADVERSE_EVENT: frozenset({R.PHYSICIAN, R.NURSE}),
    Action.RECORD_OUTCOME: frozenset({R.PHYSICIAN, R.COORDINATOR}),
    Action.SIGN_RECORD: frozenset({R.PHYSICIAN}),
    Action.DECIDE_STOPPING_RULE: frozenset({R.PHYSICIAN}),
    Action.MANAGE_ANALYSIS_PLAN: frozenset({R.ADMIN, R.ANALYST}),
    Action.VIEW_AUDIT: frozenset({R.MONITOR, R.ADMIN}),
    Action.MANAGE_USERS: frozenset({R.ADMIN}),
    Action.MANAGE_PROTOCOLS: frozenset({R.ADMIN}),
    Action.EXPORT_DATA: frozenset({R.MONITOR, R.ANALYST, R.ADMIN}),
    Action.RUN_EVALUATION: frozenset({R.ANALYST, R.MONITOR, R.PHYSICIAN, R.ADMIN}),
    Action.IMPORT_COMPARATOR: frozenset({R.ANALYST, R.ADMIN}),
    Action.IMPORT_RECORDS: frozenset({R.ADMIN}),  # moving a site's records in is a migration
}
"""The one permission table. Data managers and monitors read everything and change nothing clinical."""

GLOBAL_ROLES: Final = frozenset({R.ADMIN, R.MONITOR})


def allowed(role: Role, action: Action) -> bool:
    """Whether ``role`` may perform ``action`` (before site scoping)."""
    return role in PERMISSIONS[action]
