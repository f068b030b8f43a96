"""The cell lab's pages (web/pages/lab.py): lots, registering a lot, and a unit's page and forms.

Every form: the happy path (303 and the record saved), bad input (422, the error next to its field,
what was typed kept) and the wrong role (403). Releases and dispensing refused by the product rules
come back (409) listing every rule not met.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.dosing import TestResult
from alscell.services import products
from alscell.storage.models import CustodyEvent, ProductLot, ProductUnit, ReleaseTest
from alscell.storage.models.product import CustodyKind, UnitStatus
from tests.factories import make_site, make_user
from tests.services.scenario import (
    UNIT_IDS,
    Clinic,
    clinic,
    day,
    dispensed,
    enrolled_in_treatment,
    lot_units,
    released_units,
)
from tests.web.pages import browser, csrf

PASSING = {"sterility": None, "gram_stain": None, "mycoplasma": None, "endotoxin": 2.0,
           "viability": 92.0}  # fmt: skip


def field_error(html: str, name: str) -> str:
    """The error shown next to the field ``name`` (empty when there is none)."""
    found = re.search(rf'<div class="field-error" id="e-{name}">(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def selected(html: str, value: str) -> bool:
    return re.search(rf'<option value="{value}"\s+selected>', html) is not None


def form_csrf(client: TestClient, path: str, action: str) -> str:
    """The CSRF token carried by the form posting to ``action`` on the page at ``path``."""
    page = client.get(path).text
    form = rf'<form method="post" action="{re.escape(action)}"[^>]*>\s*'
    found = re.search(form + r'<input type="hidden" name="csrf_token" value="([^"]*)">', page)
    assert found, f"no form posting to {action} on {path}"
    assert found.group(1), f"the form posting to {action} carries no CSRF token"
    return found.group(1)


def unit_token(client: TestClient, unit: ProductUnit, action: str) -> str:
    """The token of the unit page's form posting to ``/lab/units/{id}/{action}``."""
    return form_csrf(client, f"/lab/units/{unit.id}", f"/lab/units/{unit.id}/{action}")


def quarantined_unit(c: Clinic, *, unit_id: str = UNIT_IDS[4], tests: bool = False) -> ProductUnit:
    """A unit received today in quarantine (with every release test passing when ``tests``)."""
    unit_input = products.UnitInput(
        unit_id=unit_id, cells=5e6, volume_ml=2.0, endotoxin_eu=2.0, expires_on=date(2026, 6, 30)
    )
    lot = products.register_lot(
        c.session,
        lot_code="LOT-Q",
        site_id=c.site.id,
        product_name="NSC",
        source="xenogeneic",
        cell_type="neural stem cells",
        manufactured_on=date(2025, 12, 30),
        received_on=date(2026, 1, 2),
        units=[unit_input],
        by=c.lab,
        now=c.at(date(2026, 1, 2)),
    )
    unit = lot_units(c, lot.id)[0]
    for test, value in PASSING.items() if tests else ():
        products.record_release_test(
            c.session,
            unit_id=unit.id,
            test=test,
            result=TestResult.PASS,
            value=value,
            tested_on=date(2026, 1, 2),
            by=c.lab,
            now=c.at(date(2026, 1, 2)),
        )
    return unit


@pytest.fixture
def c(session: Session) -> Clinic:
    return clinic(session)


@pytest.fixture
def lab(app, session, c):
    return browser(app, session, c.lab)


@pytest.fixture
def nurse(app, session, c):
    return browser(app, session, c.nurse)


# ---------------------------------------------------------------- the lots page


def test_the_lab_page_lists_lots_and_units_with_status_and_expiry(lab, c):
    released_units(c, 2)

    page = lab.get("/lab")

    assert page.status_code == 200, page.text
    assert "Lot LOT-1" in page.text
    assert "G12349865432" in page.text  # the DIN, without its check character
    assert "released" in page.text
    assert "2026-06-30" in page.text
    assert "Late positive" not in page.text


def test_late_positive_cultures_are_listed_first_in_red(lab, c):
    patient, _ = enrolled_in_treatment(c)
    unit = released_units(c, 1)[0]
    dispensed(c, unit, patient, day(0))
    products.record_release_test(
        c.session,
        unit_id=unit.id,
        test="sterility",
        result=TestResult.FAIL,
        value=None,
        tested_on=day(0),
        by=c.lab,
        now=c.at(day(0)),
    )

    page = lab.get("/lab").text

    late = page.index("Late positive sterility cultures")
    assert late < page.index("Lots (")
    assert 'class="alert error" role="alert"' in page[late - 200 : late]
    assert f'href="/patients/{patient.id}"' in page


# ---------------------------------------------------------------- registering a lot

LOT = {
    "lot_code": "LOT-77",
    "product_name": "NSC",
    "source": "xenogeneic",
    "cell_type": "neural stem cells",
    "manufactured_on": "2025-12-30",
    "received_on": "2026-01-04",
    "donor_patient_id": "",
    "units": "G123498654321H 5000000 2026-06-30 2.0 2.0\n\nA999916123456Q 5e6 2026-06-30",
}


def test_registering_a_lot_saves_it_with_its_units_in_quarantine(lab, session):
    response = lab.post(
        "/lab/lots/new",
        data={**LOT, "csrf_token": form_csrf(lab, "/lab/lots/new", "/lab/lots/new")},
    )

    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/lab?done=")
    lot = session.scalars(sa.select(ProductLot).where(ProductLot.lot_code == "LOT-77")).one()
    units = session.scalars(sa.select(ProductUnit).where(ProductUnit.lot_id == lot.id)).all()
    assert sorted(unit.din for unit in units) == ["A999916123456", "G123498654321"]
    assert {unit.status for unit in units} == {UnitStatus.QUARANTINE}
    assert {unit.volume_ml for unit in units} == {2.0, None}


def test_a_unit_line_that_does_not_read_is_shown_by_line_with_everything_kept(lab, session):
    units = "G123498654321H 5000000 2026-06-30\nA999916123456Q many 2026-06-30"
    data = {**LOT, "units": units, "csrf_token": form_csrf(lab, "/lab/lots/new", "/lab/lots/new")}

    response = lab.post("/lab/lots/new", data=data)

    assert response.status_code == 422
    assert "line 2: cells must be a number, got &#39;many&#39;" in field_error(
        response.text, "units"
    )
    assert f">{units}</textarea>" in response.text
    assert 'value="LOT-77"' in response.text
    assert selected(response.text, "xenogeneic")
    assert (
        session.scalars(sa.select(ProductLot).where(ProductLot.lot_code == "LOT-77")).first()
        is None
    )


def test_the_services_problems_go_next_to_their_fields_units_by_line(lab):
    units = "G123498654321H 5000000 2026-06-30\nA999916123456X 5000000 2026-06-30"
    data = {**LOT, "units": units, "manufactured_on": "2026-02-01", "received_on": "2026-01-04",
            "csrf_token": form_csrf(lab, "/lab/lots/new", "/lab/lots/new")}  # fmt: skip

    response = lab.post("/lab/lots/new", data=data)

    assert response.status_code == 422
    assert "line 2: unit id: check character" in field_error(response.text, "units")
    assert "is in the future" in field_error(response.text, "manufactured_on")
    assert 'value="2026-02-01"' in response.text


def test_an_autologous_lot_needs_its_donor(lab):
    data = {
        **LOT,
        "source": "autologous",
        "csrf_token": form_csrf(lab, "/lab/lots/new", "/lab/lots/new"),
    }

    response = lab.post("/lab/lots/new", data=data)

    assert response.status_code == 422
    assert "required for an autologous lot" in field_error(response.text, "donor_patient_id")


def test_only_the_cell_lab_registers_lots(nurse, session):
    response = nurse.post("/lab/lots/new", data={**LOT, "csrf_token": csrf(nurse)})

    assert response.status_code == 403
    assert (
        session.scalars(sa.select(ProductLot).where(ProductLot.lot_code == "LOT-77")).first()
        is None
    )


# ---------------------------------------------------------------- a unit's page


def test_the_unit_page_shows_the_unit_its_tests_and_custody(lab, c):
    unit = released_units(c, 1)[0]

    page = lab.get(f"/lab/units/{unit.id}")

    assert page.status_code == 200, page.text
    assert f"Unit {unit.din}" in page.text
    assert "viability" in page.text
    assert "92.0" in page.text
    assert "received" in page.text  # the custody log
    assert '<label for="f-protocol_id">' in page.text


def test_other_roles_see_a_unit_without_the_cell_labs_forms(nurse, c):
    unit = released_units(c, 1)[0]

    page = nurse.get(f"/lab/units/{unit.id}")

    assert page.status_code == 200
    assert "Release the unit" not in page.text
    assert f'action="/lab/units/{unit.id}/tests"' not in page.text


def test_a_cell_lab_user_of_another_site_cannot_open_this_sites_units(app, session, c):
    unit = released_units(c, 1)[0]
    stranger = browser(app, session, make_user(session, Role.CELL_LAB, site=make_site(session)))

    page = stranger.get(f"/lab/units/{unit.id}")
    post = stranger.post(
        f"/lab/units/{unit.id}/custody",
        data={"kind": "stored", "location": "Freezer 2", "csrf_token": csrf(stranger)},
    )

    assert page.status_code == 403
    assert unit.din not in page.text
    assert post.status_code == 403


# ---------------------------------------------------------------- release tests


def test_recording_a_release_test(lab, c, session):
    unit = quarantined_unit(c)
    data = {"test": "viability", "result": "pass", "value": "88", "tested_on": "2026-01-04"}

    response = lab.post(
        f"/lab/units/{unit.id}/tests", data={**data, "csrf_token": unit_token(lab, unit, "tests")}
    )

    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(f"/lab/units/{unit.id}?done=")
    saved = session.scalars(sa.select(ReleaseTest).where(ReleaseTest.unit_id == unit.id)).one()
    assert (saved.test, saved.result, saved.value) == ("viability", TestResult.PASS, 88.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [("lots", "must be a number"), ("", "a passing viability result needs the measured %")],
)
def test_a_bad_release_test_is_shown_next_to_the_value(lab, c, value, message):
    unit = quarantined_unit(c)
    data = {"test": "viability", "result": "pass", "value": value, "tested_on": "2026-01-04"}

    response = lab.post(
        f"/lab/units/{unit.id}/tests", data={**data, "csrf_token": unit_token(lab, unit, "tests")}
    )

    assert response.status_code == 422
    assert message in field_error(response.text, "value")
    assert selected(response.text, "viability")
    assert selected(response.text, "pass")
    assert 'value="2026-01-04"' in response.text


def test_only_the_cell_lab_records_release_tests(nurse, c, session):
    unit = quarantined_unit(c)
    data = {"test": "sterility", "result": "pass", "tested_on": "2026-01-04"}

    response = nurse.post(f"/lab/units/{unit.id}/tests", data={**data, "csrf_token": csrf(nurse)})

    assert response.status_code == 403
    assert session.scalars(sa.select(ReleaseTest)).first() is None


# ---------------------------------------------------------------- release


def test_releasing_a_unit_against_the_protocols_criteria(lab, c, session):
    unit = quarantined_unit(c, tests=True)

    response = lab.post(
        f"/lab/units/{unit.id}/release",
        data={"protocol_id": str(c.protocol.id), "csrf_token": unit_token(lab, unit, "release")},
    )

    assert response.status_code == 303, response.text
    session.refresh(unit)
    assert unit.status is UnitStatus.RELEASED


def test_a_refused_release_lists_each_failing_test(lab, c, session):
    unit = quarantined_unit(c)
    products.record_release_test(
        session,
        unit_id=unit.id,
        test="viability",
        result=TestResult.PASS,
        value=55.0,
        tested_on=date(2026, 1, 2),
        by=c.lab,
        now=c.at(date(2026, 1, 2)),
    )

    response = lab.post(
        f"/lab/units/{unit.id}/release",
        data={"protocol_id": str(c.protocol.id), "csrf_token": unit_token(lab, unit, "release")},
    )

    assert response.status_code == 409
    refusal = response.text[response.text.index('id="refusal"') :]
    for rule in (
        "release.viability",
        "release.sterility",
        "release.gram_stain",
        "release.mycoplasma",
    ):
        assert rule in refusal
    assert selected(response.text, str(c.protocol.id))
    session.refresh(unit)
    assert unit.status is UnitStatus.QUARANTINE


def test_a_release_needs_a_protocol(lab, c):
    unit = quarantined_unit(c, tests=True)

    response = lab.post(
        f"/lab/units/{unit.id}/release",
        data={"protocol_id": "", "csrf_token": unit_token(lab, unit, "release")},
    )

    assert response.status_code == 422
    assert field_error(response.text, "protocol_id") == "required"


def test_only_the_cell_lab_releases_units(nurse, c, session):
    unit = quarantined_unit(c, tests=True)

    response = nurse.post(
        f"/lab/units/{unit.id}/release",
        data={"protocol_id": str(c.protocol.id), "csrf_token": csrf(nurse)},
    )

    assert response.status_code == 403
    session.refresh(unit)
    assert unit.status is UnitStatus.QUARANTINE


# ---------------------------------------------------------------- reject, discard, return


def test_rejecting_a_quarantined_unit_with_a_reason(lab, c, session):
    unit = quarantined_unit(c)

    response = lab.post(
        f"/lab/units/{unit.id}/disposition",
        data={
            "disposition": "reject",
            "reason": "viability 55 %",
            "csrf_token": unit_token(lab, unit, "disposition"),
        },
    )

    assert response.status_code == 303, response.text
    session.refresh(unit)
    assert unit.status is UnitStatus.REJECTED


def test_returning_a_dispensed_unit(lab, c, session):
    patient, _ = enrolled_in_treatment(c)
    unit = dispensed(c, released_units(c, 1)[0], patient, day(0))

    response = lab.post(
        f"/lab/units/{unit.id}/disposition",
        data={
            "disposition": "return",
            "reason": "dose postponed",
            "csrf_token": unit_token(lab, unit, "disposition"),
        },
    )

    assert response.status_code == 303, response.text
    session.refresh(unit)
    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.RELEASED, None)


def test_a_disposition_without_a_reason_is_refused_next_to_the_reason(lab, c, session):
    unit = quarantined_unit(c)

    response = lab.post(
        f"/lab/units/{unit.id}/disposition",
        data={
            "disposition": "discard",
            "reason": " ",
            "csrf_token": unit_token(lab, unit, "disposition"),
        },
    )

    assert response.status_code == 422
    assert field_error(response.text, "reason") == "required: say why"
    assert selected(response.text, "discard")
    session.refresh(unit)
    assert unit.status is UnitStatus.QUARANTINE


def test_only_the_cell_lab_discards_units(nurse, c, session):
    unit = quarantined_unit(c)

    response = nurse.post(
        f"/lab/units/{unit.id}/disposition",
        data={"disposition": "discard", "reason": "dropped", "csrf_token": csrf(nurse)},
    )

    assert response.status_code == 403
    session.refresh(unit)
    assert unit.status is UnitStatus.QUARANTINE


# ---------------------------------------------------------------- custody


def test_recording_where_a_unit_is_stored(lab, c, session):
    unit = quarantined_unit(c)

    response = lab.post(
        f"/lab/units/{unit.id}/custody",
        data={
            "kind": "stored",
            "location": "LN2 tank 2, rack B",
            "csrf_token": unit_token(lab, unit, "custody"),
        },
    )

    assert response.status_code == 303, response.text
    steps = session.scalars(sa.select(CustodyEvent).where(CustodyEvent.unit_id == unit.id)).all()
    assert [(step.kind, step.location) for step in steps][-1] == (
        CustodyKind.STORED,
        "LN2 tank 2, rack B",
    )


def test_a_custody_step_needs_a_location(lab, c):
    unit = quarantined_unit(c)

    response = lab.post(
        f"/lab/units/{unit.id}/custody",
        data={
            "kind": "thawed",
            "location": "",
            "notes": "water bath",
            "csrf_token": unit_token(lab, unit, "custody"),
        },
    )

    assert response.status_code == 422
    assert "say where the unit is" in field_error(response.text, "location")
    assert selected(response.text, "thawed")
    assert 'value="water bath"' in response.text


def test_only_the_cell_lab_records_custody(nurse, c):
    unit = quarantined_unit(c)

    response = nurse.post(
        f"/lab/units/{unit.id}/custody",
        data={"kind": "stored", "location": "Freezer 2", "csrf_token": csrf(nurse)},
    )

    assert response.status_code == 403


# ---------------------------------------------------------------- dispensing


def test_dispensing_a_released_unit_to_a_patient_in_treatment(lab, c, session):
    patient, _ = enrolled_in_treatment(c)
    unit = released_units(c, 1)[0]
    page = lab.get(f"/lab/units/{unit.id}")

    response = lab.post(
        f"/lab/units/{unit.id}/dispense",
        data={"patient_id": str(patient.id), "csrf_token": unit_token(lab, unit, "dispense")},
    )

    assert f'<option value="{patient.id}" >AMS-001 (in treatment)</option>' in page.text
    assert response.status_code == 303, response.text
    session.refresh(unit)
    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.DISPENSED, patient.id)


def test_dispensing_a_quarantined_unit_is_refused_with_the_rule(lab, c, session):
    patient, _ = enrolled_in_treatment(c)
    unit = quarantined_unit(c)

    response = lab.post(
        f"/lab/units/{unit.id}/dispense",
        data={"patient_id": str(patient.id), "csrf_token": unit_token(lab, unit, "dispense")},
    )

    assert response.status_code == 409
    assert "unit.not_released" in response.text[response.text.index('id="refusal"') :]
    assert selected(response.text, str(patient.id))


def test_dispensing_needs_a_patient(lab, c):
    unit = released_units(c, 1)[0]

    response = lab.post(
        f"/lab/units/{unit.id}/dispense",
        data={"patient_id": "", "csrf_token": unit_token(lab, unit, "dispense")},
    )

    assert response.status_code == 422
    assert field_error(response.text, "patient_id") == "required"


def test_only_the_cell_lab_dispenses(nurse, c, session):
    patient, _ = enrolled_in_treatment(c)
    unit = released_units(c, 1)[0]

    response = nurse.post(
        f"/lab/units/{unit.id}/dispense",
        data={"patient_id": str(patient.id), "csrf_token": csrf(nurse)},
    )

    assert response.status_code == 403
    session.refresh(unit)
    assert unit.status is UnitStatus.RELEASED
