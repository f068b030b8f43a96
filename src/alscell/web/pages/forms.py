"""What the clinic's form pages share: showing a form, saving it through a service, bedside checks.

A form page is shown by GET and saved by POST through one service. A mistake shows the form again
(422) with each error next to its field and everything typed kept; a clash with the record's state
(409) or a safety block (409, with its rules and reasons) does the same. Success redirects with a
confirmation. The routes are in :mod:`forms_patient` and :mod:`forms_treatment`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from alscell.domain.access import Action
from alscell.domain.safety import PrePunctureFacts, SafetyThresholds
from alscell.errors import Conflict, InvalidInput, NotFound, SafetyCheckFailed
from alscell.services import access, enrollment, patients, protocols
from alscell.storage.models import Enrollment, Patient, User
from alscell.web.pages.common import Form, errors_from, redirect, render

__all__ = [
    "YES_NO",
    "FormPage",
    "Kwargs",
    "answered",
    "bedside_checks",
    "complete",
    "enrollment_for",
    "event_fields",
    "patient_for",
    "protocol_options",
    "save",
    "show_again",
]

Kwargs: TypeAlias = dict[str, Any]
"""A service's keyword arguments read from a form."""
Rename: TypeAlias = Mapping[str, str] | Callable[[str], str]
"""How a service's problem locations map to form fields."""
Then: TypeAlias = str | Callable[[Any], str]
"""A fixed text, or one made from the saved record."""

YES_NO: Final = {"yes": True, "no": False}
_EVENT: Final = re.compile(r"events\[\d+\](?:\.(\w+))?")
_AGAIN: Final = "The form was not saved."


@dataclass
class FormPage:
    """A form's template and what it shows besides the values typed (patient, choices, rules)."""

    request: Request
    session: Session
    user: User
    template: str
    context: dict[str, Any] = field(default_factory=dict)

    def show(
        self,
        values: Mapping[str, str],
        *,
        errors: Mapping[str, str] | None = None,
        status: int = 200,
        **extra: Any,
    ) -> HTMLResponse:
        """The form with ``values`` in its inputs and each error next to its field."""
        context = self.context | extra
        return render(
            self.request,
            self.template,
            user=self.user,
            status=status,
            values=dict(values),
            errors=dict(errors or {}),
            **context,
        )


def save(
    page: FormPage, entry: Form, parsed: Kwargs | None, action: Callable[[Kwargs], Any], *,
    to: Then, done: Then, fields: Rename | None = None, missing: Mapping[str, str] | None = None,
) -> Response:  # fmt: skip
    """Call ``action`` with what the form says, then redirect to ``to``; else show the form again.

    ``fields`` renames problem locations to form fields; ``missing`` maps a kind of record not found
    (e.g. a typed product unit) to the field that named it.
    """
    if parsed is None or entry.errors:
        return show_again(page, entry)
    try:
        record = action(parsed)
    except InvalidInput as error:
        page.session.rollback()  # nothing half-written stays in the request's transaction
        entry.errors.update(errors_from(error, fields=_renamed(error, fields)))
        return show_again(page, entry)
    except (Conflict, NotFound, SafetyCheckFailed) as error:
        page.session.rollback()
        return _refused(page, entry, error, missing or {})
    return redirect(_text(to, record), done=_text(done, record))


def show_again(page: FormPage, entry: Form, *, status: int = 422) -> HTMLResponse:
    """The form as submitted, with its errors."""
    return page.show(entry.values, errors=entry.errors or {"_form": _AGAIN}, status=status)


def _refused(
    page: FormPage, entry: Form, error: Conflict | NotFound | SafetyCheckFailed,
    missing: Mapping[str, str],
) -> HTMLResponse:  # fmt: skip
    if isinstance(error, SafetyCheckFailed):
        return page.show(entry.values, status=409, block=error)
    if isinstance(error, NotFound):
        if error.kind not in missing:
            raise error
        entry.errors[missing[error.kind]] = str(error)
        return show_again(page, entry)
    return page.show(entry.values, errors={"_form": str(error)}, status=409)


def _renamed(error: InvalidInput, fields: Rename | None) -> Mapping[str, str] | None:
    if fields is None or isinstance(fields, Mapping):
        return fields
    return {problem.location: fields(problem.location) for problem in error.problems}


def _text(then: Then, record: Any) -> str:
    return then if isinstance(then, str) else then(record)


def complete(required: Kwargs, optional: Kwargs | None = None) -> Kwargs | None:
    """The service's arguments when every required one was read, else None (the form has errors)."""
    if any(value is None for value in required.values()):
        return None
    return required | (optional or {})


def event_fields(date_field: str, activity_field: str) -> Callable[[str], str]:
    """Rename the calendar's problems (``events[3].on``) to the form's date and activity fields."""

    def rename(location: str) -> str:
        match = _EVENT.fullmatch(location)
        if match is None:
            return activity_field if location == "activity_id" else location
        return date_field if match.group(1) == "on" else activity_field

    return rename


def patient_for(session: Session, patient_id: int, user: User, action: Action) -> Patient:
    """The patient, if ``user`` may do ``action`` for them (their site, their role)."""
    patient = patients.get_patient(session, patient_id, by=user)
    access.require(user, action, site_id=patient.site_id, resource=f"patient {patient.study_code}")
    return patient


def enrollment_for(
    session: Session, enrollment_id: int, user: User, action: Action
) -> tuple[Enrollment, Patient]:
    """The enrollment and its patient, if ``user`` may do ``action`` for the patient."""
    record = enrollment.get_enrollment(session, enrollment_id, by=user)
    return record, patient_for(session, record.patient_id, user, action)


def protocol_options(session: Session, user: User) -> list[tuple[str, str]]:
    """The loaded protocol versions as (id, label) choices."""
    rows, _ = protocols.list_protocols(session, by=user, limit=200)
    return [(str(row.id), f"{row.key} {row.version}: {row.title}") for row in rows]


def bedside_checks(entry: Form, thresholds: SafetyThresholds) -> PrePunctureFacts:
    """The pre-puncture checks typed; blanks are not recorded (labs then come from the records)."""
    hours = {
        drug: entry.number(f"hold_{drug}", required=False)
        for drug in thresholds.anticoagulant_hold_hours
    }
    names = (*thresholds.contraindications, *thresholds.relative_contraindications)
    findings = {name: entry.choice(f"ci_{name}", YES_NO, required=False) for name in names}
    return PrePunctureFacts(
        platelets_10e9_per_l=entry.number("platelets", required=False),
        inr=entry.number("inr", required=False),
        anticoagulants_reviewed=entry.flag("anticoagulants_reviewed"),
        hours_since_last_dose=_given(hours),
        findings=_given(findings),
    )


def _given(answers: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in answers.items() if value is not None}


def answered(entry: Form, prefix: str, names: Iterable[str]) -> dict[str, bool]:
    """Yes/no answers named ``prefix + name``, leaving out the unanswered ones."""
    return _given({name: entry.choice(prefix + name, YES_NO, required=False) for name in names})
