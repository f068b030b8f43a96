"""The child of the crash tests: real service writes and a multi-patient import, until it is killed.

:func:`run` works through a :class:`Plan`: register a patient, rate the last one registered, or
import a data set of several patients (all or nothing). It reports every step, one line each, on its report
file (written straight to the file with no buffer, so every line written survives a SIGKILL) and
on a pipe that wakes the parent the moment the line is written:

- ``begin <kind> <step>`` before the step's service call,
- ``commit`` when the session is about to commit (the last moment before the database decides),
- ``ack <kind> <step>`` once ``commit`` has returned, flushed to disk (and only then sent on the
  pipe) before the next step begins,
- ``done`` after the last step; the child then waits to be killed.

The parent starts it from a fork server that has already imported :data:`PRELOAD`, so a child
starts in milliseconds instead of paying for alscell's imports.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import dataset as ds
from alscell.services import assessments, patients
from alscell.services.data_import import import_dataset
from alscell.storage.models import User
from alscell.storage.session import make_engine, make_session_factory

__all__ = ["PRELOAD", "Plan", "Report", "import_codes", "rating_day", "run", "seed_dataset"]

PRELOAD: Final = (
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "psycopg",
    "alscell.storage.models",
    "alscell.services.patients",
    "alscell.services.assessments",
    "alscell.services.data_import",
    "tests.reliability.crash_child",
)
"""What the fork server imports once, so that each child starts without importing it again."""

NOW: Final = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
ITEMS: Final[dict[str, Any]] = dict.fromkeys(
    ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 3
)
"""Twelve responses of 3: an ALSFRS-R total of 36 (12 items of 0-4)."""
WAIT_SECONDS: Final = 120
"""How long a child that has finished waits to be killed (a guard: the parent kills it long before)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """One trial's work: where, as whom, and which steps ("patient", "rating" or "import")."""

    url: str
    trial: int
    site_code: str
    site_id: int
    physician_id: int
    admin_id: int
    steps: tuple[str, ...]
    report: str
    import_size: int


def patient_code(trial: int, step: int) -> str:
    return f"T{trial:04d}-W{step:02d}"


def import_codes(plan: Plan, step: int) -> list[str]:
    """The study codes of the patients that the import at ``step`` brings in."""
    return [f"T{plan.trial:04d}-I{step:02d}-P{number}" for number in range(plan.import_size)]


def rating_day(step: int) -> date:
    """The day the rating at ``step`` is dated (one step, one day: a patient is rated once a day)."""
    return date(2025, 1, 1) + timedelta(days=step)


def seed_dataset(plan: Plan, step: int) -> ds.ClinicalDataset:
    """Several patients, each with identity, diagnosis, two ALSFRS-R ratings and a weight."""
    codes = import_codes(plan, step)
    ratings = [
        ds.AlsfrsRecord(study_code=code, rated_on=day, total=36, **ITEMS)
        for code in codes
        for day in (date(2025, 3, 1), date(2025, 6, 1))
    ]
    return ds.ClinicalDataset(
        patients=tuple(ds.PatientRecord(study_code=code, site_code=plan.site_code, status="referred",
                                        sex="male", birth_year=1960) for code in codes),
        identities=tuple(ds.IdentityRecord(study_code=code, given_name="Imported", family_name=code,
                                           birth_on=date(1960, 2, 3)) for code in codes),
        diagnoses=tuple(ds.DiagnosisRecord(study_code=code, onset_on=date(2024, 5, 1), onset_site="bulbar",
                                           diagnosis_on=date(2024, 11, 1), familial=False) for code in codes),
        alsfrs_ratings=tuple(ratings),
        weights=tuple(ds.WeightRecord(study_code=code, measured_on=date(2025, 3, 1), weight_kg=70.5)
                      for code in codes),
    )  # fmt: skip


class Report:
    """The child's report: unbuffered lines in a file, acknowledgements flushed to disk, and each
    line then sent on ``wire`` to the parent."""

    def __init__(self, path: str, wire: Connection) -> None:
        self.descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.wire = wire

    def note(self, line: str, *, durable: bool = False) -> None:
        os.write(self.descriptor, f"{line}\n".encode("ascii"))
        if durable:
            os.fsync(self.descriptor)
        self.wire.send_bytes(line.encode("ascii"))

    def close(self) -> None:
        os.close(self.descriptor)
        self.wire.close()


def run(plan: Plan, wire: Connection) -> None:
    """Work through ``plan``, reporting each step on its file and on ``wire``, then wait to be killed."""
    report = Report(plan.report, wire)
    engine = make_engine(plan.url)
    with make_session_factory(engine)() as session:
        sa.event.listen(session, "before_commit", lambda _session: report.note("commit"))
        _work(session, plan, report)
    engine.dispose()
    report.note("done", durable=True)
    report.close()
    time.sleep(WAIT_SECONDS)


def _work(session: Session, plan: Plan, report: Report) -> None:
    physician = session.get_one(User, plan.physician_id)
    importer = session.get_one(User, plan.admin_id)
    patient_id = 0
    for step, kind in enumerate(plan.steps):
        report.note(f"begin {kind} {step}")
        if kind == "patient":
            patient_id = patients.register_patient(
                session, study_code=patient_code(plan.trial, step), site_id=plan.site_id,
                given_name="Crash", family_name="Test", birth_on=date(1961, 7, 8), by=physician, now=NOW,
            ).id  # fmt: skip
        elif kind == "rating":
            assessments.record_alsfrs_rating(
                session, patient_id=patient_id, rated_on=rating_day(step), items=ITEMS,
                by=physician, now=NOW,
            )  # fmt: skip
        else:
            import_dataset(
                session, seed_dataset(plan, step), by=importer, now=NOW, source=f"crash {step}"
            )
        report.note(f"ack {kind} {step}", durable=True)
