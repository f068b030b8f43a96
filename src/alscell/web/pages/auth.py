"""Signing in and out in the browser."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alscell.errors import NotSignedIn
from alscell.services import auth
from alscell.web.deps import COOKIE, NowDep, SessionDep, SettingsDep
from alscell.web.pages.common import FormDep, WriterUser, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/today") -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html", title="Sign in", next=_safe(next))


@router.post("/login", response_model=None)
def login(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    """Sign in; on a mistake the form comes back with the username kept."""
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _safe(str(form.get("next", "/today")))
    try:
        issued = auth.sign_in(session, username=username, password=password, now=now)
    except NotSignedIn as error:
        errors = {"_form": str(error)}
        return render(
            request,
            "login.html",
            status=401,
            title="Sign in",
            next=target,
            values={"username": username},
            errors=errors,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, issued.secret, httponly=True, samesite="strict", secure=settings.cookie_secure,
                        max_age=int(auth.SESSION_LIFETIME.total_seconds()), path="/")  # fmt: skip
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, user: WriterUser, session: SessionDep, now: NowDep) -> Response:
    """Sign out and return to the sign-in page."""
    auth.end_session(session, secret=request.cookies.get(COOKIE, ""), now=now)
    response = redirect("/login", done=f"{user.full_name} signed out")
    response.delete_cookie(COOKIE, path="/")
    return response


def _safe(target: str) -> str:
    """Only local paths are followed after sign-in (no open redirects)."""
    return target if target.startswith("/") and not target.startswith("//") else "/today"
