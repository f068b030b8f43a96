"""Crash safety: a process writing through the services is killed with SIGKILL, again and again.

Each trial starts a child (:mod:`tests.reliability.crash_child`) that registers patients, rates them
and imports data sets of several patients, reporting every step; the parent kills it with SIGKILL at
a moment drawn from a seeded generator: at start-up, during a write, during an import, or just as a
commit is sent. After every kill the database must open and hold together (SQLite's integrity
check; PostgreSQL's B-tree check at the end), the audit trail must verify (``alscell audit verify``
on the command line, as a user would run it, every few trials), every write acknowledged so far must
be there, and each import must be there whole or not at all. The database is never recreated:
each trial starts from what the crashes before it left.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Final

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute
from typer.testing import CliRunner

from alscell.cli import app
from alscell.domain.access import Role
from alscell.services.audit import verify_trail
from alscell.storage.models import (
    AlsfrsRating,
    Diagnosis,
    Patient,
    PatientIdentity,
    Weight,
)
from alscell.storage.session import make_session_factory
from tests.factories import make_admin, make_site, make_user
from tests.figures import scaled
from tests.reliability import crash_child
from tests.reliability.crash_child import Plan, import_codes, rating_day, seed_dataset

SEED: Final = 20260105
TRIALS: Final = scaled(50)
STEPS: Final = 6
IMPORT_SIZE: Final = 4
CLI_EVERY: Final = 10
"""Every how many trials the audit trail is verified by the real command line (and after the last)."""
TARGETS: Final = ("start", "write", "import", "commit")
# Only so a broken build fails instead of hanging; never reached when it works.
GUARD_SECONDS: Final = 60


@pytest.fixture(scope="module")
def forkserver() -> Iterator[ForkServerContext]:
    """A fork server that has imported alscell once: each child is a fork of it."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(crash_child.PRELOAD))
    yield context
    stop = getattr(multiprocessing.forkserver._forkserver, "_stop", None)
    if stop is not None:  # not public: without it the server would end only with the test run
        stop()
    context.set_forkserver_preload(["__main__"])  # the standard library's default


@dataclass
class Tally:
    """What the trials of one engine have acknowledged and found, over the whole run."""

    patients: set[str] = field(default_factory=set)
    ratings: set[tuple[str, date]] = field(default_factory=set)
    imports: list[tuple[Plan, int, bool]] = field(default_factory=list)
    phases: Counter[str] = field(default_factory=Counter)
    writes_checked: int = 0
    imports_whole: int = 0
    cli_runs: int = 0


def test_killed_writers_leave_a_whole_database(
    fresh_engine, forkserver, tmp_path, monkeypatch, figures
):
    engine = fresh_engine
    base = _seed(engine, tmp_path)
    monkeypatch.setenv("ALSCELL_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    rng, tally = random.Random(SEED), Tally()
    started = time.perf_counter()

    for trial in range(TRIALS):
        plan = _plan(base, trial, rng, tmp_path)
        lines = _run_and_kill(forkserver, plan, rng)
        tally.phases[_phase(lines)] += 1
        engine.dispose()  # the next check opens the database afresh, as after a real crash
        cli = trial % CLI_EVERY == CLI_EVERY - 1 or trial == TRIALS - 1
        _check(engine, plan, lines, tally, cli=cli)

    _check_imports(engine, tally)
    _check_indexes(engine)
    figures.add("engine", engine.dialect.name)
    figures.add("trials", TRIALS)
    for phase, count in sorted(tally.phases.items()):
        figures.add(f"kills {phase}", count)
    figures.add("writes acknowledged", len(tally.patients) + len(tally.ratings))
    figures.add("writes checked", tally.writes_checked)
    figures.add("imports begun", len(tally.imports))
    figures.add("imports whole", tally.imports_whole)
    figures.add("imports acknowledged", sum(1 for *_rest, acked in tally.imports if acked))
    figures.add("audit verify runs (CLI)", tally.cli_runs)
    figures.add("failures found", 0)
    figures.add("seconds", round(time.perf_counter() - started, 1))


# ---------------------------------------------------------------- one trial


def _seed(engine: sa.Engine, folder: Path) -> Plan:
    """A site, its physician and the administrator who imports; a plan template naming them."""
    with make_session_factory(engine)() as session:
        site = make_site(session, code="CRS")
        physician = make_user(session, Role.PHYSICIAN, site=site, username="dr-crash")
        admin = make_admin(session)
        url = engine.url.render_as_string(hide_password=False)
        return Plan(url=url, trial=-1, site_code=site.code, site_id=site.id, physician_id=physician.id,
                    admin_id=admin.id, steps=(), report=str(folder), import_size=IMPORT_SIZE)  # fmt: skip


def _plan(base: Plan, trial: int, rng: random.Random, folder: Path) -> Plan:
    """A first patient, then patients, ratings and imports drawn at random (at least one import)."""
    steps = ["patient"] + [rng.choice(("patient", "rating", "import")) for _ in range(STEPS - 1)]
    if "import" not in steps:
        steps[rng.randrange(1, STEPS)] = "import"
    report = folder / f"trial-{trial:04d}.log"
    return Plan(url=base.url, trial=trial, site_code=base.site_code, site_id=base.site_id,
                physician_id=base.physician_id, admin_id=base.admin_id, steps=tuple(steps),
                report=str(report), import_size=base.import_size)  # fmt: skip


def _run_and_kill(forkserver: ForkServerContext, plan: Plan, rng: random.Random) -> list[str]:
    """Start the child, kill it at the moment drawn, and return every line it reported."""
    target = rng.choice(TARGETS)
    cue = _cue(plan, target, rng)
    delay = rng.uniform(0, DELAYS[target])
    reader, writer = forkserver.Pipe(duplex=False)
    process = forkserver.Process(target=crash_child.run, args=(plan, writer), daemon=True)
    try:
        process.start()
        writer.close()  # the child holds its own end: the pipe ends when the child does
        if cue is not None:
            _wait_for(reader, *cue)
        time.sleep(delay)
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(GUARD_SECONDS)
    finally:
        reader.close()
        writer.close()
        if process.is_alive():
            process.kill()
            process.join(GUARD_SECONDS)
        exit_code = process.exitcode
        process.close()
    lines = _lines(plan)
    assert exit_code == -signal.SIGKILL, f"the child failed before it was killed: {lines}"
    return lines


DELAYS: Final = {"start": 0.06, "write": 0.01, "import": 0.1, "commit": 0.001}
"""The longest pause, in seconds, between the cue of each kind of target and the kill."""


def _cue(plan: Plan, target: str, rng: random.Random) -> tuple[str, int] | None:
    """The line to wait for, and how many times, before the kill's pause: a step of the target's
    kind beginning, or that step's commit being sent; None to time the kill from the start."""
    kinds = {"write": ("patient", "rating"), "import": ("import",), "commit": plan.steps}
    if target == "start":
        return None
    step = rng.choice([number for number, kind in enumerate(plan.steps) if kind in kinds[target]])
    if target == "commit":
        return "commit", step + 1  # each step commits once
    return f"begin {plan.steps[step]} {step}", 1


def _wait_for(reader: Connection, line: str, times: int) -> None:
    """Read the child's lines until ``line`` came ``times`` times (or the child finished or died)."""
    seen = 0
    while reader.poll(GUARD_SECONDS):
        try:
            got = reader.recv_bytes().decode("ascii")
        except EOFError:
            return
        seen += got == line
        if seen == times or got == "done":
            return


def _lines(plan: Plan) -> list[str]:
    path = Path(plan.report)
    if not path.exists():
        return []
    return path.read_text(encoding="ascii").split("\n")[:-1]  # whole lines only


def _phase(lines: list[str]) -> str:
    """Where the kill landed, from the last line the child reported."""
    if not lines:
        return "at start"
    last = lines[-1]
    if last == "done":
        return "after the last write"
    if last == "commit":
        return "mid-commit"
    if last.startswith("ack"):
        return "between writes"
    return "mid-import" if last.startswith("begin import") else "mid-write"


# ---------------------------------------------------------------- checks


def _check(engine: sa.Engine, plan: Plan, lines: list[str], tally: Tally, *, cli: bool) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
    with make_session_factory(engine)() as session:
        assert [str(found) for found in verify_trail(session)] == []
    if cli:
        result = CliRunner().invoke(app, ["audit", "verify"])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("audit trail intact: ")
        tally.cli_runs += 1
    _record_acknowledged(plan, lines, tally)
    stored_patients, stored_ratings = _stored(engine)
    assert tally.patients <= stored_patients, "acknowledged patients are missing"
    assert tally.ratings <= stored_ratings, "acknowledged ratings are missing"
    _check_not_begun(plan, lines, stored_patients)
    tally.writes_checked += len(tally.patients) + len(tally.ratings)
    for step, kind in enumerate(plan.steps):
        if kind == "import" and f"begin import {step}" in lines:
            acked = f"ack import {step}" in lines
            tally.imports_whole += _check_import(engine, plan, step, acked=acked)
            tally.imports.append((plan, step, acked))


def _record_acknowledged(plan: Plan, lines: list[str], tally: Tally) -> None:
    patient = ""
    for step, kind in enumerate(plan.steps):
        if f"ack {kind} {step}" not in lines:
            return
        if kind == "patient":
            patient = crash_child.patient_code(plan.trial, step)
            tally.patients.add(patient)
        elif kind == "rating":
            tally.ratings.add((patient, rating_day(step)))
        else:
            tally.patients.update(import_codes(plan, step))


def _check_not_begun(plan: Plan, lines: list[str], stored: set[str]) -> None:
    """Nothing of a step the child never began is in the database (the checks can see absence)."""
    for step, kind in enumerate(plan.steps):
        if f"begin {kind} {step}" in lines:
            continue
        codes = [crash_child.patient_code(plan.trial, step)] if kind == "patient" else []
        codes += import_codes(plan, step) if kind == "import" else []
        assert not stored.intersection(codes), f"step {step} was never begun, yet is stored"


def _stored(engine: sa.Engine) -> tuple[set[str], set[tuple[str, date]]]:
    with engine.connect() as connection:
        codes = set(connection.execute(sa.select(Patient.study_code)).scalars())
        rated = connection.execute(
            sa.select(Patient.study_code, AlsfrsRating.rated_on).join(
                AlsfrsRating, AlsfrsRating.patient_id == Patient.id
            )
        )
        return codes, {(code, day) for code, day in rated}


PATIENT_TABLES: Final[dict[str, InstrumentedAttribute[int]]] = {
    "identities": PatientIdentity.patient_id,
    "diagnoses": Diagnosis.patient_id,
    "alsfrs_ratings": AlsfrsRating.patient_id,
    "weights": Weight.patient_id,
}
"""The data set's tables of patients' records, by name, and the column naming the patient."""


def _check_import(engine: sa.Engine, plan: Plan, step: int, *, acked: bool) -> bool:
    """The import is stored whole (every record of every table) or not at all; whether whole."""
    dataset = seed_dataset(plan, step)
    expected = {name: len(dataset.table(name)) for name in ("patients", *PATIENT_TABLES)}
    with engine.connect() as connection:
        ids = sa.select(Patient.id).where(Patient.study_code.in_(import_codes(plan, step)))
        found = {"patients": len(connection.execute(ids).all())}
        for name, column in PATIENT_TABLES.items():
            counted = sa.select(sa.func.count()).where(column.in_(ids))
            found[name] = connection.execute(counted).scalar_one()
    empty = dict.fromkeys(expected, 0)
    assert found == expected or (not acked and found == empty), (
        f"import {plan.trial}/{step} is half-applied (acknowledged: {acked}): {found}"
    )
    return found == expected


def _check_imports(engine: sa.Engine, tally: Tally) -> None:
    """After the last kill, every import begun in any trial is still whole or absent."""
    for plan, step, acked in tally.imports:
        _check_import(engine, plan, step, acked=acked)


def _check_indexes(engine: sa.Engine) -> None:
    """PostgreSQL: amcheck's B-tree check of every index of alscell's tables (SQLite's integrity
    check already covered its indexes)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = (
            connection.exec_driver_sql(
                "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = 'public'"
            )
            .scalars()
            .all()
        )
        for index in indexes:
            connection.exec_driver_sql("SELECT bt_index_check(%s::regclass, true)", (index,))
    assert indexes, "no index was checked"
