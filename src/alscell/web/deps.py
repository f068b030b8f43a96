"""Request dependencies: the database session, settings, the signed-in user, and the clock.

``TodayDep`` and ``NowDep`` are the only places the web layer reads the clock; tests override them.
A user is signed in by ``Authorization: Bearer <API token>`` (scripts) or the session cookie (pages);
with the cookie, unsafe methods also need the session's CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from alscell.config import Settings
from alscell.domain.access import Action, allowed
from alscell.domain.stats.natural_history import NaturalHistoryModel
from alscell.domain.stats.safety_rates import SafetyReference
from alscell.errors import NotSignedIn, PermissionDenied
from alscell.services import auth
from alscell.storage.models import User

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "CurrentUser",
    "NaturalHistoryDep",
    "NowDep",
    "PageDep",
    "Paging",
    "SafetyReferenceDep",
    "SessionDep",
    "SettingsDep",
    "TodayDep",
    "permission_gate",
]

COOKIE: Final = "alscell_session"
CSRF_HEADER: Final = "X-CSRF-Token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    session = factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _today(
    settings: Annotated[Settings, Depends(_settings)], now: Annotated[datetime, Depends(_now)]
) -> date:
    return now.astimezone(ZoneInfo(settings.clinic_timezone)).date()


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
NowDep = Annotated[datetime, Depends(_now)]
TodayDep = Annotated[date, Depends(_today)]


def _natural_history(request: Request) -> NaturalHistoryModel:
    model: NaturalHistoryModel = request.app.state.natural_history
    return model


NaturalHistoryDep = Annotated[NaturalHistoryModel, Depends(_natural_history)]


def _safety_reference(request: Request) -> SafetyReference:
    reference: SafetyReference = request.app.state.safety_reference
    return reference


SafetyReferenceDep = Annotated[SafetyReference, Depends(_safety_reference)]


def _current_user(request: Request, session: SessionDep, now: NowDep) -> User:
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
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != login.csrf_token:
        raise NotSignedIn(f"the {CSRF_HEADER} header is missing or wrong for this session")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def permission_gate(request: Request, session: SessionDep, now: NowDep) -> None:
    """Refuse, before the body is even read, a caller whose role lacks every action the route names.

    Routes name their actions in ``openapi_extra["x-alscell-actions"]`` (the same table the services
    check; the services also check the site). Routes naming none (signing in) are open.
    """
    route = request.scope.get("route")
    actions = (getattr(route, "openapi_extra", None) or {}).get("x-alscell-actions", [])
    if not actions:
        return
    user = _current_user(request, session, now)
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
