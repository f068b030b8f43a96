"""Sign-in: personal API tokens, browser sessions and the failed-login throttle.

Tokens and session ids are stored only as SHA-256 hashes: a stolen database does not sign anyone in.
Tokens are audited (created, revoked); sessions and the throttle are operational state, not audited
rows (sign-ins and sign-outs are audited as events).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from alscell.storage.base import Base, Versioned


class ApiToken(Base, Versioned):
    """A personal API token for scripts; the secret is shown once and stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginSession(Base):
    """A signed-in browser session (the cookie holds the secret; this row holds its hash)."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginThrottle(Base):
    """Failed sign-ins per username; after several, sign-in is refused for a growing while."""

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
