"""The results page (web/pages/results.py): the outcome evaluation, its statement before its numbers.

A cohort of five patients on the seed program (improved at +1 or more, worsened at -1 or less), each
given one implantation on day 10 (2026-01-15), so the 6-month time point is 2026-07-17 (± 14 days):
one declined 4 points, one unchanged, one improved 1 point, one died on 2026-04-01 and one was never
rated at the time point (and had the undispensed-unit block overridden). The app's clock is set after
the window has closed. The statistics are tested in tests/domain/test_evaluation.py; here, the page.

The standard analyses are rendered after the patients: every number is checked against the
Evaluation that evaluate_program returns for the same records, formatted here independently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from markupsafe import escape
from sqlalchemy.orm import Session

from alscell import __version__
from alscell.domain.access import Role
from alscell.domain.adverse_events import Causality
from alscell.domain.evaluation import Evaluation
from alscell.domain.stats.safety_rates import Category as SafetyCategory
from alscell.domain.stats.safety_rates import Proportion, RateKind
from alscell.services import assessments, dosing, outcomes, protocols, safety
from alscell.services.dosing import Override
from alscell.services.evaluation import DEFAULT_SEED, evaluate_program
from alscell.storage.models import Administration, Patient, Site
from tests.factories import make_site, make_user
from tests.services.scenario import (
    NORMAL_ITEMS,
    UNIT_IDS,
    Clinic,
    clear_bedside,
    clinic,
    day,
    dispensed,
    enrolled_in_treatment,
    released_units,
)
from tests.web.conftest import set_clock
from tests.web.pages import browser

AFTER_THE_WINDOW = datetime(2026, 8, 15, 9, 30, tzinfo=UTC)  # the window closed on 2026-07-31
SIX_MONTHS = date(2026, 7, 17)  # day 10 + round(6 × 30.4375) days
DIED_ON = date(2026, 4, 1)
AT_TIME_POINT = {
    "AMS-001": {**NORMAL_ITEMS, "q1": 3, "q4": 2, "q6": 3, "q8": 2},  # 42: from 46, -4
    "AMS-002": {**NORMAL_ITEMS, "q4": 3, "q8": 3},  # 46: unchanged
    "AMS-003": {**NORMAL_ITEMS, "q8": 3},  # 47: +1
}
CODES = ("AMS-001", "AMS-002", "AMS-003", "AMS-004", "AMS-005")
BANNED = re.compile(r"\b(effective|efficacy|success|proven|benefit)", re.IGNORECASE)
DENIALS = ("not evidence of efficacy",)
"""Caveats that deny a claim (CAFS's comparator caveat), not make one."""
THREE_MONTHS = date(
    2026, 4, 16
)  # a third rating time for the mixed model, after the death of AMS-004


@dataclass
class Cohort:
    c: Clinic
    patients: dict[str, Patient]


def build_cohort(session: Session) -> Cohort:
    """Five patients, one dose each on day 10 (AMS-005's over a block); ratings at 6 months for
    three, a death for one."""
    c = clinic(session)
    enrolled = {code: enrolled_in_treatment(c, code=code) for code in CODES}
    for unit_id, unit, code in zip(UNIT_IDS, released_units(c, count=5), CODES, strict=True):
        patient, enrollment = enrolled[code]
        override = None
        if code == "AMS-005":
            override = Override(("unit.not_dispensed",), "unit hand-carried by the lab")
        else:
            dispensed(c, unit, patient, day(10))
        dosing.record_cell_dose(session, enrollment_id=enrollment.id, unit_id=unit_id, dose_cells=5e6,
                                given_on=day(10), bedside=clear_bedside(study_code=code), override=override,
                                by=c.physician, now=c.at(day(10)))  # fmt: skip
    for code, items in AT_TIME_POINT.items():
        assessments.record_alsfrs_rating(session, patient_id=enrolled[code][0].id, rated_on=SIX_MONTHS,
                                         items=items, by=c.nurse, now=c.at(SIX_MONTHS))  # fmt: skip
    outcomes.record_outcome_event(session, patient_id=enrolled["AMS-004"][0].id, kind="death",
                                  occurred_on=DIED_ON, source="family by telephone",
                                  by=c.physician, now=c.at(date(2026, 4, 2)))  # fmt: skip
    return Cohort(c, {code: patient for code, (patient, _) in enrolled.items()})


@pytest.fixture
def cohort(app: FastAPI, session: Session) -> Cohort:
    set_clock(app, AFTER_THE_WINDOW)  # before signing in: the login session starts on this clock
    return build_cohort(session)


def results_of(
    app: FastAPI, session: Session, cohort: Cohort, role: Role, site: Site | None = None
) -> str:
    user = make_user(session, role, site=site)
    response = browser(app, session, user).get(f"/results/{cohort.c.protocol.id}")
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture
def page(app: FastAPI, session: Session, cohort: Cohort) -> str:
    response = browser(app, session, cohort.c.physician).get(f"/results/{cohort.c.protocol.id}")
    assert response.status_code == 200, response.text
    return response.text


def count(html: str, category: str) -> int:
    found = re.search(
        rf'<tr data-category="{category}"><th scope="row">[^<]+</th><td>(\d+)</td>', html
    )
    assert found, category
    return int(found.group(1))


def patient_row(html: str, code: str) -> str:
    row = re.search(rf'<tr data-patient="{code}">(.*?)</tr>', html, re.S)
    assert row, code
    return row.group(1)


def category_of(html: str, code: str) -> str:
    badge = re.search(r'<span class="badge">([^<]+)</span>', patient_row(html, code))
    return badge.group(1) if badge else ""


def change_of(html: str, code: str) -> str:
    cell = re.search(r'<td class="change">([^<]*)</td>', patient_row(html, code))
    assert cell, code
    return cell.group(1)


# ---------------------------------------------------------------- the statement first


def test_the_statement_and_biases_come_before_any_number(page, session, cohort):
    evaluation = evaluate_program(session, protocol_id=cohort.c.protocol.id, by=cohort.c.physician,
                                  today=AFTER_THE_WINDOW.date())  # fmt: skip
    statement, table = page.index('id="statement"'), page.index('<table id="cohort"')

    assert page.index(">Data cut-off") < statement
    assert len(evaluation.statement) >= 4
    assert evaluation.biases
    for sentence in (*evaluation.statement, *evaluation.biases):
        assert statement < page.index(str(escape(sentence))) < table, sentence


def test_the_page_never_claims_the_treatment_works(page):
    text = page
    for denial in DENIALS:
        text = text.replace(denial, "")

    assert BANNED.search(text) is None, BANNED.search(text)


# ---------------------------------------------------------------- numbers


def test_the_counts_per_category(page):
    counts = {
        name: count(page, name)
        for name in ("improved", "stable", "worsened", "died", "missing", "pending")
    }

    assert counts == {
        "improved": 1,
        "stable": 1,
        "worsened": 1,
        "died": 1,
        "missing": 1,
        "pending": 0,
    }
    assert 'data-category="uncategorised"' not in page
    assert "Completeness: 4 of 5 patients due have a known outcome (80%)." in page
    assert "with a safety block overridden: 1" in page
    assert "28% of patients given placebo met the same definition" in page


def test_each_patient_has_their_category_and_change(page):
    assert [category_of(page, code) for code in CODES] == [
        "worsened",
        "stable",
        "improved",
        "died",
        "missing",
    ]
    assert [change_of(page, code) for code in CODES] == ["-4", "0", "+1", "", ""]
    assert "death on 2026-04-01" in patient_row(page, "AMS-004")
    assert "not imputed" in patient_row(page, "AMS-005")
    assert "unit.not_dispensed overridden" in patient_row(page, "AMS-005")


def test_the_figure_shows_the_patients_with_a_change(page):
    figure = re.search(
        r'<figure class="chart" role="img" aria-label="([^"]+)">(.*?)</figure>', page, re.S
    )

    assert figure, "no figure"
    assert "for 3 patient(s)" in figure.group(1)
    assert figure.group(2).lstrip().startswith("<svg")
    assert "2 patient(s) without a change at the time point" in figure.group(2)


def test_the_reproducibility_line(page):
    line = re.search(r'<p id="reproducibility"[^>]*>(.*?)</p>', page, re.S)

    assert line, "no reproducibility line"
    text = line.group(1)
    assert "Data cut-off 2026-08-15" in text
    assert f"alscell {__version__}" in text
    assert "analysis plan version 1.0, locked on 2026-01-05" in text
    assert "model natural-history 1.0" in text
    assert f"seed {DEFAULT_SEED}" in text
    assert "4000 draws" in text


# ---------------------------------------------------------------- who sees what


def test_physicians_get_links_to_their_patients(page, cohort):
    for code, patient in cohort.patients.items():
        assert f'<a href="/patients/{patient.id}">{code}</a>' in patient_row(page, code)


def test_analysts_see_every_row_without_patient_links(app, session, cohort):
    text = results_of(app, session, cohort, Role.ANALYST)

    assert [category_of(text, code) for code in CODES] == [
        "worsened",
        "stable",
        "improved",
        "died",
        "missing",
    ]
    assert 'href="/patients/' not in text
    assert "Lock the analysis plan" not in text  # already locked


@pytest.mark.parametrize("role", [Role.NURSE, Role.COORDINATOR, Role.CELL_LAB])
def test_roles_that_do_not_evaluate_get_403(app, session, role):
    c = clinic(session)
    client = browser(app, session, make_user(session, role, site=c.site))

    assert client.get(f"/results/{c.protocol.id}").status_code == 403
    assert client.get("/results").status_code == 403


def test_another_sites_physician_sees_none_of_these_patients(app, session, cohort):
    text = results_of(app, session, cohort, Role.PHYSICIAN, site=make_site(session, code="ROM"))

    assert not any(code in text for code in CODES)
    assert count(text, "improved") == 0
    assert '<figure class="chart"' not in text
    assert "No patient enrolled in this protocol version at your site." in text


def test_the_results_index_links_each_protocol_version(app, session, cohort):
    response = browser(app, session, cohort.c.physician).get("/results")

    assert response.status_code == 200
    assert f'href="/results/{cohort.c.protocol.id}"' in response.text


# ---------------------------------------------------------------- the analysis plan


def test_every_amendment_is_shown_and_applied(app, session, cohort):
    analyst = make_user(session, Role.ANALYST)
    protocols.amend_analysis_plan(session, protocol_id=cohort.c.protocol.id,
                                  changes={"version": "1.1", "improved_min_change": 2},
                                  reason="the site's minimal important change", by=analyst,
                                  now=AFTER_THE_WINDOW)  # fmt: skip
    client = browser(app, session, analyst)

    text = client.get(f"/results/{cohort.c.protocol.id}").text

    assert "Analysis plan version 1.1" in text
    assert "the site&#39;s minimal important change" in text
    assert "improved_min_change 1.0 → 2.0" in text
    assert category_of(text, "AMS-003") == "stable"


def test_analysts_may_lock_an_unlocked_plan_from_the_page(app, session, cohort):
    plan = protocols.analysis_plan_for(session, cohort.c.protocol.id)
    plan.locked_at = None  # only behind the services' back: treatment cannot start before locking
    session.flush()

    analysts = results_of(app, session, cohort, Role.ANALYST)
    physicians = results_of(app, session, cohort, Role.PHYSICIAN, site=cohort.c.site)

    assert f'action="/admin/protocols/{cohort.c.protocol.id}/lock"' in analysts
    assert "Lock the analysis plan" not in physicians
    assert count(analysts, "improved") == 0
    assert count(analysts, "uncategorised") == 3


# ---------------------------------------------------------------- the standard analyses

SECTIONS = ("patients", "mixed-model", "survival", "cafs", "safety", "power", "plan")


def pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def p_text(p: float) -> str:
    return "p &lt; 0.001" if p < 0.001 else f"p = {p:.2g}"


def two_signed(x: float) -> str:
    """Signed to two decimals, 0.00 for what rounds to zero (the page's slopes)."""
    return "0.00" if round(x, 2) == 0 else f"{x:+.2f}"


def proportion(share: Proportion) -> str:
    if share.interval is None:
        return f"{share.count} of {share.total}"
    low, high = share.interval.low, share.interval.high
    return (
        f'{share.count} of {share.total} <span class="muted">({pct(share.count / share.total)}; '
        f"{pct(low)} to {pct(high)})</span>"
    )


def section(html: str, name: str) -> str:
    """The card headed ``h-{name}``, up to its end."""
    start = html.index(f'<section class="card" aria-labelledby="h-{name}"><h2 id="h-{name}">')
    return html[start : html.index("</section>", start)]


def shows(html: str, sentence: str) -> bool:
    return str(escape(sentence)) in html


def evaluation_for(app: FastAPI, session: Session, cohort: Cohort) -> Evaluation:
    """What the page renders, computed again through the service with the app's model and reference."""
    return evaluate_program(session, protocol_id=cohort.c.protocol.id, by=cohort.c.physician,
                            today=AFTER_THE_WINDOW.date(), model=app.state.natural_history,
                            safety_reference=app.state.safety_reference)  # fmt: skip


@pytest.fixture
def evaluation(app: FastAPI, session: Session, cohort: Cohort) -> Evaluation:
    return evaluation_for(app, session, cohort)


def add_follow_up(session: Session, cohort: Cohort) -> None:
    """A rating at about 3 months for the three rated at the time point (a third rating time, so the
    mixed model can be fitted), a PDPH after AMS-002's puncture and a fatigue not linked to a dose."""
    c = cohort.c
    for code, items in AT_TIME_POINT.items():
        assessments.record_alsfrs_rating(session, patient_id=cohort.patients[code].id, rated_on=THREE_MONTHS,
                                         items={**items, "q9": 3}, by=c.nurse, now=c.at(THREE_MONTHS))  # fmt: skip
    patient = cohort.patients["AMS-002"]
    dose = session.query(Administration).filter_by(patient_id=patient.id).one()
    headache: dict[str, Any] = {"term": "Post lumbar puncture headache", "onset_on": day(11), "ctcae_grade": 2,
                "serious": False, "seriousness": (), "expected": True, "causality_procedure": Causality.PROBABLE,
                "causality_product": Causality.UNLIKELY, "causality_drug": Causality.UNRELATED,
                "aware_on": day(12)}  # fmt: skip
    safety.record_adverse_event(session, patient_id=patient.id, administration_id=dose.id, by=c.physician,
                                now=c.at(day(12)), **headache)  # fmt: skip
    safety.record_adverse_event(session, patient_id=cohort.patients["AMS-003"].id, by=c.physician,
                                now=c.at(day(40)), **headache | {"term": "fatigue", "ctcae_grade": 1,
                                "onset_on": day(38), "aware_on": day(39)})  # fmt: skip


@pytest.fixture
def followed(app: FastAPI, session: Session, cohort: Cohort) -> tuple[str, Evaluation]:
    """The page and its evaluation after :func:`add_follow_up`."""
    add_follow_up(session, cohort)
    response = browser(app, session, cohort.c.physician).get(f"/results/{cohort.c.protocol.id}")
    assert response.status_code == 200, response.text
    return response.text, evaluation_for(app, session, cohort)


def test_the_analyses_come_after_the_patients_and_before_the_plan(page):
    starts = [page.index(f'aria-labelledby="h-{name}"><h2 id="h-{name}">') for name in SECTIONS]

    assert starts == sorted(starts)


def test_a_mixed_model_the_data_cannot_support_is_left_out_with_its_reason(page, evaluation):
    analyses = evaluation.analyses
    assert analyses is not None
    assert analyses.mixed_model is None
    [note] = [note for note in analyses.notes if note.startswith("mixed model:")]

    mixed = section(page, "mixed-model")
    assert f'<p class="muted" data-note="mixed model">Left out: {escape(note)}</p>' in mixed
    assert '<table id="mixed-model"' not in page


def test_the_mixed_model_fit(followed):
    page, evaluation = followed
    assert evaluation.analyses is not None
    fit = evaluation.analyses.mixed_model
    assert fit is not None
    mixed = section(page, "mixed-model")

    intercept = fit.intercept
    assert (
        f'<tr data-effect="intercept"><th scope="row">Intercept: mean total at the first cell dose</th>'
        f"<td>{intercept.value:.2f}</td><td>{intercept.standard_error:.2f}</td>"
        f"<td>{intercept.low:.2f} to {intercept.high:.2f}</td></tr>"
    ) in mixed
    for key, label in (("pre_slope", "Slope before the first cell dose"),
                       ("slope_change", "Change in slope after the first cell dose"),
                       ("post_slope", "Slope after the first cell dose")):  # fmt: skip
        estimate = getattr(fit, key)
        assert (
            f'<tr data-effect="{key}"><th scope="row">{label}</th><td>{two_signed(estimate.value)}</td>'
            f"<td>{estimate.standard_error:.2f}</td>"
            f"<td>{two_signed(estimate.low)} to {two_signed(estimate.high)}</td></tr>"
        ) in mixed, key
    assert fit.slope_change.value == pytest.approx(fit.post_slope.value - fit.pre_slope.value)
    assert f"{fit.n_patients} patient(s), {fit.n_ratings} ALSFRS-R rating(s)." in mixed
    assert f"Converged: {'yes' if fit.converged else 'no'}" in mixed
    assert (
        f"boundary fit (random-effects covariance near singular): {'yes' if fit.boundary else 'no'}"
        in mixed
    )
    assert "Left out" not in mixed


def test_the_mixed_models_variance_components_and_caveats(followed):
    page, evaluation = followed
    assert evaluation.analyses is not None
    fit = evaluation.analyses.mixed_model
    assert fit is not None
    mixed = section(page, "mixed-model")
    g = fit.random_effects_covariance
    sds = {"intercept_sd": math.sqrt(g.intercept_variance), "slope_sd": math.sqrt(g.slope_variance),
           "residual_sd": math.sqrt(fit.residual_variance)}  # fmt: skip
    both = sds["intercept_sd"] * sds["slope_sd"]
    correlation = (
        f"{g.covariance / both:.2f}" if both > 0 else '<span class="muted">\N{EN DASH}</span>'
    )

    shown = {**{key: f"{value:.2f}" for key, value in sds.items()}, "correlation": correlation}
    for key, value in shown.items():
        cells = rf'<tr data-component="{key}"><th scope="row">[^<]+</th><td>{re.escape(value)}</td>'
        assert re.search(cells, mixed), key
    assert shows(mixed, f"Method: {fit.method}.")
    assert fit.caveats
    for caveat in fit.caveats:
        assert shows(mixed, caveat), caveat


def test_survival_beside_encals(page, evaluation):
    assert evaluation.analyses is not None
    comparison = evaluation.analyses.survival
    assert comparison is not None
    km, oe = comparison.observed, comparison.events
    survival = section(page, "survival")
    figure = re.search(
        r'<figure class="chart" id="survival-figure" role="img" aria-label="([^"]+)">(.*?)</figure>',
        survival, re.S,
    )  # fmt: skip

    assert figure, "no survival figure"
    assert (
        f"for {km.n} patient(s) with an ENCALS prediction ({oe.observed} event(s))"
        in figure.group(1)
    )
    assert figure.group(2).lstrip().startswith("<svg")
    assert "<figcaption" in figure.group(2)
    assert (
        f"<td>{oe.observed}</td><td>{oe.expected:.2f}</td><td>{oe.ratio:.2f}</td>"
        f"<td>{oe.interval.low:.2f} to {oe.interval.high:.2f}</td><td>{p_text(oe.p_value)}</td>"
    ) in survival
    assert (
        f"among the {oe.patients} patient(s) with an ENCALS prediction; {oe.excluded} without one"
        in survival
    )
    assert f"ENCALS survival scale: {oe.scale.value}." in survival
    for sentence in (km.method, comparison.expected.method, oe.method, *comparison.caveats):
        assert shows(survival, sentence), sentence


def test_the_kaplan_meier_table_gives_the_figure_in_numbers(page, evaluation):
    assert evaluation.analyses is not None
    assert evaluation.analyses.survival is not None
    km = evaluation.analyses.survival.observed
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td></tr>",
                      section(page, "survival"))  # fmt: skip

    assert rows == [
        (f"{month:.1f}", str(at_risk), str(events), str(censored),
         f"{pct(survival)} ({pct(low)} to {pct(high)})")
        for month, at_risk, events, censored, survival, low, high in zip(
            km.months, km.at_risk, km.events, km.censored, km.survival, km.lower, km.upper, strict=True
        )
    ]  # fmt: skip


def test_cafs_against_the_simulated_comparator(page, evaluation):
    assert evaluation.analyses is not None
    cafs = evaluation.analyses.cafs
    assert cafs is not None
    shown = section(page, "cafs")

    for key, label, group in (("program", "This program", cafs.program),
                              ("comparator", "Simulated natural-history comparator", cafs.comparator)):  # fmt: skip
        assert (
            f'<tr data-group="{key}"><th scope="row">{label}</th><td>{group.n}</td>'
            f"<td>{group.excluded}</td><td>{group.deaths}</td><td>{group.mean_rank:.1f}</td></tr>"
        ) in shown, key
    assert (
        f"Mann-Whitney U of the program: {cafs.u_statistic:.1f}; two-sided {p_text(cafs.p_value)}."
        in shown
    )
    assert f"0.50 is no difference): {cafs.probability_of_superiority:.2f}." in shown
    assert f"Horizon: {cafs.horizon_months:.1f} months from baseline." in shown
    for sentence in (cafs.method, *cafs.caveats):
        assert shows(shown, sentence), sentence


def test_safety_per_patient_and_per_puncture(followed):
    page, evaluation = followed
    assert evaluation.analyses is not None
    table = evaluation.analyses.safety
    assert table is not None
    shown = section(page, "safety")
    pdph_row = table.row(SafetyCategory.PDPH)
    assert (pdph_row.events, pdph_row.patients.count, pdph_row.unlinked_events) == (1, 1, 0)
    assert table.row(SafetyCategory.ANY).unlinked_events == 1

    assert (
        f"{table.patients_treated} patient(s) given at least one lumbar puncture; {table.punctures} cell "
        f"dose(s) given by lumbar puncture up to the data cut-off; the protocol plans "
        f"{evaluation.analyses.protocol_punctures} lumbar puncture(s) per patient."
    ) in shown
    for row in table.rows:
        rate = row.per_puncture
        assert rate.interval is not None
        assert rate.estimate is not None
        cells = (
            f"<td>{row.events}</td><td>{proportion(row.patients)}</td><td>{proportion(row.punctures)}</td>\n"
            f'<td>{rate.estimate:.2f} <span class="muted">({rate.interval.low:.2f} to '
            f"{rate.interval.high:.2f})</span></td><td>{row.unlinked_events}</td></tr>"
        )
        assert re.search(rf'<tr data-safety="{row.category.value}"><th scope="row">[^<]+</th>{re.escape(cells)}',
                         shown), row.category  # fmt: skip
    assert shows(shown, f"Method: {table.method}.")


def test_pdph_beside_the_published_rates(followed):
    page, evaluation = followed
    assert evaluation.analyses is not None
    pdph = evaluation.analyses.pdph
    assert pdph is not None
    assert pdph.observed_risk is not None
    assert pdph.p_value is not None
    risk = pdph.observed_risk
    assert risk.interval is not None
    shown = section(page, "safety")

    observed = re.search(r'<tr data-pdph="observed">(.*?)</tr>', shown, re.S)
    assert observed
    assert f"<td>{proportion(pdph.observed.punctures)}</td>" in observed.group(1)
    assert (
        f'{pct(risk.over_protocol)} <span class="muted">(95% CI {pct(risk.interval.low)} to '
        f"{pct(risk.interval.high)})</span>"
    ) in observed.group(1)
    for item in pdph.published:
        up_to = "up to " if item.rate.kind is RateKind.UPPER_BOUND else ""
        assert (
            f'<tr data-pdph="{item.rate.id}"><th scope="row">{escape(item.rate.label)}</th>'
            f"<td>{up_to}{item.rate.rate.value * 100:.1f}%</td><td>{item.rate.confidence.value}</td>"
            f"<td>{up_to}{pct(item.risk.over_protocol)}</td></tr>"
        ) in shown, item.rate.id
    assert any(item.rate.kind is RateKind.UPPER_BOUND for item in pdph.published)
    assert (
        f"against {escape(pdph.against.label)} ({pdph.against.rate.value * 100:.1f}% per puncture): "
        f"{p_text(pdph.p_value)}."
    ) in shown
    assert f"over the protocol's {pdph.protocol_punctures} lumbar puncture(s)" in shown
    for sentence in (pdph.method, *pdph.caveats):
        assert shows(shown, sentence), sentence


def test_the_power_of_this_design(page, evaluation):
    assert evaluation.analyses is not None
    results = evaluation.analyses.power
    assert len(results) == 2
    shown = section(page, "power")

    for result in results:
        assert (
            f'<tr data-slowing="{result.slowing:g}"><th scope="row">{result.design.value}</th>'
            f"<td>{result.n}</td><td>{pct(result.slowing)}</td><td>{pct(result.power)} "
            f'<span class="muted">({pct(result.interval.low)} to {pct(result.interval.high)})</span></td>'
            f"<td>{result.simulations}</td><td>{result.alpha:g}</td>"
        ) in shown, result.slowing
        for sentence in (result.method, *result.caveats):
            assert shows(shown, sentence), sentence
    assert "Left out" not in shown


def test_no_power_is_shown_without_enough_patients(app, session, cohort):
    text = results_of(app, session, cohort, Role.PHYSICIAN, site=make_site(session, code="ROM"))
    power = section(text, "power")

    assert '<table id="power"' not in power
    assert "Left out: power of this design: needs at least 2 patients, got 0" in power


def test_both_report_links_answer_with_their_content_type(app, session, cohort, page):
    assert f'href="/results/{cohort.c.protocol.id}/report.html"' in page
    assert page.index('id="report-links"') < page.index('id="statement"')
    client = browser(app, session, cohort.c.physician)

    html = client.get(f"/results/{cohort.c.protocol.id}/report.html")
    pdf = client.get(f"/results/{cohort.c.protocol.id}/report.pdf")

    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html")
    assert '<h2 id="h-statement">' in html.text
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    nurse = browser(app, session, make_user(session, Role.NURSE, site=cohort.c.site))
    assert nurse.get(f"/results/{cohort.c.protocol.id}/report.pdf").status_code == 403
