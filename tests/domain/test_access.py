"""Who may do what (DESIGN.md, "Users"): the one permission table, checked rule by rule."""

from __future__ import annotations

import pytest

from alscell.domain.access import GLOBAL_ROLES, PERMISSIONS, Action, Role, allowed

A = Action
MONITOR_MAY = {A.VIEW_PATIENT, A.VIEW_AUDIT, A.EXPORT_DATA, A.RUN_EVALUATION}
PHYSICIAN_ONLY = [A.OVERRIDE_SAFETY, A.RECORD_PUNCTURE, A.SIGN_RECORD]
CELL_LAB_ONLY = [A.MANAGE_PRODUCT, A.DISPENSE_UNIT]


def actions_of(role: Role) -> set[Action]:
    return {action for action in Action if allowed(role, action)}


def test_table_covers_every_action() -> None:
    assert set(PERMISSIONS) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_every_action_has_at_least_one_role(action: Action) -> None:
    assert any(allowed(role, action) for role in Role)


def test_monitors_only_view_audit_export_and_evaluate() -> None:
    assert actions_of(Role.MONITOR) == MONITOR_MAY


@pytest.mark.parametrize("action", sorted(set(Action) - MONITOR_MAY))
def test_monitors_may_not(action: Action) -> None:
    assert not allowed(Role.MONITOR, action)


@pytest.mark.parametrize("action", PHYSICIAN_ONLY)
def test_only_physicians_override_record_punctures_and_sign(action: Action) -> None:
    assert {role for role in Role if allowed(role, action)} == {Role.PHYSICIAN}


@pytest.mark.parametrize("action", CELL_LAB_ONLY)
def test_only_the_cell_lab_manages_and_dispenses_product(action: Action) -> None:
    assert {role for role in Role if allowed(role, action)} == {Role.CELL_LAB}


@pytest.mark.parametrize("action", [A.VIEW_IDENTITY, A.VIEW_PATIENT])
def test_analysts_never_see_identified_patients(action: Action) -> None:
    assert not allowed(Role.ANALYST, action)


def test_identity_is_seen_by_clinic_staff_and_admins_only() -> None:
    assert {role for role in Role if allowed(role, A.VIEW_IDENTITY)} == {
        Role.PHYSICIAN, Role.NURSE, Role.COORDINATOR, Role.ADMIN,
    }  # fmt: skip


def test_analysts_work_on_de_identified_data() -> None:
    assert actions_of(Role.ANALYST) == {A.EXPORT_DATA, A.RUN_EVALUATION, A.MANAGE_ANALYSIS_PLAN,
                                        A.IMPORT_COMPARATOR}  # fmt: skip


def test_nurses_record_care_assessments_and_adverse_events_but_do_not_treat() -> None:
    for action in (A.RECORD_CARE, A.RECORD_ASSESSMENT, A.RECORD_ADVERSE_EVENT):
        assert allowed(Role.NURSE, action), action
    for action in (A.RECORD_PUNCTURE, A.ENROLL, A.START_TREATMENT, A.OVERRIDE_SAFETY):
        assert not allowed(Role.NURSE, action), action


def test_cell_lab_does_nothing_clinical() -> None:
    assert actions_of(Role.CELL_LAB) == {A.VIEW_PATIENT, A.MANAGE_PRODUCT, A.DISPENSE_UNIT}


def test_only_admins_manage_users_and_protocols() -> None:
    for action in (A.MANAGE_USERS, A.MANAGE_PROTOCOLS):
        assert {role for role in Role if allowed(role, action)} == {Role.ADMIN}


def test_global_roles_are_admin_and_monitor() -> None:
    assert set(GLOBAL_ROLES) == {Role.ADMIN, Role.MONITOR}
