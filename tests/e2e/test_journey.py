"""A new patient's whole program, entered through the pages in Chromium by the clinic team.

A physician registers and diagnoses the patient and takes consent; a nurse rates ALSFRS-R and records
the baseline measurements; the physician screens, enrolls and starts treatment; the cell lab dispenses
four released units; the physician gives four implantations, one of them first refused because the
unit scanned was never released; a nurse records an IV session, an adverse event and the 6-month
follow-up. The patient page then shows the calendar, the chart and the counts.

The server runs on the real clock, so the program is entered retrospectively: day 0 is Monday
2 March 2026 and every date typed lies in the past (the units expire in 2030).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from alscell.domain.months import DAYS_PER_MONTH
from tests.e2e.conftest import QUARANTINED, RELEASED, screenshot, sign_in

pytestmark = pytest.mark.e2e

START = date(2026, 3, 2)  # day 0
BIRTH = date(1961, 8, 30)
CODE = "AMS-101"
IMPLANTATIONS = [
    START + timedelta(days=d) for d in (10, 17, 24, 31)
]  # the seed program, clinical days
EXCLUSIONS = (
    "pregnancy",
    "tracheostomy",
    "active_infection",
    "malignancy",
    "other_neurological_disease",
)
# Baseline items (total 40); the 6-month follow-up loses 3 points (total 37).
BASELINE = {
    "q1": 4,
    "q2": 4,
    "q3": 3,
    "q4": 3,
    "q5a": 3,
    "q6": 3,
    "q7": 3,
    "q8": 3,
    "q9": 3,
    "q10": 3,
    "q11": 4,
    "q12": 4,
}
MONTH_6 = BASELINE | {"q4": 2, "q6": 2, "q8": 2}


def switch_to(page: Page, server: str, username: str) -> None:
    """Sign out, then sign in as someone else."""
    submit(page, "Sign out")
    expect(page).to_have_url(re.compile("/login"))
    sign_in(page, server, username)


def submit(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).click()


def fill_date(page: Page, name: str, day: date) -> None:
    page.locator(f"#f-{name}").fill(day.isoformat())


def answer_no(page: Page, prefix: str) -> None:
    """Every yes/no question whose name starts with ``prefix`` answered no."""
    for radio in page.locator(f'input[type="radio"][name^="{prefix}"][value="no"]').all():
        radio.check()


def select_containing(page: Page, name: str, text: str) -> None:
    """Choose the one option of select ``name`` whose label contains ``text``."""
    labels = [
        label for label in page.locator(f"#f-{name} option").all_inner_texts() if text in label
    ]
    assert len(labels) == 1, (name, text, labels)
    page.locator(f"#f-{name}").select_option(label=labels[0])


def expect_done(page: Page, text: str) -> None:
    expect(page.get_by_role("status")).to_contain_text(text)


def rate(page: Page, patient_url: str, on: date, items: dict[str, int]) -> None:
    page.goto(f"{patient_url}/alsfrs")
    fill_date(page, "rated_on", on)
    for key, score in items.items():
        page.locator(f'input[name="{key}"][value="{score}"]').check()
    live_total = f"{sum(items.values())} / 48"  # computed in the page as the items are ticked
    expect(page.locator("#total-all")).to_have_text(live_total)
    submit(page, "Save rating")
    expect(page).to_have_url(re.compile(re.escape(patient_url)))


def bedside_checks(page: Page) -> None:
    page.locator("#f-platelets").fill("210")
    page.locator("#f-inr").fill("1.0")
    page.get_by_label("Anticoagulant and antiplatelet medication reviewed").check()
    answer_no(page, "ci_")


def test_a_new_patient_from_registration_to_the_6_month_follow_up(page: Page, server: str) -> None:
    # ---- the physician registers the patient, records the diagnosis and consent
    sign_in(page, server, "dr-lee")
    page.goto(f"{server}/patients/new")
    page.get_by_label("Study code").fill(CODE)
    page.get_by_label("Given name").fill("Robin")
    page.get_by_label("Family name").fill("Vermeer")
    fill_date(page, "birth_on", BIRTH)
    page.get_by_label("Sex").select_option("male")
    screenshot(page, "register-patient")
    submit(page, "Register patient")
    expect(page.get_by_role("heading", level=1)).to_contain_text(CODE)
    patient_url = page.url.split("?")[0]

    page.goto(f"{patient_url}/diagnosis")
    fill_date(page, "onset_on", date(2025, 6, 10))
    fill_date(page, "diagnosis_on", date(2026, 1, 20))
    page.locator("#f-onset_site").select_option("spinal")
    page.locator("#f-el_escorial").select_option("probable")
    submit(page, "Save diagnosis")
    expect_done(page, "iagnosis")

    page.goto(f"{patient_url}/consent")
    page.get_by_label("Form version").fill("v2")
    fill_date(page, "consented_on", date(2026, 2, 2))
    submit(page, "Record consent")
    expect_done(page, "onsent")

    # ---- the nurse rates ALSFRS-R twice before treatment and records the baseline measurements
    switch_to(page, server, "nina")
    rate(page, patient_url, date(2026, 1, 20), BASELINE | {"q3": 4, "q10": 4})  # 42 at diagnosis
    rate(
        page, patient_url, date(2026, 2, 20), BASELINE
    )  # 40: the baseline, last before the first dose
    page.goto(f"{patient_url}/measurements")
    fill_date(page, "measured_on", date(2026, 2, 20))
    page.locator("#f-vc_percent").fill("84")
    page.locator("#f-weight_kg").fill("71.5")
    page.locator("#f-lab_platelets").fill("210")
    page.locator("#f-lab_inr").fill("1.0")
    submit(page, "Save measurements")
    expect_done(page, "Recorded 4 measurement")

    # ---- the physician screens, enrolls and starts treatment on day 0
    switch_to(page, server, "dr-lee")
    page.goto(f"{patient_url}/screening")
    fill_date(page, "screened_on", date(2026, 2, 23))
    answer_no(page, "exclusion_")
    bedside_checks(page)
    submit(page, "Evaluate eligibility")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Eligibility")
    expect(page.get_by_role("heading", name=re.compile("Result"))).to_have_text("Result: eligible")
    screenshot(page, "screening-result")

    page.goto(f"{patient_url}/enroll")
    fill_date(page, "enrolled_on", date(2026, 2, 24))
    submit(page, "Enroll")
    page.goto(f"{patient_url}/enroll")
    fill_date(page, "start_on", START)
    submit(page, "Start treatment")
    expect_done(page, "")

    # ---- the cell lab dispenses the four released units to the patient
    switch_to(page, server, "lab")
    for uid in RELEASED:
        page.goto(f"{server}/lab")
        page.get_by_role("link", name=uid[:-1], exact=True).click()
        select_containing(page, "patient_id", CODE)
        submit(page, "Dispense")
        expect(page.locator("main")).to_contain_text("dispensed")
    screenshot(page, "lab-unit")
    page.goto(f"{server}/lab")
    screenshot(page, "lab")

    # ---- the physician gives four implantations; a unit never released is refused first
    switch_to(page, server, "dr-lee")
    page.goto(patient_url)
    dose_url = page.get_by_role("link", name="Lumbar puncture").get_attribute("href")
    assert dose_url is not None
    for number, (uid, given_on) in enumerate(zip(RELEASED, IMPLANTATIONS, strict=True), start=1):
        page.goto(f"{server}{dose_url}")
        if number == 2:
            page.get_by_label("Or scan or type the unit id").fill(QUARANTINED)
            fill_dose(page, given_on)
            submit(page, "Record lumbar puncture")
            expect(page.get_by_role("heading", name=re.compile("Blocked"))).to_be_visible()
            expect(page.locator(".block-rules")).to_contain_text("not released")
            screenshot(page, "dose-blocked")
            page.get_by_label("Or scan or type the unit id").fill("")
        page.locator("#f-unit_id").select_option(uid)
        fill_dose(page, given_on)
        submit(page, "Record lumbar puncture")
        expect(page).to_have_url(re.compile(re.escape(patient_url)))

    # ---- the nurse records an IV session, an adverse event and the 6-month follow-up
    switch_to(page, server, "nina")
    page.goto(patient_url)
    page.get_by_role("link", name="IV, medication, rehabilitation").click()
    page.locator("#f-activity_id").select_option("iv-neurotrophic")
    fill_date(page, "given_on", START + timedelta(days=7))
    page.locator("#f-drug").fill("neurotrophic factors")
    submit(page, "Record")
    expect(page).to_have_url(re.compile(re.escape(patient_url)))

    page.goto(f"{patient_url}/adverse-events/new")
    page.get_by_label("Event (MedDRA term)").fill("Post-lumbar puncture headache")
    fill_date(page, "onset_on", IMPLANTATIONS[0] + timedelta(days=1))
    fill_date(page, "aware_on", IMPLANTATIONS[0] + timedelta(days=1))
    page.locator('input[name="ctcae_grade"][value="2"]').check()
    page.locator("#f-causality_procedure").select_option("probable")
    page.locator("#f-causality_product").select_option("unlikely")
    page.locator("#f-causality_drug").select_option("unrelated")
    submit(page, "Record adverse event")
    expect(page).to_have_url(re.compile(re.escape(patient_url)))

    month_6 = IMPLANTATIONS[-1] + timedelta(
        days=round(6 * DAYS_PER_MONTH)
    )  # anchored on the last implantation
    rate(page, patient_url, month_6, MONTH_6)
    page.get_by_role("link", name="Visit or examination").click()
    select_containing(page, "activity", "Follow-up month 6")
    page.locator('input[name="outcome"][value="done"]').check()
    fill_date(page, "on", month_6)
    submit(page, "Save")
    expect(page).to_have_url(re.compile(re.escape(patient_url)))

    # ---- the patient page: calendar, chart and counts
    screenshot(page, "patient")
    calendar = page.locator("section", has=page.get_by_role("heading", name="Treatment calendar"))
    for number, given_on in enumerate(IMPLANTATIONS, start=1):
        row = calendar.locator("tr", has_text=f"implantation {number}/4")
        expect(row).to_contain_text(given_on.isoformat())
        expect(row).to_contain_text("done")
    expect(calendar.get_by_role("row", name=re.compile("Follow-up month 6"))).to_contain_text(
        month_6.isoformat()
    )
    iv = calendar.get_by_role("row", name=re.compile("IV neurotrophic factors"))
    expect(iv.get_by_role("cell").nth(1)).to_have_text("1")  # done
    expect(
        page.get_by_role("heading", name="Administrations (5)")
    ).to_be_visible()  # 4 doses + 1 IV
    expect(page.get_by_role("heading", name="Adverse events (1)")).to_be_visible()
    chart = page.get_by_role(
        "img", name=re.compile("ALSFRS-R total over time, treatment period shaded")
    )
    expect(chart.locator("svg")).to_have_count(1)
    summary = page.locator("section", has=page.get_by_role("heading", name="Summary"))
    expect(summary).to_contain_text(f"37 / 48 on {month_6.isoformat()}")

    # ---- a nurse may not run the outcome evaluation: refused on a page that keeps her navigation
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Results")
    ).to_have_count(0)
    page.goto(f"{server}/results")
    expect(page.locator("main")).to_contain_text("nina may not run evaluation")
    expect(page.get_by_text("Nina · nurse")).to_be_visible()

    # ---- the results count the patient as worsened (40 -> 37), after what a single arm cannot show
    switch_to(page, server, "dr-lee")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Results").click()
    page.get_by_role("link", name=re.compile("als-nsc-4lp")).first.click()
    statement = page.get_by_role("note")
    expect(statement).to_contain_text("single-arm series")
    expect(statement).to_contain_text("cannot show whether the treatment works")
    patient_row = page.get_by_role("row", name=re.compile(CODE))
    expect(patient_row).to_contain_text("worsened")
    expect(patient_row).to_contain_text("-3")
    screenshot(page, "results")


def fill_dose(page: Page, given_on: date) -> None:
    page.get_by_label("Dose (cells)").fill("5000000")
    fill_date(page, "given_on", given_on)
    page.get_by_label("Study code").fill(CODE)
    fill_date(page, "birth_on", BIRTH)
    bedside_checks(page)


def test_the_main_pages_as_each_role_sees_them(page: Page, server: str) -> None:
    """Today, the patient list and the admin pages, each signed in as who uses it."""
    sign_in(page, server, "dr-lee")
    page.goto(f"{server}/patients")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Patients")
    screenshot(page, "patients")
    page.goto(f"{server}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    screenshot(page, "today-physician")

    switch_to(page, server, "ada")
    page.goto(f"{server}/admin")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Administration")
    screenshot(page, "admin")
