"""Request dependencies: the database session, settings, the signed-in user, and the clock.

``TodayDep`` and ``NowDep`` are the only places the web layer reads the clock; tests override them.
A user is signed in by ``Authorization: Bearer <API token>`` (scripts) or the session cookie (pages);
with the cookie, unsafe methods also need the session's CSRF token in ``X-CSRF-Token``.

Why some of these are ``async def``: FastAPI hands every plain ``def`` dependency to the thread pool,
and hand-offs are dear (five no-op ``def`` dependencies halve the throughput of a bare endpoint under
``benchmarks/bench_api.py``). Those that do no I/O are therefore ``async def`` and run inline; what
reads the database (signing in, closing the session) still runs in a worker thread.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from alscell.config import Settings
from alscell.domain.access import Action, allowed
from alscell.domain.stats.natural_history import NaturalHistoryModel
from alscell.domain.stats.safety_rates import SafetyReference
from alscell.errors import NotSignedIn, PermissionDenied
from alscell.services import auth
from alscell.storage.models import User
from alscell.storage.session import READ_ONLY

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "CurrentUser",
    "NaturalHistoryDep",
    "NowDep",
    "PageDep",
    "Paging",
    "SafetyReferenceDep",
    "SessionDep",
    "SettingsDep",
    "TodayDep",
    "WritingSessionDep",
    "permission_gate",
    "same_secret",
    "set_session_cookie",
]

COOKIE: Final = "alscell_session"
CSRF_HEADER: Final = "X-CSRF-Token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


async def _settings(request: Request) -> Settings:  # async: no I/O (see the module docstring)
    settings: Settings = request.app.state.settings
    return settings


async def _session(request: Request) -> AsyncIterator[Session]:
    """The request's session; GET, HEAD and OPTIONS only read, so theirs takes no write lock.

    Making it does no I/O, so it is made inline. Closing it rolls back whatever was not committed and
    returns the connection: in a worker thread, shielded from cancellation (the connection goes back
    even when the client has gone), and, as FastAPI does for ``def`` generators, outside the shared
    thread limit, which may be taken up by requests waiting for this very connection.
    """
    factory: sessionmaker[Session] = request.app.state.sessions
    session = factory(execution_options=READ_ONLY if request.method in SAFE_METHODS else {})
    try:
        yield session
    finally:
        with CancelScope(shield=True):
            await to_thread.run_sync(session.close, limiter=CapacityLimiter(1))


async def _now() -> datetime:  # async: no I/O (see the module docstring)
    return datetime.now(UTC)


async def _today(
    settings: Annotated[Settings, Depends(_settings)], now: Annotated[datetime, Depends(_now)]
) -> date:  # async: no I/O (see the module docstring)
    return now.astimezone(ZoneInfo(settings.clinic_timezone)).date()


async def _writing_session(request: Request) -> AsyncIterator[Session]:
    """A second session, that may write, for a GET route that must record something (an audited
    download). The route reads with its request's snapshot and writes here, in a transaction of
    its own: on SQLite a snapshot cannot safely turn into a write, and holding the write lock
    through the reading would stop every other writer meanwhile."""
    factory: sessionmaker[Session] = request.app.state.sessions
    session = factory()
    try:
        yield session
    finally:
        with CancelScope(shield=True):
            await to_thread.run_sync(session.close, limiter=CapacityLimiter(1))


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
WritingSessionDep = Annotated[Session, Depends(_writing_session)]
NowDep = Annotated[datetime, Depends(_now)]
TodayDep = Annotated[date, Depends(_today)]


async def _natural_history(request: Request) -> NaturalHistoryModel:  # async: no I/O
    model: NaturalHistoryModel = request.app.state.natural_history
    return model


NaturalHistoryDep = Annotated[NaturalHistoryModel, Depends(_natural_history)]


async def _safety_reference(request: Request) -> SafetyReference:  # async: no I/O
    reference: SafetyReference = request.app.state.safety_reference
    return reference


SafetyReferenceDep = Annotated[SafetyReference, Depends(_safety_reference)]


async def _current_user(request: Request, session: SessionDep, now: NowDep) -> User:
    """The signed-in user, looked up once per request (the permission gate and the route both ask).

    ``async`` so that the second asking costs no thread hand-off; the look-up runs in the thread pool.
    """
    user: User | None = getattr(request.state, "user", None)
    if user is None:
        user = request.state.user = await run_in_threadpool(_sign_in, request, session, now)
    return user


def _sign_in(request: Request, session: Session, now: datetime) -> User:
    """Authenticate; for a request that may write, in a transaction of its own, ended at once.

    So a write request takes SQLite's write lock only in the worker thread that commits it. Held from
    the sign-in to the route, the lock waited for a free worker thread while every thread waited for
    the lock, until requests failed "database is locked" (``tests/web/test_request_session.py``).
    """
    user = _authenticate(request, session, now)
    if request.method not in SAFE_METHODS:  # a GET's transaction takes no lock: nothing to end
        session.commit()  # reads only; the user stays loaded (the sessions do not expire on commit)
    return user


def _authenticate(request: Request, session: Session, now: datetime) -> User:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotSignedIn("use 'Authorization: Bearer <API token>'")
        return auth.user_for_token(session, secret.strip())
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise NotSignedIn("sign in, or send an API token in the Authorization header")
    user, login = auth.user_for_session(session, cookie, now=now)
    sent = request.headers.get(CSRF_HEADER, "")
    if request.method not in SAFE_METHODS and not same_secret(sent, login.csrf_token):
        raise NotSignedIn(f"the {CSRF_HEADER} header is missing or wrong for this session")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def same_secret(sent: object, expected: str | None) -> bool:
    """Whether a token sent by the client is the one expected, compared in constant time.

    Compared as UTF-8 bytes: ``secrets.compare_digest`` refuses text outside ASCII with a
    ``TypeError``, and what a client sends may be any text at all.
    """
    if not isinstance(sent, str) or not expected:
        return False
    return secrets.compare_digest(sent.encode(errors="replace"), expected.encode())


def set_session_cookie(
    response: Response, request: Request, settings: Settings, name: str, value: str, *,
    max_age: int, path: str = "/",
) -> None:  # fmt: skip
    """Set a sign-in cookie: HttpOnly, SameSite=Strict, and Secure unless configured for plain http
    (and always when the request came over HTTPS)."""
    secure = settings.cookie_secure or request.url.scheme == "https"
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=secure,
                        max_age=max_age, path=path)  # fmt: skip


async def permission_gate(request: Request, session: SessionDep, now: NowDep) -> None:
    """Refuse, before the body is even read, a caller whose role lacks every action the route names.

    Routes name their actions in ``openapi_extra["x-alscell-actions"]`` (the same table the services
    check; the services also check the site). Routes naming none (signing in) are open.
    """
    route = request.scope.get("route")
    actions = (getattr(route, "openapi_extra", None) or {}).get("x-alscell-actions", [])
    if not actions:
        return
    user = await _current_user(request, session, now)
    if not any(allowed(user.role, Action(name)) for name in actions):
        raise PermissionDenied(
            user.username, " or ".join(actions).replace("_", " "), request.url.path
        )


class Paging:
    """``limit`` (1-200, default 50) and ``offset`` of a list."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1-200).")] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
    ) -> None:
        self.limit, self.offset = limit, offset


PageDep = Annotated[Paging, Depends()]
