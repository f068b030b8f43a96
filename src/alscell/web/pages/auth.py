"""Signing in and out in the browser.

The sign-in form has a CSRF token too, though nobody is signed in yet: the page sets it in a
short-lived cookie of its own and in the form, and a sign-in whose two copies differ is refused
(a double-submit token). So another site cannot sign a browser in to an account of its choosing.
Signing in ends the session of any cookie the browser already had and issues a new secret.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alscell.errors import NotSignedIn
from alscell.services import auth
from alscell.web.deps import (
    COOKIE,
    NowDep,
    SessionDep,
    SettingsDep,
    same_secret,
    set_session_cookie,
)
from alscell.web.pages.common import FormDep, WriterUser, redirect, render

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE: Final = "alscell_login_csrf"
LOGIN_FORM_LIFETIME: Final = 3600


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, settings: SettingsDep, next: str = "/today") -> HTMLResponse:
    """The sign-in form, with a fresh CSRF token in the form and in its cookie."""
    return _login_form(request, settings, next=_safe(next))


def _login_form(
    request: Request, settings: SettingsDep, *, status: int = 200, **context: Any
) -> HTMLResponse:
    token = request.state.csrf_token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status=status, title="Sign in", **context)
    set_session_cookie(response, request, settings, LOGIN_CSRF_COOKIE, token,
                       max_age=LOGIN_FORM_LIFETIME, path="/login")  # fmt: skip
    return response


@router.post("/login", response_model=None)
def login(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    """Sign in; on a mistake the form comes back with the username kept."""
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _safe(str(form.get("next", "/today")))
    if not same_secret(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        stale = "the sign-in form's security token is missing or stale; sign in again"
        return _login_form(request, settings, status=403, next=target,
                           values={"username": username}, errors={"_form": stale})  # fmt: skip
    try:
        issued = auth.sign_in(session, username=username, password=password, now=now,
                              replacing=request.cookies.get(COOKIE))  # fmt: skip
    except NotSignedIn as error:
        return _login_form(request, settings, status=401, next=target,
                           values={"username": username}, errors={"_form": str(error)})  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    set_session_cookie(response, request, settings, COOKIE, issued.secret,
                       max_age=int(auth.SESSION_LIFETIME.total_seconds()))  # fmt: skip
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, user: WriterUser, session: SessionDep, now: NowDep) -> Response:
    """Sign out and return to the sign-in page."""
    auth.end_session(session, secret=request.cookies.get(COOKIE, ""), now=now)
    response = redirect("/login", done=f"{user.full_name} signed out")
    response.delete_cookie(COOKIE, path="/")
    return response


def _safe(target: str) -> str:
    """Only local paths are followed after sign-in (no open redirects): browsers read ``//host``
    and ``/\\host`` as another site, and drop tabs and line breaks inside a URL."""
    local = target.startswith("/") and not target.startswith("//")
    return target if local and "\\" not in target and target.isprintable() else "/today"
