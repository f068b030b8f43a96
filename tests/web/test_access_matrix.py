"""Every route, called by every role, by nobody, and by users of another site (DESIGN.md, "Users").

The expected answer comes from the permission table (alscell.domain.access.PERMISSIONS) and the
actions each route names in its OpenAPI metadata, never from the routes' own behaviour:

- without credentials, every route but sign-in answers 401;
- a role with none of the route's actions answers 403, whatever the body;
- a role with one of them is never refused with 401 or 403 for its own site's records;
- a user of another site never reads or changes this site's records (403 or 404, or 422 for a body
  not even valid), and never sees this site's patient in a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from alscell.domain.access import Action, Role, allowed
from alscell.domain.adverse_events import Causality
from alscell.services import auth, safety
from alscell.storage.models import User
from tests.factories import NOW, make_site, make_user
from tests.services.scenario import clinic, dispensed, enrolled_in_treatment, released_units

CLINICAL = (Role.PHYSICIAN, Role.NURSE, Role.COORDINATOR, Role.CELL_LAB)
OPEN_ROUTES = {"login"}  # signing in needs no credentials
COOKIE_ONLY = {"logout"}
SITE_RECORD_IDS = {
    "patient_id",
    "enrollment_id",
    "unit_id",
    "lot_id",
    "adverse_event_id",
    "site_id",
    "user_id",
}
# Protocol versions are shared by every site of the program, so {protocol_id} alone is no site record.  # signing out ends a browser session; API tokens are revoked instead


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    name: str
    actions: tuple[str, ...]


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every operation of the published OpenAPI document, with the actions it names."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            actions = tuple(operation.get("x-alscell-actions", []))
            found.append(Endpoint(method.upper(), path, operation["operationId"], actions))
    return found


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """One site's records: a patient in treatment with a dose given, units, an adverse event."""
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    units = released_units(c, 2)
    dispensed(c, units[0], patient, c.at(c.protocol.loaded_at.date()).date())
    event = safety.record_adverse_event(
        session, patient_id=patient.id, term="headache", onset_on=NOW.date(), ctcae_grade=1, serious=False,
        seriousness=[], expected=True, causality_procedure=Causality.POSSIBLE, causality_product=Causality.UNLIKELY,
        causality_drug=Causality.UNRELATED, aware_on=NOW.date(), by=c.nurse, now=NOW,
    )  # fmt: skip
    token = auth.create_api_token(session, user=c.nurse, name="matrix", by=c.nurse, now=NOW)
    return {
        "ids": {
            "patient_id": patient.id,
            "enrollment_id": enrollment.id,
            "unit_id": units[0].id,
            "lot_id": units[0].lot_id,
            "protocol_id": c.protocol.id,
            "adverse_event_id": event.id,
            "site_id": c.site.id,
            "user_id": c.nurse.id,
            "token_id": token.token.id if token.token else 0,
        },
        "site": c.site,
        "study_code": patient.study_code,
    }


def url(endpoint: Endpoint, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), endpoint.path)


def call(client: TestClient, endpoint: Endpoint, ids: dict[str, int]) -> int:
    body: dict[str, object] | None = None if endpoint.method in ("GET", "DELETE") else {}
    return client.request(endpoint.method, url(endpoint, ids), json=body).status_code


def signed_in(app: FastAPI, session: Session, user: User) -> TestClient:
    issued = auth.create_api_token(session, user=user, name="matrix", by=user, now=NOW)
    return TestClient(app, headers={"Authorization": f"Bearer {issued.secret}"})


def test_every_route_needs_credentials(app, world):
    anonymous = TestClient(app)

    answers = {
        e.name: call(anonymous, e, world["ids"])
        for e in endpoints(app)
        if e.name not in OPEN_ROUTES
    }

    assert answers
    assert {name for name, status in answers.items() if status != 401} == set()


def test_every_route_names_its_permission_except_the_signed_in_users_own(app):
    unnamed = {e.name for e in endpoints(app) if not e.actions}

    assert unnamed == {"login", "logout", "me", "list_tokens", "create_token", "revoke_token"}
    for endpoint in endpoints(app):
        assert all(Action(name) for name in endpoint.actions), endpoint


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_what_the_permission_table_allows(app, session, world, role):
    site = world["site"] if role in CLINICAL else None
    client = signed_in(app, session, make_user(session, role, site=site))

    wrong = []
    for endpoint in endpoints(app):
        if endpoint.name in OPEN_ROUTES | COOKIE_ONLY:
            continue
        status = call(client, endpoint, world["ids"])
        permitted = not endpoint.actions or any(allowed(role, Action(a)) for a in endpoint.actions)
        if permitted and status in (401, 403):
            wrong.append((endpoint.method, endpoint.path, status, "refused though permitted"))
        if not permitted and status != 403:
            wrong.append((endpoint.method, endpoint.path, status, "reached though not permitted"))

    assert wrong == []


@pytest.mark.parametrize("role", CLINICAL)
def test_another_sites_users_never_reach_this_sites_records(app, session, world, role):
    elsewhere = make_site(session, code=f"X{role.value[:3].upper()}")
    client = signed_in(app, session, make_user(session, role, site=elsewhere))

    leaks: list[tuple[str, str, object]] = []
    for endpoint in endpoints(app):
        if endpoint.name in OPEN_ROUTES or not endpoint.actions:
            continue
        response = client.request(endpoint.method, url(endpoint, world["ids"]),
                                  json=None if endpoint.method in ("GET", "DELETE") else {})  # fmt: skip
        has_ids = bool(SITE_RECORD_IDS & set(re.findall(r"\{(\w+)\}", endpoint.path)))
        if has_ids and response.status_code < 400:
            leaks.append((endpoint.method, endpoint.path, response.status_code))
        if not has_ids and world["study_code"] in response.text:
            leaks.append((endpoint.method, endpoint.path, "shows the other site's patient"))

    assert leaks == []
