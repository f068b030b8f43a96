"""The API as a state machine (schemathesis): sequences of calls that feed each other's results.

Schemathesis infers from the live OpenAPI document which responses feed which requests (a patient
registered, then rated; a lot received, then its units released and dispensed …) and walks those
links with generated data, as a physician, a cell-lab user and an administrator, on a real migrated
database. Every response is checked against the document (no 5xx, documented status, content type
and body); afterwards the audit trail must verify. Failed calls are collected, not raised, for the
reason given in tests/web/test_openapi_conformance.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.openapi import from_asgi

from alscell.config import Settings
from alscell.domain.access import Role
from alscell.services import auth
from alscell.services.audit import verify_trail
from alscell.storage import migrate
from alscell.storage.session import make_engine, make_session_factory
from alscell.web.app import create_app
from tests.conftest import ENGINES, _database_url
from tests.factories import NOW
from tests.figures import scaled
from tests.server import GUARD_SECONDS
from tests.services.scenario import clinic, enrolled_in_treatment, released_units
from tests.web.test_openapi_conformance import CHECKS, CONFIG

SCENARIOS: Final = scaled(40)
STEPS: Final = 20
"""Scenarios per role and calls per scenario: bounded, so the suite stays quick."""


@pytest.fixture(scope="module", params=ENGINES)
def stateful_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str, dict[Role, str]]]:
    folder = tmp_path_factory.mktemp("stateful")
    url = _database_url(request.param, request, folder, "alscell_stateful")
    engine = make_engine(url)
    migrate.upgrade(engine)
    tokens: dict[Role, str] = {}
    with make_session_factory(engine)() as session:
        c = clinic(session)  # records to find: a patient in treatment, released cell units
        enrolled_in_treatment(c)
        released_units(c)
        for role, user in (
            (Role.PHYSICIAN, c.physician),
            (Role.CELL_LAB, c.lab),
            (Role.ADMIN, c.admin),
        ):
            tokens[role] = auth.create_api_token(
                session, user=user, name="stateful", by=user, now=NOW
            ).secret
    engine.dispose()
    app = create_app(
        Settings(_env_file=None, database_url=url, environment="test", cookie_secure=False)
    )
    yield app, url, tokens
    app.state.engine.dispose()


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.CELL_LAB, Role.ADMIN])
def test_call_sequences_conform_and_keep_the_trail_intact(stateful_app, role, figures):
    app, url, tokens = stateful_app
    schema = from_asgi("/api/v1/openapi.json", app, config=CONFIG)
    calls: list[int] = []
    accepted: set[str] = set()
    failures: list[str] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            # time is no check here (benchmarks measure it): only a hang should fail
            return {
                "headers": {"Authorization": f"Bearer {tokens[role]}"},
                "timeout": GUARD_SECONDS,
            }

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            calls.append(response.status_code)
            if response.status_code < 300:
                accepted.add(f"{case.method} {case.path}")
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)
            except Exception as error:  # kept, not raised: no replay against a changed database
                failures.append(f"{case.method} {case.formatted_path} as {role.value}: {error}")

    Workflow.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                                   derandomize=True, database=None,
                                   suppress_health_check=list(HealthCheck)))  # fmt: skip

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        breaks = verify_trail(session)
    engine.dispose()
    assert failures == [], "\n".join(failures)  # every failed call, whole
    assert breaks == []
    assert sum(1 for status in calls if status < 300) > 0  # some sequences did real work
    figures.add("calls", len(calls))
    figures.add("accepted (2xx)", sum(1 for status in calls if status < 300))
    figures.add("operations accepted", len(accepted))
    figures.add("server errors", sum(1 for status in calls if status >= 500))
    figures.add("failures found", len(failures))
