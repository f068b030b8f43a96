"""The live OpenAPI document, tested by schemathesis: no server errors, and every response as documented.

Every operation is called with generated requests (valid and schema-breaking ones, a bounded number of
examples each, derandomized) by a physician, a cell-lab user and an administrator, against a real
migrated database, SQLite and PostgreSQL (which refuses more: a NUL character in text, for one).
Checks: no 5xx; status codes, content types and bodies as the document says; requests that break the
schema are refused. Time is no check here (the benchmarks measure it): each call may take up to
``GUARD_SECONDS``, not schemathesis's 10 s default, which a loaded shared machine has exceeded on a
plain read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi import from_asgi

from alscell.config import Settings
from alscell.domain.access import Role
from alscell.services import auth
from alscell.storage import migrate
from alscell.storage.session import make_engine, make_session_factory
from alscell.web.app import create_app
from tests.conftest import ENGINES, _database_url
from tests.factories import NOW, make_admin, make_site, make_user
from tests.figures import scaled
from tests.server import GUARD_SECONDS

EXAMPLES: Final = scaled(6)
"""Per operation, mode and role: bounded, so the suite stays quick (``make soak`` runs more)."""
REFUSALS: Final = ("400", "401", "403", "404", "409", "413", "415", "422")
"""Answers that refuse a request breaking the schema: 413 too, for a body over the size limit."""
CONFIG: Final = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": list(REFUSALS)}}}
)
CHECKS = (
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
)


@pytest.fixture(scope="module", params=ENGINES)
def api_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, dict[Role, str]]]:
    url = _database_url(
        request.param, request, tmp_path_factory.mktemp("schemathesis"), "alscell_conformance"
    )
    engine = make_engine(url)
    migrate.upgrade(engine)
    tokens: dict[Role, str] = {}
    with make_session_factory(engine)() as session:
        make_admin(session)
        site = make_site(session, code="AMS")
        for role in (Role.PHYSICIAN, Role.CELL_LAB, Role.ADMIN):
            user = make_user(session, role, site=site if role is not Role.ADMIN else None)
            tokens[role] = auth.create_api_token(
                session, user=user, name="schemathesis", by=user, now=NOW
            ).secret
    engine.dispose()
    app = create_app(
        Settings(_env_file=None, database_url=url, environment="test", cookie_secure=False)
    )
    yield app, tokens
    app.state.engine.dispose()


def _failure(label: str, role: Role, case: Any, error: Exception) -> str:
    """One failed call, whole: the request that made it and every check it broke.

    Failures are collected rather than raised inside the Hypothesis test: the calls write to a shared
    database, so Hypothesis replaying a failing example would meet a changed state and report only
    "flaky", hiding the failure itself.
    """
    request = f"path={case.path_parameters} query={case.query} body={case.body!r}"
    return f"{label} as {role.value}: {request}: {error}"


def operations(app: object) -> list[Any]:
    """Every operation of the live OpenAPI document, as schemathesis sees it."""
    document = from_asgi("/api/v1/openapi.json", app, config=CONFIG)
    return [result.ok() for result in document.get_all_operations()]  # type: ignore[union-attr]


def conformance_run(
    operation: Any, mode: GenerationMode, tokens: dict[Role, str], failures: list[str]
) -> Callable[[], None]:
    """A Hypothesis test calling ``operation`` as every role, keeping each failed call in ``failures``."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: Any) -> None:
        for role, token in tokens.items():  # a physician, a cell-lab user, an administrator
            try:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {token}"},
                    checks=CHECKS,
                    timeout=GUARD_SECONDS,
                )
            except Exception as error:  # kept, not raised: see _failure
                failures.append(_failure(operation.label, role, case, error))

    return run


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_to_the_document(api_app, mode):
    app, tokens = api_app
    failures: list[str] = []
    for operation in operations(app):
        try:
            conformance_run(operation, mode, tokens, failures)()
        except Unsatisfiable:
            continue  # an operation with no inputs has no schema-breaking request to make

    assert failures == [], "\n".join(failures)  # every failed call, whole


def test_the_document_lists_every_failure_status_on_every_operation(api_app):
    app, _ = api_app
    document = app.openapi()

    missing = [
        (path, method, status)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status in ("400", "401", "403", "404", "409", "413", "415", "422", "503")
        if status not in operation["responses"]
    ]

    assert missing == []
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
