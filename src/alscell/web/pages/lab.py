"""The cell lab: lots and units, registering a lot, and each unit's tests, release, custody and fate.

Every write is one service call in :mod:`alscell.services.products`, which checks the role and the
site; a refused release or dispensing comes back on the unit's page listing every failing rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from alscell.domain.access import Action
from alscell.domain.dosing import TestResult
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.product import ProductSource
from alscell.errors import Conflict, InvalidInput, Problem, SafetyCheckFailed
from alscell.services import access, patients, products, protocols
from alscell.storage.models import Patient, User
from alscell.storage.models.product import CustodyKind
from alscell.web.deps import NowDep, SessionDep, TodayDep
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

Fields = dict[str, Any]
UNIT_LINE: Final = "UNIT-ID CELLS EXPIRES [VOLUME_ML] [ENDOTOXIN_EU]"
_UNIT_PROBLEM: Final = re.compile(r"units\[(\d+)\]\.(\w+)")
_CUSTODY: Final = {"stored": CustodyKind.STORED, "thawed": CustodyKind.THAWED}
_DISPOSITIONS: Final = {
    "reject": (products.reject_unit, "rejected"),
    "discard": (products.discard_unit, "discarded"),
    "return": (products.return_unit, "returned to the lab"),
}
_TREATABLE: Final = (PatientStatus.ENROLLED, PatientStatus.IN_TREATMENT)


# ---------------------------------------------------------------- lots


@router.get("/lab", response_class=HTMLResponse)
def lab_page(
    request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """Late positive cultures first, then every lot with its units' status and expiry."""
    lots, total = products.list_lots_with_units(session, by=user, limit=100)
    late = products.late_positive_cultures(session, by=user)
    return render(request, "lab/lots.html", user=user, title="Cell lab", lots=lots, total=total,
                  late=late, today=today, may_manage=_may_manage(user))  # fmt: skip


@router.get("/lab/lots/new", response_class=HTMLResponse)
def new_lot_page(
    request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """The form to register a received lot and its units."""
    return _lot_form(request, session, user, {"received_on": today.isoformat()}, {})


@router.post("/lab/lots/new", response_model=None)
def register_lot(
    request: Request, user: WriterUser, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """Register the lot; mistakes come back next to their fields (units by line)."""
    reader = Form(form)
    fields, lines = _read_lot(reader)
    if fields is None:
        return _lot_form(request, session, user, reader.values, reader.errors, status=422)
    try:
        # a user without a site is refused by the service first: no global role manages product
        lot = products.register_lot(session, site_id=user.site_id or 0, by=user, now=now, **fields)
    except InvalidInput as error:
        errors = _lot_errors(error, lines)
        return _lot_form(request, session, user, reader.values, errors, status=422)
    except Conflict as error:
        errors = {"_form": str(error)}
        return _lot_form(request, session, user, reader.values, errors, status=409)
    count = len(fields["units"])
    return redirect("/lab", done=f"Lot {lot.lot_code} registered: {count} unit(s) in quarantine")


def _lot_form(
    request: Request, session: Session, user: User, values: dict[str, str],
    errors: dict[str, str], *, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    donors, _ = patients.list_patients(session, by=user, limit=500)
    return render(request, "lab/new_lot.html", user=user, status=status, title="Register a lot",
                  values=values, errors=errors, sources=[(s.value, s.value) for s in ProductSource],
                  donors=[(p.id, p.study_code) for p in donors], unit_line=UNIT_LINE)  # fmt: skip


def _read_lot(reader: Form) -> tuple[Fields | None, list[int]]:
    """The lot's fields for the service (None after a mistake) and each unit's line number."""
    units, lines = _read_units(reader)
    fields: Fields = {
        "lot_code": reader.text("lot_code"),
        "product_name": reader.text("product_name"),
        "source": reader.choice("source", {source.value: source.value for source in ProductSource}),
        "cell_type": reader.text("cell_type"),
        "manufactured_on": reader.day("manufactured_on"),
        "received_on": reader.day("received_on"),
        "donor_patient_id": reader.integer("donor_patient_id", required=False),
        "units": units,
    }
    return (None if reader.errors else fields), lines


def _read_units(reader: Form) -> tuple[list[products.UnitInput], list[int]]:
    """One unit per non-empty line; each line's mistake is noted against the units box."""
    units: list[products.UnitInput] = []
    lines: list[int] = []
    problems: list[str] = []
    for number, line in enumerate(reader.values.get("units", "").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            units.append(parse_unit_line(line))
            lines.append(number)
        except ValueError as error:
            problems.append(f"line {number}: {error}")
    if problems:
        reader.errors["units"] = "; ".join(problems)
    elif not units:
        reader.errors["units"] = f"list at least one unit, one per line: {UNIT_LINE}"
    return units, lines


def parse_unit_line(line: str) -> products.UnitInput:
    """``UNIT-ID CELLS EXPIRES [VOLUME_ML] [ENDOTOXIN_EU]``, e.g. ``G123498654321H 5000000 2026-06-30 2.0``.

    Raises
    ------
    ValueError
        Saying which part of the line is wrong.
    """
    parts = line.split()
    if not 3 <= len(parts) <= 5:
        raise ValueError(f"write {UNIT_LINE}, got {line.strip()!r}")
    unit_id, cells, expires, *extra = parts
    volume, endotoxin = [*extra, None, None][:2]
    return products.UnitInput(
        unit_id=unit_id,
        cells=_number(cells, "cells"),
        expires_on=_date(expires),
        volume_ml=_number(volume, "volume_ml") if volume else None,
        endotoxin_eu=_number(endotoxin, "endotoxin_eu") if endotoxin else None,
    )


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"the expiry must be a date written YYYY-MM-DD, got {text!r}") from None


def _lot_errors(error: InvalidInput, lines: list[int]) -> dict[str, str]:
    """The service's problems by field; a unit's problem goes to the units box with its line."""
    renamed = []
    for problem in error.problems:
        found = _UNIT_PROBLEM.fullmatch(problem.location)
        if found:
            where = f"line {lines[int(found[1])]}: {found[2].replace('_', ' ')}"
            problem = Problem("units", f"{where}: {problem.message}")
        renamed.append(problem)
    return errors_from(InvalidInput(renamed, subject=error.subject))


# ---------------------------------------------------------------- one unit


@dataclass(frozen=True, slots=True)
class _Here:
    """The request a unit form was posted in."""

    request: Request
    session: Session
    user: User
    unit_id: int
    now: datetime


@router.get("/lab/units/{unit_id}", response_class=HTMLResponse)
def unit_page(
    unit_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """The unit: lot, release tests, custody log, and the forms for what happens next."""
    return _unit_page(_Here(request, session, user, unit_id, now), None)


@router.post("/lab/units/{unit_id}/tests", response_model=None)
def record_test(
    unit_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record (or replace) one release test result."""
    here, reader = _Here(request, session, user, unit_id, now), Form(form)
    fields: Fields = {
        "test": reader.choice("test", {test: test for test in products.RELEASE_TESTS}),
        "result": reader.choice("result", {result.value: result for result in TestResult}),
        "value": reader.number("value", required=False),
        "tested_on": reader.day("tested_on"),
    }

    def act() -> str:
        products.record_release_test(session, unit_id=unit_id, by=user, now=now, **fields)
        return f"{fields['test'].replace('_', ' ')} result recorded"

    return _unit_action(here, reader, act)


@router.post("/lab/units/{unit_id}/release", response_model=None)
def release(
    unit_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Release the unit against the release criteria of the chosen protocol."""
    here, reader = _Here(request, session, user, unit_id, now), Form(form)
    protocol_id = reader.integer("protocol_id")

    def act() -> str:
        criteria = products.release_criteria(session, protocol_id=protocol_id or 0)
        unit = products.release_unit(session, unit_id=unit_id, criteria=criteria, by=user, now=now)
        return f"Unit {unit.din} released"

    return _unit_action(here, reader, act, refused="release")


@router.post("/lab/units/{unit_id}/disposition", response_model=None)
def dispose(
    unit_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Reject, discard or take back the unit, with a reason."""
    here, reader = _Here(request, session, user, unit_id, now), Form(form)
    chosen = reader.choice("disposition", _DISPOSITIONS)
    reason = reader.values.get("reason", "")  # the service says when a reason is missing

    def act() -> str:
        service, done = chosen
        unit = service(session, unit_id=unit_id, reason=reason, by=user, now=now)
        return f"Unit {unit.din} {done}"

    return _unit_action(here, reader, act)


@router.post("/lab/units/{unit_id}/custody", response_model=None)
def record_custody(
    unit_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Record that the unit was stored or thawed, and where."""
    here, reader = _Here(request, session, user, unit_id, now), Form(form)
    kind = reader.choice("kind", _CUSTODY)
    location, notes = reader.values.get("location", ""), reader.text("notes", required=False)

    def act() -> str:
        products.record_custody(session, unit_id=unit_id, kind=kind, location=location,
                                notes=notes, by=user, now=now)  # fmt: skip
        return f"Unit {kind.value} at {location.strip()}"

    return _unit_action(here, reader, act)


@router.post("/lab/units/{unit_id}/dispense", response_model=None)
def dispense(
    unit_id: int, request: Request, user: WriterUser, form: FormDep, session: SessionDep,
    now: NowDep,
) -> Response:  # fmt: skip
    """Dispense the unit to an enrolled or in-treatment patient of the site."""
    here, reader = _Here(request, session, user, unit_id, now), Form(form)
    patient_id = reader.integer("patient_id")

    def act() -> str:
        unit = products.dispense_unit(session, unit_id=unit_id, patient_id=patient_id or 0,
                                      by=user, now=now)  # fmt: skip
        return f"Unit {unit.din} dispensed"

    return _unit_action(here, reader, act, refused="dispensing")


def _unit_action(
    here: _Here, reader: Form, act: Callable[[], str], *, refused: str = ""
) -> Response:
    """Run a unit form's service call once the form reads well; show what went wrong if not."""
    if reader.errors:
        return _unit_page(here, reader, status=422)
    try:
        done = act()
    except InvalidInput as error:
        reader.errors.update(errors_from(error))
        return _unit_page(here, reader, status=422)
    except SafetyCheckFailed as error:
        return _unit_page(here, reader, status=409, refusal=(refused, error.findings))
    except Conflict as error:
        reader.errors["_form"] = str(error)
        return _unit_page(here, reader, status=409)
    return redirect(f"/lab/units/{here.unit_id}", done=done)


def _unit_page(
    here: _Here, reader: Form | None, *, status: int = 200,
    refusal: tuple[str, tuple[Problem, ...]] | None = None,
) -> HTMLResponse:  # fmt: skip
    session, user = here.session, here.user
    unit = products.get_unit(session, here.unit_id, by=user)
    lot, _ = products.get_lot(session, unit.lot_id, by=user)
    versions, _ = protocols.list_protocols(session, by=user, limit=200)
    defaults = {"tested_on": here.now.date().isoformat()}
    return render(
        here.request, "lab/unit.html", user=user, status=status, title=f"Unit {unit.din}",
        unit=unit, lot=lot, tests=products.list_release_tests(session, unit.id, by=user),
        custody=products.list_custody(session, unit.id, by=user),
        protocol_options=[(p.id, f"{p.key} v{p.version}: {p.title}") for p in versions],
        patient_options=[(p.id, f"{p.study_code} ({p.status.value.replace('_', ' ')})")
                         for p in _treatable(session, user)],
        test_options=[(test, test.replace("_", " ")) for test in products.RELEASE_TESTS],
        result_options=[(r.value, r.value.replace("_", " ")) for r in TestResult],
        disposition_options=[(key, key) for key in _DISPOSITIONS],
        custody_options=[(key, key) for key in _CUSTODY], refusal=refusal,
        may_manage=_may_manage(user),
        values=reader.values if reader else defaults, errors=reader.errors if reader else {},
    )  # fmt: skip


def _may_manage(user: User) -> bool:
    """Whether to show the cell lab's forms (the services decide; this only hides useless forms)."""
    return access.allowed_to(user, Action.MANAGE_PRODUCT)


def _treatable(session: Session, user: User) -> list[Patient]:
    """Patients a unit may be dispensed to: enrolled or in treatment, at the user's site."""
    found: list[Patient] = []
    for status in _TREATABLE:
        rows, _ = patients.list_patients(session, by=user, status=status, limit=500)
        found += rows
    return sorted(found, key=lambda patient: patient.study_code)
