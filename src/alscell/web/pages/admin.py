"""Administration: users, sites and protocol versions (administrators only, as the services check).

Locking an analysis plan is also open to analysts (the service decides); they lock it from the
results page, which posts to the same form handler here.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.errors import Conflict, InvalidInput
from alscell.services import admin, protocols
from alscell.storage.models import User
from alscell.storage.protocol_files import builtin_protocols
from alscell.web.deps import NowDep, SessionDep
from alscell.web.pages.common import (
    Form,
    FormDep,
    PageUser,
    WriterUser,
    errors_from,
    redirect,
    render,
)

router = APIRouter(include_in_schema=False)

_SITE_FIELDS: Final = {"code": "site_code", "name": "site_name"}
_SECRET: Final = ("password",)


# ---------------------------------------------------------------- users and sites


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    """Users and sites, with the forms to add them."""
    return _admin_page(request, session, user, {}, {})


@router.post("/admin/users", response_model=None)
def add_user(
    request: Request, user: WriterUser, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Add a user with a role, a site (clinical roles) and a password."""
    reader = Form(form)
    fields = {
        "username": reader.text("username"),
        "full_name": reader.text("full_name"),
        "role": reader.choice("role", {role.value: role for role in Role}),
        "site_id": reader.integer("site_id", required=False),
        "password": reader.text("password"),
    }
    if reader.errors:
        return _admin_page(request, session, user, reader.values, reader.errors, status=422)
    try:
        added = admin.create_user(session, by=user, now=now, **fields)
    except (InvalidInput, Conflict) as error:
        return _admin_page(
            request, session, user, reader.values, _errors(error), status=_status(error)
        )
    return redirect("/admin", done=f"User {added.username} added as {added.role.value}")


@router.post("/admin/users/{user_id}/disable", response_model=None)
def disable_user(user_id: int, user: WriterUser, session: SessionDep, now: NowDep) -> Response:
    """Disable a user: they can no longer sign in."""
    disabled = admin.disable_user(session, user_id=user_id, by=user, now=now)
    return redirect("/admin", done=f"User {disabled.username} disabled")


@router.post("/admin/sites", response_model=None)
def add_site(
    request: Request, user: WriterUser, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Add a site."""
    reader = Form(form)
    code, name = reader.values.get("site_code", "").strip(), reader.values.get("site_name", "")
    try:
        site = admin.create_site(session, code=code, name=name, by=user, now=now)
    except (InvalidInput, Conflict) as error:
        errors = _errors(error, fields=_SITE_FIELDS)
        return _admin_page(request, session, user, reader.values, errors, status=_status(error))
    return redirect("/admin", done=f"Site {site.code} added")


def _admin_page(
    request: Request, session: Session, user: User, values: dict[str, str],
    errors: dict[str, str], *, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    users, total = admin.list_users(session, by=user, limit=500)
    sites = admin.list_sites(session, by=user)
    kept = {key: value for key, value in values.items() if key not in _SECRET}
    return render(request, "admin/index.html", user=user, status=status, title="Administration",
                  users=users, total=total, sites=sites, values=kept, errors=errors,
                  role_options=[(role.value, role.value.replace("_", " ")) for role in Role],
                  site_options=[(site.id, f"{site.code}: {site.name}") for site in sites])  # fmt: skip


# ---------------------------------------------------------------- protocols


@router.get("/admin/protocols", response_class=HTMLResponse)
def protocols_page(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    """Loaded protocol versions, and the form to load one."""
    return _protocols_page(request, session, user, {}, {})


@router.post("/admin/protocols", response_model=None)
def load_protocol(
    request: Request, user: WriterUser, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Load a protocol version from a built-in file or from pasted YAML."""
    reader = Form(form)
    text, source, field = _protocol_text(reader)
    if text is None:
        return _protocols_page(request, session, user, reader.values, reader.errors, status=422)
    try:
        row = protocols.load_protocol_version(session, text=text, source=source, by=user, now=now)
    except InvalidInput as error:
        errors = {field: "; ".join(str(problem) for problem in error.problems)}
        return _protocols_page(request, session, user, reader.values, errors, status=422)
    except Conflict as error:
        errors = {"_form": str(error)}
        return _protocols_page(request, session, user, reader.values, errors, status=409)
    return redirect(f"/admin/protocols/{row.id}", done=f"Protocol {row.key} v{row.version} loaded")


def _protocol_text(reader: Form) -> tuple[str | None, str, str]:
    """The YAML to load, where it came from, and the field its problems belong to."""
    files = builtin_protocols()
    name = reader.choice("builtin", {key: key for key in files}, required=False)
    pasted = reader.values.get("content", "")
    if name and pasted.strip():
        reader.errors["builtin"] = "choose a built-in file or paste YAML, not both"
    elif name:
        return files[name].read_text(encoding="utf-8"), f"{name}.yaml", "builtin"
    elif pasted.strip():
        return pasted, "pasted YAML", "content"
    elif "builtin" not in reader.errors:
        reader.errors["content"] = "required: choose a built-in file or paste a protocol's YAML"
    return None, "", ""


def _protocols_page(
    request: Request, session: Session, user: User, values: dict[str, str],
    errors: dict[str, str], *, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    versions = protocols.list_protocol_versions(session, by=user)
    return render(request, "admin/protocols.html", user=user, status=status, title="Protocols",
                  versions=versions, values=values, errors=errors,
                  builtin_options=[(key, f"{key}.yaml") for key in builtin_protocols()])  # fmt: skip


@router.get("/admin/protocols/{protocol_id}", response_class=HTMLResponse)
def protocol_page(
    protocol_id: int, request: Request, user: PageUser, session: SessionDep
) -> HTMLResponse:
    """One protocol version: phases, activities, product, eligibility, follow-up, analysis plan."""
    row, protocol, plan, amendments = protocols.get_protocol_details(session, protocol_id, by=user)
    return render(request, "admin/protocol.html", user=user, title=f"{row.key} v{row.version}",
                  row=row, protocol=protocol, plan=plan, amendments=amendments,
                  eligibility=described(protocol.eligibility),
                  release=described(protocol.product.release) if protocol.product else [],
                  analysis=described(protocol.analysis_plan))  # fmt: skip


@router.post("/admin/protocols/{protocol_id}/lock", response_model=None)
def lock_plan(
    protocol_id: int, user: WriterUser, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Lock the analysis plan (administrators and analysts); back to where the form was."""
    plan = protocols.lock_analysis_plan(session, protocol_id=protocol_id, by=user, now=now)
    back = "/results" if form.get("back") == "results" else "/admin/protocols"
    done = f"Analysis plan {plan.plan_version} locked"
    return redirect(f"{back}/{protocol_id}", done=done)


# ---------------------------------------------------------------- showing settings


def described(data: Any) -> list[tuple[str, str]]:
    """A dataclass's set fields as (label, text) rows for a table; unset (None) fields are left out."""
    rows = []
    for item in dataclasses.fields(data):
        value = getattr(data, item.name)
        if value is not None and value != ():
            rows.append((item.name.replace("_", " "), _text(value)))
    return rows


def _text(value: object) -> str:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return ", ".join(_text(part) for part in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "; ".join(f"{label} {text}" for label, text in described(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _errors(
    error: InvalidInput | Conflict, *, fields: dict[str, str] | None = None
) -> dict[str, str]:
    if isinstance(error, InvalidInput):
        return errors_from(error, fields=fields)
    return {"_form": str(error)}


def _status(error: InvalidInput | Conflict) -> int:
    return 422 if isinstance(error, InvalidInput) else 409
