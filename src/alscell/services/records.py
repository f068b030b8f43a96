"""Helpers every service uses: load or refuse, add and change records with their audit events, and
commit once, turning the database's refusals into alscell's errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from alscell.errors import Conflict, InvalidInput, NotFound, Problem
from alscell.services.audit import entity_key, record_event
from alscell.storage.base import Base, Signable, snapshot
from alscell.storage.models import User

__all__ = [
    "NUL_RULE",
    "add_record",
    "change_record",
    "column_rule",
    "commit",
    "exists",
    "flush",
    "load",
    "unstorable_values",
]

R = TypeVar("R", bound=Base)
MAX_ID = 2**31 - 1
NUL_RULE: Final = "must not contain a NUL character (byte 0)"
"""The rule every text breaks that holds a NUL: PostgreSQL cannot store one, even to look it up."""
_INTEGER_BITS: Final = {sa.SmallInteger: 16, sa.BigInteger: 64, sa.Integer: 32}
"""Bits of each kind of integer column; the subclasses of ``Integer`` come first, as they match it too."""


def load(session: Session, model: type[R], record_id: object, *, kind: str | None = None) -> R:
    """The record with this primary key, or :class:`NotFound` naming its kind.

    Ids outside 1..2^31-1 (what every engine's integer keys hold) are simply not found.
    """
    if isinstance(record_id, int) and not 1 <= record_id <= MAX_ID:
        raise NotFound(kind or model.__tablename__.rstrip("s").replace("_", " "), record_id)
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(kind or model.__tablename__.rstrip("s").replace("_", " "), record_id)
    return record


def add_record(
    session: Session,
    record: R,
    *,
    by: User | None,
    action: str,
    now: datetime,
    reason: str | None = None,
) -> R:
    """Insert ``record`` and audit it in the current transaction.

    Raises
    ------
    InvalidInput
        If a value does not fit its column (:func:`unstorable_values`); nothing is written.
    """
    _require_storable(record, unstorable_values(record))
    session.add(record)
    flush(session)  # a duplicate key becomes Conflict here, before the audit event
    record_event(session, actor=by, action=action, entity=record, reason=reason, now=now)
    return record


def change_record(
    session: Session, record: R, changes: Mapping[str, Any], *, by: User, action: str, now: datetime,
    expected_version: int | None = None, reason: str | None = None,
) -> R:  # fmt: skip
    """Apply ``changes`` to ``record`` and audit before and after.

    Raises
    ------
    Conflict
        If ``expected_version`` is given and the record has changed since it was read.
    InvalidInput
        If the record is signed and no reason is given.
    """
    current = getattr(record, "version", None)
    if expected_version is not None and current != expected_version:
        raise Conflict(
            f"{record.__tablename__} {entity_key(record)} changed since it was read (version "
            f"{current}, not {expected_version}); reload it and apply the change again"
        )
    if all(getattr(record, name) == value for name, value in changes.items()):
        return record  # nothing changes: no write, no audit event, no reason needed
    signed = isinstance(record, Signable) and record.signed_at is not None
    if signed and not (reason and reason.strip()):
        rule = "required: this record is signed, so a change needs a written reason"
        raise InvalidInput([Problem("reason", rule)], subject="change")
    _require_storable(record, unstorable_values(record, only=changes))
    before = snapshot(record)
    for name, value in changes.items():
        setattr(record, name, value)
    flush(session)  # a lost update becomes Conflict here, before the audit event
    record_event(
        session, actor=by, action=action, entity=record, before=before, reason=reason, now=now
    )
    return record


def unstorable_values(record: Base, *, only: Mapping[str, Any] | None = None) -> list[Problem]:
    """Each value of ``record`` (or each of ``only``, values about to be set) its column cannot hold,
    named by attribute. SQLite would store text of any length, PostgreSQL refuses it mid-transaction:
    checked here, both engines behave alike and the user learns which field is too long."""
    columns = {
        attribute.key: attribute.columns[0] for attribute in sa.inspect(type(record)).column_attrs
    }
    values = only if only is not None else {name: getattr(record, name) for name in columns}
    return [
        Problem(name, rule)
        for name, value in values.items()
        if name in columns and (rule := column_rule(value, columns[name].type)) is not None
    ]


def column_rule(value: object, column_type: sa.types.TypeEngine[Any]) -> str | None:
    """The rule ``value`` breaks in a column of ``column_type`` (None: it fits): text longer than the
    column or holding a NUL character (PostgreSQL refuses it), a whole number beyond the column's
    range. A tuple or list (stored as JSON) is checked item by item for NUL characters."""
    if isinstance(value, str):
        if "\x00" in value:
            return NUL_RULE
        length = column_type.length if isinstance(column_type, sa.String) else None
        if length is not None and len(value) > length:
            return f"must be at most {length} characters, got {len(value)}"
    elif isinstance(value, int) and not isinstance(value, bool):
        bits = next((n for kind, n in _INTEGER_BITS.items() if isinstance(column_type, kind)), None)
        if bits is not None and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            return f"must be a whole number between {-(2 ** (bits - 1))} and {2 ** (bits - 1) - 1}"
    elif isinstance(value, tuple | list) and any(
        isinstance(item, str) and "\x00" in item for item in value
    ):
        return NUL_RULE
    return None


def _require_storable(record: Base, problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems, subject=f"{record.__tablename__} record")


def commit(session: Session) -> None:
    """Commit the service's one transaction; a lost update or a duplicate becomes :class:`Conflict`."""
    try:
        session.commit()
    except StaleDataError as error:
        session.rollback()
        raise Conflict(
            "the record was changed by someone else at the same time; reload and retry"
        ) from error
    except IntegrityError as error:
        session.rollback()
        raise Conflict(
            f"the change clashes with a record already stored: {_constraint(error)}"
        ) from error


def flush(session: Session) -> None:
    """Flush, turning a duplicate key or a lost update into :class:`Conflict` straight away."""
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict(
            f"the change clashes with a record already stored: {_constraint(error)}"
        ) from error
    except StaleDataError as error:
        raise Conflict(
            "the record was changed by someone else at the same time; reload and retry"
        ) from error


def _constraint(error: IntegrityError) -> str:
    text = str(error.orig).splitlines()[0] if error.orig else str(error)
    return text[:200]


def exists(session: Session, statement: sa.Select[Any]) -> bool:
    """Whether ``statement`` returns any row."""
    return session.execute(statement.limit(1)).first() is not None
