"""Signing in: passwords (argon2), browser sessions, personal API tokens, and a throttle on guessing.

Secrets (session ids, API tokens) are random, shown once, and stored only as SHA-256 hashes. After
:data:`FREE_FAILURES` failed sign-ins for a username, each further failure locks it for twice as long
as the one before (1, 2, 4... minutes, at most an hour). Every sign-in, sign-out and failure is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from alscell.errors import Conflict, InvalidInput, NotFound, NotSignedIn, PermissionDenied, Problem
from alscell.services.audit import record_event
from alscell.services.records import add_record, change_record, commit, load
from alscell.storage.models import ApiToken, LoginSession, LoginThrottle, User

__all__ = [
    "FREE_FAILURES",
    "IssuedSecret",
    "create_api_token",
    "end_session",
    "hash_password",
    "list_api_tokens",
    "password_problems",
    "revoke_api_token",
    "set_password",
    "sign_in",
    "user_for_session",
    "user_for_token",
]

FREE_FAILURES: Final = 5
MAX_LOCK: Final = timedelta(hours=1)
SESSION_LIFETIME: Final = timedelta(hours=12)
TOKEN_PREFIX: Final = "alsc_"
MIN_PASSWORD_LENGTH: Final = 12
_HASHER: Final = PasswordHasher()


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A secret handed to the user once (a session id or an API token) and what it belongs to."""

    secret: str
    user: User
    csrf_token: str | None = None
    token: ApiToken | None = None


def password_problems(username: str, password: str) -> list[Problem]:
    """What is wrong with a password: at least 12 characters, not containing the username."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    if username.lower() in password.lower():
        problems.append(Problem("password", "must not contain the username"))
    return problems


def hash_password(password: str) -> str:
    """The argon2 hash stored for a password."""
    return _HASHER.hash(password)


def set_password(
    session: Session, *, user: User, password: str, by: User | None, now: datetime
) -> None:
    """Set a user's password (argon2); see :func:`password_problems` for the rules."""
    problems = password_problems(user.username, password)
    if problems:
        raise InvalidInput(problems, subject="password")
    change_record(
        session,
        user,
        {"password_hash": hash_password(password)},
        by=by or user,
        action="user.password_set",
        now=now,
    )
    commit(session)


def sign_in(
    session: Session, *, username: str, password: str, now: datetime, replacing: str | None = None
) -> IssuedSecret:
    """Check a username and password and open a browser session with a new secret.

    ``replacing`` is the session cookie the browser already sent, if any: that session is ended, so
    a secret known before signing in (planted, or left by someone else) is worth nothing after it.

    Raises
    ------
    NotSignedIn
        For a wrong username or password (one message for both), a disabled user, or a username locked
        after repeated failures (the message says until when).
    """
    throttle = session.get(LoginThrottle, username) or LoginThrottle(username=username, failures=0)
    if throttle.locked_until is not None and throttle.locked_until > now:
        _audit(session, "auth.sign_in_refused_locked", username, None, now)
        commit(session)
        raise NotSignedIn(
            f"too many failed sign-ins; try again after {throttle.locked_until:%H:%M} UTC"
        )
    user = session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active or not _password_matches(user, password):
        _fail(session, throttle, now)
        _audit(session, "auth.sign_in_failed", username, user, now)
        commit(session)
        raise NotSignedIn("wrong username or password, or the user is disabled")
    throttle.failures, throttle.locked_until = 0, None
    session.merge(throttle)
    if replacing:
        _end_quietly(session, replacing, now)
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, token_hash=_digest(secret), csrf_token=csrf, created_at=now,
                             expires_at=now + SESSION_LIFETIME))  # fmt: skip
    _audit(session, "auth.signed_in", username, user, now)
    commit(session)
    return IssuedSecret(secret, user, csrf_token=csrf)


def user_for_session(session: Session, secret: str, *, now: datetime) -> tuple[User, LoginSession]:
    """The signed-in user of a session cookie; :class:`NotSignedIn` if unknown, ended or expired."""
    row = session.execute(
        sa.select(LoginSession).where(LoginSession.token_hash == _digest(secret))
    ).scalar_one_or_none()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        raise NotSignedIn("the session has ended; sign in again")
    return _active_user(session, row.user_id), row


def end_session(session: Session, *, secret: str, now: datetime) -> None:
    """Sign out: end the session of this cookie."""
    user, row = user_for_session(session, secret, now=now)
    row.ended_at = now
    _audit(session, "auth.signed_out", user.username, user, now)
    commit(session)


def _end_quietly(session: Session, secret: str, now: datetime) -> None:
    session.execute(
        sa.update(LoginSession)
        .where(LoginSession.token_hash == _digest(secret), LoginSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def create_api_token(
    session: Session, *, user: User, name: str, by: User, now: datetime
) -> IssuedSecret:
    """A new personal API token for ``user`` (themselves, or an administrator for them); shown once."""
    if by.id != user.id and by.role.value != "admin":
        raise PermissionDenied(by.username, f"create a token for {user.username}", "")
    if not 1 <= len(name.strip()) <= 80:
        raise InvalidInput([Problem("name", "must be 1-80 characters")], subject="API token")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        prefix=secret[:12],
        token_hash=_digest(secret),
        created_at=now,
    )
    add_record(session, token, by=by, action="api_token.created", now=now)
    commit(session)
    return IssuedSecret(secret, user, token=token)


def list_api_tokens(session: Session, *, user: User) -> list[ApiToken]:
    """A user's tokens, newest first (never their secrets)."""
    statement = sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.execute(statement).scalars())


def revoke_api_token(session: Session, *, token_id: int, by: User, now: datetime) -> ApiToken:
    """Revoke a token (its owner or an administrator)."""
    token = load(session, ApiToken, token_id, kind="API token")
    if token.user_id != by.id and by.role.value != "admin":
        raise NotFound("API token", token_id)  # another user's tokens are not even visible
    if token.revoked_at is not None:
        raise Conflict(f"API token {token_id} was already revoked")
    change_record(session, token, {"revoked_at": now}, by=by, action="api_token.revoked", now=now)
    commit(session)
    return token


def user_for_token(session: Session, secret: str) -> User:
    """The user of a personal API token; :class:`NotSignedIn` if unknown or revoked."""
    token = session.execute(
        sa.select(ApiToken).where(ApiToken.token_hash == _digest(secret))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        raise NotSignedIn("the API token is unknown or revoked")
    return _active_user(session, token.user_id)


def _active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotSignedIn("the user is disabled")
    return user


def _password_matches(user: User, password: str) -> bool:
    if user.password_hash is None:
        return False
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _fail(session: Session, throttle: LoginThrottle, now: datetime) -> None:
    throttle.failures += 1
    beyond = throttle.failures - FREE_FAILURES
    if beyond >= 0:
        throttle.locked_until = now + min(timedelta(minutes=2**beyond), MAX_LOCK)
    session.merge(throttle)


def _audit(session: Session, action: str, username: str, user: User | None, now: datetime) -> None:
    record_event(
        session, actor=user, action=action, now=now, entity_type="sign_in", entity_id=username
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
