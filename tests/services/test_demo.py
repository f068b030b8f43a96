"""The demo program's records: written by the real services, as the issue describes, the same for a seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.deviations import DeviationKind
from alscell.domain.months import DAYS_PER_MONTH
from alscell.services import demo
from alscell.services.enrollment import list_deviations
from alscell.storage import migrate
from alscell.storage.comparator_files import builtin_natural_history
from alscell.storage.models import (
    Administration,
    AdverseEvent,
    AlsfrsRating,
    AuditEvent,
    OutcomeEvent,
    Patient,
    ProductUnit,
    Screening,
    User,
)
from alscell.storage.session import make_engine, make_session_factory

pytestmark = (
    pytest.mark.slow
)  # about 35 s: each service call re-parses the protocol (see the report)

PASSWORDS = {username: f"a demo passphrase for {role}" for username, _, role in demo.STAFF} | {
    demo.ADMIN[0]: "a demo passphrase for admin"
}


@dataclass
class Ran:
    session: Session
    summary: demo.DemoSummary


def _run(folder: Any, count: int) -> Ran:
    engine = make_engine(f"sqlite:///{folder / 'demo.sqlite3'}")
    migrate.upgrade(engine)
    session = make_session_factory(engine)()
    summary = demo.run_demo(session, model=builtin_natural_history(), seed=11, count=count, passwords=PASSWORDS,
                            daily_care=False)  # fmt: skip
    return Ran(session, summary)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    return _run(tmp_path_factory.mktemp("demo"), 15)


def rows(ran: Ran, model: type[Any], *where: Any) -> list[Any]:
    return list(ran.session.scalars(sa.select(model).where(*where)))


def test_fifteen_patients_two_of_them_ineligible_with_the_criteria_not_met(ran):
    assert len(rows(ran, Patient)) == 15 == len(ran.summary.patients)
    ineligible = {p.study_code: p.reasons for p in ran.summary.ineligible}
    assert set(ineligible) == {"DEMO-003", "DEMO-005"}
    assert ineligible["DEMO-003"][0].startswith("vital_capacity_percent_min")
    assert "possible" in ineligible["DEMO-005"][0]
    for code in ineligible:
        [screening] = rows(ran, Screening, Screening.patient_id == _patient(ran, code).id)
        assert screening.outcome == "not_met"
        assert [c["criterion"] for c in screening.criteria if c["status"] == "not_met"] == [
            ineligible[code][0].split(":")[0]
        ]


def test_four_doses_of_five_million_cells_seven_days_apart_except_the_delayed_one(ran):
    for treated in ran.summary.treated:
        doses = rows(ran, Administration, Administration.patient_id == treated.patient_id,
                     Administration.dose_cells.is_not(None))  # fmt: skip
        assert [d.dose_cells for d in doses] == [5e6] * 4
        gaps = [(b.given_on - a.given_on).days for a, b in pairwise(doses)]
        assert gaps == ([7, 9, 7] if treated.study_code == "DEMO-002" else [7, 7, 7])
    assert len(ran.summary.treated) == 13


def test_the_headache_postpones_the_next_dose_and_is_a_deviation(ran):
    code, planned, given = ran.summary.delayed
    patient = _patient(ran, code)
    [event] = rows(
        ran,
        AdverseEvent,
        AdverseEvent.patient_id == patient.id,
        AdverseEvent.term == demo.PDPH_TERM,
    )
    second = rows(ran, Administration, Administration.patient_id == patient.id,
                  Administration.dose_cells.is_not(None))[1]  # fmt: skip
    assert (event.administration_id, event.onset_on) == (
        second.id,
        second.given_on + timedelta(days=1),
    )
    assert (given - planned).days == 2
    treated = next(p for p in ran.summary.treated if p.study_code == code)
    deviations = list_deviations(
        ran.session, treated.enrollment_id, by=_physician(ran), as_of=ran.summary.data_cutoff
    )
    late = [d for d in deviations if d.activity_id == "implantation"]
    assert [(d.kind, d.occurrence, d.on) for d in late] == [
        (DeviationKind.OUTSIDE_WINDOW, 3, given)
    ]


def test_the_unreleased_unit_is_refused_then_released_and_given(ran):
    [refusal] = ran.summary.refusals
    assert refusal.study_code == "DEMO-004"
    assert "unit.not_released" in refusal.message
    unit = ran.session.scalars(
        sa.select(ProductUnit).where(ProductUnit.din == refusal.unit_id[:-1])
    ).one()
    trail = rows(ran, AuditEvent, AuditEvent.entity_type == ProductUnit.__tablename__,
                 AuditEvent.entity_id == str(unit.id))  # fmt: skip
    assert [e.action for e in trail] == ["product_unit.registered", "product_unit.released",
                                         "product_unit.dispensed", "unit.administered"]  # fmt: skip
    [dose] = rows(ran, Administration, Administration.product_unit_id == unit.id)
    assert {e.at.date() for e in trail[1:]} == {
        dose.given_on
    }  # released on the day, after the refusal
    assert (dose.dose_cells, dose.overridden_rules) == (5e6, None)


def test_ratings_reach_six_months_after_the_last_dose_unless_the_patient_died(ran):
    for treated in ran.summary.treated:
        last = max(
            r.rated_on
            for r in rows(ran, AlsfrsRating, AlsfrsRating.patient_id == treated.patient_id)
        )
        month_6 = treated.doses_on[-1] + timedelta(days=round(6 * DAYS_PER_MONTH))
        if treated.died_on is None:
            assert last == month_6
        else:
            assert last < treated.died_on
    deaths = rows(ran, OutcomeEvent, OutcomeEvent.kind == "death")
    assert len(deaths) == sum(p.died_on is not None for p in ran.summary.treated)
    assert ran.summary.data_cutoff < date(2026, 1, 1)


def test_the_users_get_the_passwords_given(ran):
    assert {u.username: u.password for u in ran.summary.users} == PASSWORDS


def test_the_same_seed_gives_the_same_patients(ran, tmp_path):
    again = _run(tmp_path, 5)

    assert again.summary.patients == ran.summary.patients[:5]
    assert _totals(again) == {k: v for k, v in _totals(ran).items() if k <= 5}


def _totals(ran: Ran) -> dict[int, list[tuple[date, int]]]:
    found: dict[int, list[tuple[date, int]]] = {}
    for rating in rows(ran, AlsfrsRating):
        found.setdefault(rating.patient_id, []).append((rating.rated_on, rating.total))
    return found


def test_items_add_up_to_the_total():
    assert [sum(demo.alsfrs_items(total).values()) for total in (0, 17, 48)] == [0, 17, 48]
    with pytest.raises(ValueError, match="total must be"):
        demo.alsfrs_items(49)


def _patient(ran: Ran, code: str) -> Patient:
    return ran.session.scalars(sa.select(Patient).where(Patient.study_code == code)).one()


def _physician(ran: Ran) -> User:
    return ran.session.scalars(sa.select(User).where(User.username == "dr-demo")).one()
