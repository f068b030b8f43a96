"""Signing in and out, the signed-in user, and personal API tokens."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import Field

from alscell.domain.access import Role
from alscell.errors import NotSignedIn
from alscell.services import auth
from alscell.web.deps import (
    COOKIE,
    CurrentUser,
    NowDep,
    SessionDep,
    SettingsDep,
    set_session_cookie,
)
from alscell.web.schemas import ReadModel, StrictModel

router = APIRouter(prefix="/auth", tags=["auth"])


class SignIn(StrictModel):
    """A username and password."""

    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=400)


class UserRead(ReadModel):
    """A user as the API shows them."""

    id: int
    username: str
    full_name: str
    role: Role
    site_id: int | None
    active: bool


class SignedIn(ReadModel):
    """The user signed in, and the CSRF token to send with unsafe requests made with the cookie."""

    user: UserRead
    csrf_token: str


class TokenCreate(StrictModel):
    """A name for a new personal API token."""

    name: str = Field(min_length=1, max_length=80)


class TokenRead(ReadModel):
    """An API token as listed (never its secret)."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class TokenIssued(TokenRead):
    """A new API token with its secret, shown this once."""

    token: str


@router.post("/login", response_model=SignedIn)
def login(
    body: SignIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> SignedIn:
    """Sign in with a username and password; sets a new session cookie (HttpOnly, SameSite=Strict).

    A session cookie sent with the request is ended: signing in never keeps an old secret alive.
    """
    issued = auth.sign_in(session, username=body.username, password=body.password, now=now,
                          replacing=request.cookies.get(COOKIE))  # fmt: skip
    set_session_cookie(response, request, settings, COOKIE, issued.secret,
                       max_age=int(auth.SESSION_LIFETIME.total_seconds()))  # fmt: skip
    return SignedIn(user=UserRead.model_validate(issued.user), csrf_token=issued.csrf_token or "")


@router.post("/logout", status_code=204)
def logout(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep, now: NowDep
) -> None:
    """Sign out: ends the session of the cookie sent (with its CSRF token, as every write)."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise NotSignedIn("no session cookie was sent")
    auth.end_session(session, secret=secret, now=now)
    response.delete_cookie(COOKIE, path="/")


@router.get("/me", response_model=UserRead)
def me(user: CurrentUser) -> UserRead:
    """The signed-in user."""
    return UserRead.model_validate(user)


@router.get("/tokens", response_model=list[TokenRead])
def list_tokens(user: CurrentUser, session: SessionDep) -> list[TokenRead]:
    """The signed-in user's API tokens."""
    return [TokenRead.model_validate(token) for token in auth.list_api_tokens(session, user=user)]


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def create_token(
    body: TokenCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> TokenIssued:
    """Create a personal API token; its secret is in this response only."""
    issued = auth.create_api_token(session, user=user, name=body.name, by=user, now=now)
    return TokenIssued(token=issued.secret, **TokenRead.model_validate(issued.token).model_dump())


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(token_id: int, user: CurrentUser, session: SessionDep, now: NowDep) -> TokenRead:
    """Revoke one of the signed-in user's API tokens."""
    return TokenRead.model_validate(
        auth.revoke_api_token(session, token_id=token_id, by=user, now=now)
    )
