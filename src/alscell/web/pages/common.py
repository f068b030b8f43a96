"""What every page shares: templates, the signed-in user, CSRF on forms, reading and re-showing forms.

Pages sign in with the session cookie only. Every form carries the session's CSRF token; a POST
without the right one is refused. A form with mistakes is shown again with each error next to its
field and everything the user typed kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from alscell.domain.access import Action, Role, allowed
from alscell.errors import InvalidInput, NotSignedIn, PermissionDenied
from alscell.services import auth
from alscell.storage.models import User
from alscell.web.deps import COOKIE, SAFE_METHODS, NowDep, SessionDep, same_secret
from alscell.web.schemas import unstorable

__all__ = [
    "TEMPLATES",
    "Form",
    "FormDep",
    "LoginRequired",
    "PageUser",
    "Viewer",
    "WriterUser",
    "errors_from",
    "redirect",
    "render",
]

TEMPLATES: Final = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as plain values: what an error page's navigation shows once the request's
    database session (and the rows read in it) is gone."""

    username: str
    full_name: str
    role: Role
    site_id: int | None


class LoginRequired(Exception):
    """Raised by page dependencies when nobody is signed in: the handler redirects to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _page_user(request: Request, session: SessionDep, now: NowDep) -> User:
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise LoginRequired(request.url.path)
    try:
        user, login = auth.user_for_session(session, secret, now=now)
    except NotSignedIn:
        raise LoginRequired(request.url.path) from None
    # plain values, not rows: an error page is rendered after the request's session has closed
    request.state.csrf_token = login.csrf_token
    request.state.viewer = Viewer(user.username, user.full_name, user.role, user.site_id)
    if request.method not in SAFE_METHODS:
        # End the sign-in's transaction (it only read) so that a form's write takes SQLite's write
        # lock in the thread that commits it, never across the hand-off to the route (web/deps.py).
        session.commit()
    return user


PageUser = Annotated[User, Depends(_page_user)]


async def _form(request: Request) -> FormData:
    """The posted form; a field whose name or text PostgreSQL cannot store is refused, named (400).

    ``async`` only because Starlette reads the request body asynchronously; nothing else awaits here.
    """
    form = await request.form()
    problems = [
        {"loc": ("body", name), "msg": rule, "type": "unstorable_text"}
        for name, value in form.multi_items()
        if (rule := unstorable(name) or (unstorable(value) if isinstance(value, str) else None))
    ]
    if problems:
        raise RequestValidationError(problems)
    return form


def _writer(request: Request, user: PageUser, form: Annotated[FormData, Depends(_form)]) -> User:
    if not same_secret(form.get("csrf_token"), request.state.csrf_token):
        raise PermissionDenied(
            user.username,
            "submit this form",
            "its security token is missing or stale; reload the page",
        )
    return user


WriterUser = Annotated[User, Depends(_writer)]
FormDep = Annotated[FormData, Depends(_form)]


def render(
    request: Request, template: str, *, user: User | None = None, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page with the signed-in user, the CSRF token for its forms, and a flash message."""
    values: dict[str, Any] = {"user": user, "csrf_token": getattr(request.state, "csrf_token", ""), "flash": request.query_params.get("done"),
              "errors": {}, "values": {},
              "may_evaluate": user is not None and allowed(user.role, Action.RUN_EVALUATION)} | context  # fmt: skip
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status)


def redirect(url: str, *, done: str | None = None) -> RedirectResponse:
    """See-other redirect after a successful form (with a confirmation shown on the next page)."""
    from urllib.parse import urlencode

    target = f"{url}{'&' if '?' in url else '?'}{urlencode({'done': done})}" if done else url
    return RedirectResponse(target, status_code=303)


def errors_from(error: InvalidInput, *, fields: Mapping[str, str] | None = None) -> dict[str, str]:
    """An error message per form field from a service's problems (locations renamed by ``fields``)."""
    found: dict[str, str] = {}
    for problem in error.problems:
        name = (fields or {}).get(problem.location, problem.location)
        found[name] = f"{found[name]}; {problem.message}" if name in found else problem.message
    return found


class Form:
    """Reads typed values from a submitted form, noting each mistake against its field."""

    def __init__(self, data: FormData) -> None:
        self.values: dict[str, str] = {
            key: str(value) for key, value in data.items() if key != "csrf_token"
        }
        self.errors: dict[str, str] = {}

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self.values.get(name, "").strip()
        if not value:
            if required:
                self.errors[name] = "required"
            return None
        return value

    def day(self, name: str, *, required: bool = True) -> date | None:
        raw = self.text(name, required=required)
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError:
            self.errors[name] = "must be a date written YYYY-MM-DD"
            return None

    def instant(self, name: str) -> datetime | None:
        raw = self.text(name)
        try:
            value = datetime.fromisoformat(raw) if raw else None
        except ValueError:
            value = None
        if raw and (value is None or value.tzinfo is None):
            self.errors[name] = (
                "must be a date and time with a time zone, e.g. 2026-01-15T09:30+01:00"
            )
            return None
        return value

    def integer(self, name: str, *, required: bool = True) -> int | None:
        raw = self.text(name, required=required)
        try:
            return int(raw) if raw else None
        except ValueError:
            self.errors[name] = "must be a whole number"
            return None

    def number(self, name: str, *, required: bool = True) -> float | None:
        raw = self.text(name, required=required)
        try:
            return float(raw) if raw else None
        except ValueError:
            self.errors[name] = "must be a number"
            return None

    def flag(self, name: str) -> bool:
        return self.values.get(name, "") in ("yes", "on", "true")

    def choice(self, name: str, allowed: Mapping[str, Any], *, required: bool = True) -> Any:
        raw = self.text(name, required=required)
        if raw is None:
            return None
        if raw not in allowed:
            self.errors[name] = f"must be one of {', '.join(allowed)}"
            return None
        return allowed[raw]
