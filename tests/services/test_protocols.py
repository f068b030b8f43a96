"""Protocol versions and analysis plans (services/protocols.py): loaded, locked, amended with a reason."""

from __future__ import annotations

import pytest

from alscell.domain.access import Role
from alscell.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from alscell.services import protocols
from alscell.services.audit import verify_trail
from alscell.storage.protocol_files import builtin_protocol_path
from tests.factories import NOW, make_admin, make_user

TEXT = builtin_protocol_path().read_text(encoding="utf-8")


def test_a_protocol_is_stored_with_its_text_hash_and_analysis_plan(session):
    version = protocols.load_protocol_version(
        session, text=TEXT, source="seed", by=make_admin(session), now=NOW
    )

    plan = protocols.analysis_plan_for(session, version.id)
    assert (version.key, version.version) == ("als-nsc-4lp", "1.0.0")
    assert len(version.content_sha256) == 64
    assert plan.locked_at is None
    assert plan.content["time_point_months"] == 6
    assert protocols.protocol_of(session, version.id).id == "als-nsc-4lp"
    assert verify_trail(session) == []


def test_the_same_version_is_loaded_once(session):
    admin = make_admin(session)
    protocols.load_protocol_version(session, text=TEXT, source="seed", by=admin, now=NOW)

    with pytest.raises(Conflict, match="already loaded; give the file a new version"):
        protocols.load_protocol_version(session, text=TEXT, source="seed", by=admin, now=NOW)


def test_an_invalid_file_is_refused_with_its_problems(session):
    with pytest.raises(InvalidInput, match=r"protocol file broken\.yaml"):
        protocols.load_protocol_version(
            session, text="id: x\n", source="broken.yaml", by=make_admin(session), now=NOW
        )


def test_only_administrators_load_protocols(session):
    with pytest.raises(PermissionDenied):
        protocols.load_protocol_version(
            session, text=TEXT, source="seed", by=make_user(session, Role.PHYSICIAN), now=NOW
        )


def test_lock_then_amend_with_a_reason_and_a_new_version(session):
    version = protocols.load_protocol_version(
        session, text=TEXT, source="seed", by=make_admin(session), now=NOW
    )
    analyst = make_user(session, Role.ANALYST)

    protocols.lock_analysis_plan(session, protocol_id=version.id, by=analyst, now=NOW)
    amendment = protocols.amend_analysis_plan(session, protocol_id=version.id, changes={"version": "1.1", "time_point_months": 12},
                                              reason="survival follow-up extended by the ethics committee", by=analyst, now=NOW)  # fmt: skip

    plan = protocols.analysis_plan_for(session, version.id)
    assert (amendment.before["time_point_months"], amendment.after["time_point_months"]) == (6, 12)
    assert (plan.plan_version, plan.content["time_point_months"]) == ("1.1", 12)
    assert protocols.protocol_of(session, version.id).analysis_plan.time_point_months == 12
    assert verify_trail(session) == []


def test_a_locked_plan_is_not_locked_again(session):
    version = protocols.load_protocol_version(
        session, text=TEXT, source="seed", by=make_admin(session), now=NOW
    )
    analyst = make_user(session, Role.ANALYST)
    protocols.lock_analysis_plan(session, protocol_id=version.id, by=analyst, now=NOW)

    with pytest.raises(Conflict, match="amend it instead"):
        protocols.lock_analysis_plan(session, protocol_id=version.id, by=analyst, now=NOW)


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        ({"version": "1.1"}, " ", "reason: required"),
        ({"time_point_months": 12}, "why", "version: an amendment needs a new plan version"),
        ({"version": "1.1", "improved_min_change": -3}, "why", "stable must include no change"),
    ],
)
def test_an_amendment_is_checked(session, changes, reason, message):
    version = protocols.load_protocol_version(
        session, text=TEXT, source="seed", by=make_admin(session), now=NOW
    )
    analyst = make_user(session, Role.ANALYST)
    protocols.lock_analysis_plan(session, protocol_id=version.id, by=analyst, now=NOW)

    with pytest.raises(InvalidInput, match=message):
        protocols.amend_analysis_plan(
            session, protocol_id=version.id, changes=changes, reason=reason, by=analyst, now=NOW
        )


def test_an_unlocked_plan_is_not_amended(session):
    version = protocols.load_protocol_version(
        session, text=TEXT, source="seed", by=make_admin(session), now=NOW
    )

    with pytest.raises(Conflict, match="not locked yet"):
        protocols.amend_analysis_plan(
            session,
            protocol_id=version.id,
            changes={"version": "2"},
            reason="x",
            by=make_user(session, Role.ANALYST),
            now=NOW,
        )


def test_an_unknown_protocol_is_not_found(session):
    with pytest.raises(NotFound):
        protocols.analysis_plan_for(session, 424242)
