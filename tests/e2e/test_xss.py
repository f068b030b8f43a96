"""Script in what users type never runs: every page that can show free text, visited in Chromium.

A patient is registered with names (and a record number) that are markup meant to run script, and the
same kind of text is entered in every free-text field a user can fill: a site's name, a user's full
name, the genetics note of a diagnosis, the consent form version, an adverse event's term, a care
session's notes, a skipped visit's reason, a lot code and a custody note. Then every page of the app
(the list is read from the app's routes) is opened by the user who may see it, with every dialog the
page opens recorded. None may open, no injected element may exist, and the text must be shown as typed.
A form shown again after a mistake must keep what was typed, as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Dialog, Page, expect

from alscell.domain.access import Role
from alscell.domain.adverse_events import Causality
from alscell.domain.safety import ABSOLUTE_CONTRAINDICATIONS, PrePunctureFacts
from alscell.services import admin, assessments, dosing, enrollment, patients, products, safety
from alscell.storage.models import ProductUnit, ProtocolVersion, Screening, Site, User
from alscell.storage.models.product import CustodyKind
from alscell.storage.session import make_engine, make_session_factory
from tests.e2e.conftest import PASSWORD, UNIT_EXPIRY, seed_clinic, sign_in
from tests.server import serve
from tests.web.pages import page_routes

pytestmark = pytest.mark.e2e

PAYLOADS = {
    "given name": "<script>alert(1)</script>",
    "family name": '"><img src=x onerror=alert(2)>',
    "record number": "'><svg onload=alert(3)>",
    "site name": "<img src=x onerror=alert(4)>",
    "user's full name": "<script>alert(5)</script>",
    "genetics note": "</textarea><script>alert(6)</script>",
    "consent form version": '"><svg onload=alert(7)>',
    "adverse event term": "<iframe src=javascript:alert(8)>",
    "care notes": "</script><script>alert(9)</script>",
    "skip reason": "<body onload=alert(10)>",
    "lot code": '"><script>alert(11)</script>',
    "custody note": "<a href=javascript:alert(12)>x</a>",
}
SHOWN = set(PAYLOADS) - {"record number", "consent form version", "care notes"}
"""Fields some page shows: a record number, a consent's form version and a care session's notes are
shown on none, and a patient's names only in the identified program report."""
WHO = {"/lab": "lab", "/admin": "ada"}  # everything else is opened by the physician
CODE = "AMS-666"
BIRTH = date(1960, 6, 15)
DAY = date(2026, 2, 20)
INJECTED = "img[src='x'], svg[onload], iframe, body[onload], script:not([src])"


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


@dataclass(frozen=True)
class Staff:
    admin: User
    physician: User
    nurse: User
    coordinator: User
    lab: User
    site: Site


def _staff(session: Any) -> Staff:
    users = {user.username: user for user in session.execute(sa.select(User)).scalars()}
    site = session.execute(sa.select(Site).where(Site.code == "AMS")).scalar_one()
    return Staff(users["ada"], users["dr-lee"], users["nina"], users["coco"], users["lab"], site)


def _register(session: Any, s: Staff, protocol_id: int) -> dict[str, int]:
    p = PAYLOADS
    patient = patients.register_patient(
        session, study_code=CODE, site_id=s.site.id, given_name=p["given name"], family_name=p["family name"],
        birth_on=BIRTH, sex="male", mrn=p["record number"], by=s.coordinator, now=_at(DAY),
    )  # fmt: skip
    diagnosis = patients.DiagnosisInput(onset_on=date(2025, 6, 10), onset_site="spinal", diagnosis_on=date(2026, 1, 20),
                                        familial=False, el_escorial="probable", other_genetics=p["genetics note"])  # fmt: skip
    patients.record_diagnosis(
        session, patient_id=patient.id, diagnosis=diagnosis, by=s.physician, now=_at(DAY)
    )
    patients.record_consent(session, patient_id=patient.id, form_version=p["consent form version"], consented_on=DAY,
                            by=s.coordinator, now=_at(DAY))  # fmt: skip
    items = dict.fromkeys(
        ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 3
    )
    assessments.record_alsfrs_rating(session, patient_id=patient.id, rated_on=DAY, items=items, by=s.nurse,
                                     now=_at(DAY))  # fmt: skip
    assessments.record_vital_capacity(session, patient_id=patient.id, measured_on=DAY, percent_predicted=85,
                                      by=s.nurse, now=_at(DAY))  # fmt: skip
    assessments.record_weight(
        session, patient_id=patient.id, measured_on=DAY, weight_kg=70, by=s.nurse, now=_at(DAY)
    )
    for analyte, value in (("platelets", 210.0), ("inr", 1.0)):
        assessments.record_lab_result(session, patient_id=patient.id, collected_on=DAY, analyte=analyte, value=value,
                                      by=s.nurse, now=_at(DAY))  # fmt: skip
    facts = PrePunctureFacts(anticoagulants_reviewed=True, findings=dict.fromkeys(
        (*ABSOLUTE_CONTRAINDICATIONS, "cardiorespiratory_insufficiency"), False))  # fmt: skip
    exclusions = dict.fromkeys(("pregnancy", "tracheostomy", "active_infection", "malignancy",
                                "other_neurological_disease"), False)  # fmt: skip
    screening = enrollment.screen_patient(session, patient_id=patient.id, protocol_id=protocol_id, screened_on=DAY,
                                          exclusions=exclusions, pre_puncture=facts, by=s.physician, now=_at(DAY))  # fmt: skip
    e = enrollment.enroll(session, patient_id=patient.id, protocol_id=protocol_id, enrolled_on=date(2026, 2, 22),
                          by=s.physician, now=_at(date(2026, 2, 22)))  # fmt: skip
    start = date(2026, 3, 2)
    enrollment.start_treatment(
        session, enrollment_id=e.id, start_on=start, by=s.physician, now=_at(start)
    )
    dosing.record_care(session, enrollment_id=e.id, activity_id="iv-neurotrophic", given_on=start,
                       notes=p["care notes"], by=s.nurse, now=_at(start))  # fmt: skip
    enrollment.skip_activity(session, enrollment_id=e.id, activity_id="physiotherapy", occurrence=1,
                             reason=p["skip reason"], by=s.nurse, now=_at(start))  # fmt: skip
    safety.record_adverse_event(
        session, patient_id=patient.id, term=p["adverse event term"], onset_on=start, ctcae_grade=1, serious=False,
        seriousness=[], expected=True, causality_procedure=Causality.POSSIBLE, causality_product=Causality.UNLIKELY,
        causality_drug=Causality.UNRELATED, aware_on=start, by=s.nurse, now=_at(start),
    )  # fmt: skip
    return {"patient_id": patient.id, "enrollment_id": e.id, "screening_id": screening.id}


def _stock(session: Any, s: Staff) -> int:
    """A second lot, its code and custody note the payloads; the id of its unit."""
    lot = products.register_lot(
        session, lot_code=PAYLOADS["lot code"], site_id=s.site.id, product_name="NSC", source="xenogeneic",
        cell_type="neural stem cells", manufactured_on=date(2026, 2, 20), received_on=date(2026, 2, 25),
        units=[products.UnitInput(unit_id="A999914123457L", cells=5e6, volume_ml=2.0, endotoxin_eu=2.0,
                                  expires_on=UNIT_EXPIRY)],
        by=s.lab, now=_at(date(2026, 2, 25)),
    )  # fmt: skip
    unit = session.execute(sa.select(ProductUnit).where(ProductUnit.lot_id == lot.id)).scalar_one()
    products.record_custody(session, unit_id=unit.id, kind=CustodyKind.STORED, location="freezer 2",
                            notes=PAYLOADS["custody note"], by=s.lab, now=_at(date(2026, 2, 25)))  # fmt: skip
    return int(unit.id)


def _seed_payloads(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        s = _staff(session)
        admin.create_site(session, code="XSS", name=PAYLOADS["site name"], by=s.admin, now=_at(DAY))
        admin.create_user(session, username="xss-nurse", full_name=PAYLOADS["user's full name"], role=Role.NURSE,
                          site_id=s.site.id, by=s.admin, now=_at(DAY), password=PASSWORD)  # fmt: skip
        protocol = session.execute(sa.select(ProtocolVersion)).scalar_one()
        ids = {
            "protocol_id": protocol.id,
            **_register(session, s, protocol.id),
            "unit_id": _stock(session, s),
        }
        assert session.execute(
            sa.select(Screening.id).where(Screening.id == ids["screening_id"])
        ).scalar_one()
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def payload_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, int]]]:
    """A server of its own: the e2e clinic plus the payloads; its base URL and the records' ids."""
    url = f"sqlite:///{tmp_path_factory.mktemp('xss') / 'clinic.sqlite3'}"
    seed_clinic(url)
    ids = _seed_payloads(url)
    with serve(url) as base:
        yield base, ids


def page_paths(ids: dict[str, int]) -> list[str]:
    """Every page the app serves to GET, with the seeded records' ids."""

    paths = [
        route.path
        for route in page_routes()
        if "GET" in (route.methods or set()) and route.path != "/login"
    ]
    return [re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path) for path in paths]


def _shown_text(page: Page) -> str:
    """What the page shows: its text and the values of its form fields."""
    values: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('input, textarea, select')].map(e => e.value)"
    )
    return page.locator("body").inner_text() + "\n" + "\n".join(values)


def _user_for(path: str) -> str:
    return next((user for prefix, user in WHO.items() if path.startswith(prefix)), "dr-lee")


def test_no_payload_runs_on_any_page_and_each_is_shown_as_typed(
    browser, payload_server, figures, tmp_path
):
    base, ids = payload_server
    paths = page_paths(ids)
    dialogs: list[tuple[str, str]] = []
    shown: dict[str, set[str]] = {name: set() for name in PAYLOADS}
    injected: list[tuple[str, int]] = []
    pages: dict[str, Page] = {}
    at = {"path": ""}  # the page being opened, for the record of any dialog

    for path in sorted(paths, key=_user_for):
        user = _user_for(path)
        if user not in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(10_000)
            pages[user] = context.new_page()
            pages[user].on("dialog", lambda dialog: _dismissed(dialogs, dialog, at["path"]))
            sign_in(pages[user], base, user)
        page, at["path"] = pages[user], path
        if path.endswith(".pdf"):
            assert page.request.get(f"{base}{path}").ok, path  # a download, not a page
            continue
        response = page.goto(f"{base}{path}")
        assert response is not None
        assert response.status < 500, (path, response.status)
        count = page.locator(INJECTED).count()
        if count:
            injected.append((path, count))
        text = _shown_text(page)
        for name, payload in PAYLOADS.items():
            if payload in text:
                shown[name].add(path)
    for page in pages.values():
        page.context.close()

    figures.add("pages visited", len(paths))
    figures.add("payloads", len(PAYLOADS))
    figures.add("payloads shown as text", sum(1 for where in shown.values() if where))
    figures.add("dialogs", len(dialogs))
    assert dialogs == []
    assert injected == []
    assert {name for name, where in shown.items() if where} == SHOWN, shown
    assert f"/patients/{ids['patient_id']}" in shown["adverse event term"]


def _dismissed(dialogs: list[tuple[str, str]], dialog: Dialog, path: str) -> None:
    dialogs.append((path, dialog.message))
    dialog.dismiss()


def test_a_form_shown_again_keeps_what_was_typed_as_text(page, payload_server, figures):
    base, _ = payload_server
    dialogs: list[tuple[str, str]] = []
    page.on("dialog", lambda dialog: _dismissed(dialogs, dialog, "/patients/new"))
    sign_in(page, base, "dr-lee")
    page.goto(f"{base}/patients/new")
    page.get_by_label("Study code").fill("not a code")
    page.get_by_label("Given name").fill(PAYLOADS["given name"])
    page.get_by_label("Family name").fill(PAYLOADS["family name"])
    page.locator("#f-birth_on").fill(BIRTH.isoformat())
    page.get_by_role("button", name="Register patient").click()

    expect(page.get_by_label("Given name")).to_have_value(PAYLOADS["given name"])
    expect(page.get_by_label("Family name")).to_have_value(PAYLOADS["family name"])
    assert page.locator(INJECTED).count() == 0
    figures.add("dialogs", len(dialogs))
    assert dialogs == []
