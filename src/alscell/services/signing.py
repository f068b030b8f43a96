"""Signing: a physician signs a record; afterwards it changes only with a written reason."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from alscell.domain.access import Action
from alscell.errors import Conflict, InvalidInput, Problem
from alscell.services import access
from alscell.services.records import change_record, commit, load
from alscell.storage.models import (
    Administration,
    AdverseEvent,
    AlsfrsRating,
    Diagnosis,
    Patient,
    User,
)

__all__ = ["SIGNABLE", "sign_record"]

SignableRecord = Diagnosis | AlsfrsRating | Administration | AdverseEvent
SIGNABLE: Final[dict[str, type[SignableRecord]]] = {
    "diagnosis": Diagnosis,
    "alsfrs_rating": AlsfrsRating,
    "administration": Administration,
    "adverse_event": AdverseEvent,
}


def sign_record(
    session: Session, *, kind: str, record_id: int, by: User, now: datetime
) -> SignableRecord:
    """Sign a diagnosis, ALSFRS-R rating, administration or adverse event (physicians only)."""
    model = SIGNABLE.get(kind)
    if model is None:
        raise InvalidInput(
            [Problem("kind", f"must be one of {', '.join(SIGNABLE)}, got {kind!r}")],
            subject="signature",
        )
    record = load(session, model, record_id, kind=kind.replace("_", " "))
    patient = load(session, Patient, record.patient_id, kind="patient")
    access.require(by, Action.SIGN_RECORD, site_id=patient.site_id, resource=f"{kind} {record_id}")
    if record.signed_at is not None:
        raise Conflict(f"{kind} {record_id} was already signed on {record.signed_at:%Y-%m-%d}")
    change_record(
        session,
        record,
        {"signed_by_id": by.id, "signed_at": now},
        by=by,
        action=f"{kind}.signed",
        now=now,
    )
    commit(session)
    return record
