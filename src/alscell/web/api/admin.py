"""Administration: sites and users (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from alscell.domain.access import Action, Role
from alscell.services import admin
from alscell.web.api.auth import UserRead
from alscell.web.deps import CurrentUser, NowDep, PageDep, SessionDep
from alscell.web.schemas import Page, ReadModel, StrictModel, action, lax

router = APIRouter(tags=["admin"])


class SiteCreate(StrictModel):
    """A new site: a short code and a name."""

    code: str = Field(min_length=1, max_length=20, examples=["AMS"])
    name: str = Field(min_length=1, max_length=200)


class SiteRead(ReadModel):
    """A site."""

    id: int
    code: str
    name: str
    version: int


class UserCreate(StrictModel):
    """A new user with their first password; clinical roles need a site."""

    username: str = Field(min_length=2, max_length=80)
    full_name: str = Field(min_length=1, max_length=200)
    role: Role = lax()
    site_id: int | None = None
    password: str = Field(
        min_length=1, max_length=400, description="At least 12 characters, not the username."
    )


@router.post(
    "/sites", response_model=SiteRead, status_code=201, openapi_extra=action(Action.MANAGE_USERS)
)
def create_site(body: SiteCreate, user: CurrentUser, session: SessionDep, now: NowDep) -> SiteRead:
    """Add a site."""
    return SiteRead.model_validate(
        admin.create_site(session, by=user, now=now, **body.model_dump())
    )


@router.get("/sites", response_model=list[SiteRead], openapi_extra=action(Action.MANAGE_USERS))
def list_sites(user: CurrentUser, session: SessionDep) -> list[SiteRead]:
    """Every site, by code."""
    return [SiteRead.model_validate(site) for site in admin.list_sites(session, by=user)]


@router.post(
    "/users", response_model=UserRead, status_code=201, openapi_extra=action(Action.MANAGE_USERS)
)
def create_user(body: UserCreate, user: CurrentUser, session: SessionDep, now: NowDep) -> UserRead:
    """Add a user and set their first password."""
    created = admin.create_user(session, by=user, now=now, **body.model_dump())
    return UserRead.model_validate(created)


@router.get("/users", response_model=Page[UserRead], openapi_extra=action(Action.MANAGE_USERS))
def list_users(user: CurrentUser, session: SessionDep, page: PageDep) -> Page[UserRead]:
    """Every user, by username."""
    rows, total = admin.list_users(session, by=user, limit=page.limit, offset=page.offset)
    return Page(items=[UserRead.model_validate(row) for row in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip


@router.post(
    "/users/{user_id}/disable", response_model=UserRead, openapi_extra=action(Action.MANAGE_USERS)
)
def disable_user(user_id: int, user: CurrentUser, session: SessionDep, now: NowDep) -> UserRead:
    """Disable a user: they can no longer sign in or use their API tokens."""
    return UserRead.model_validate(admin.disable_user(session, user_id=user_id, by=user, now=now))
