"""The standard analyses beside the evaluation (domain/analyses.py): what each is computed from, what is
left out and why, and that no sentence implies efficacy.

Each expected value is worked out here from the courses: months as days / 30.4375 (clinical.md §2),
punctures as the seed protocol's lumbar-puncture implantations, PDPH by the reference's terms (§9.2,
§9.3), the mixed model and the power from their own modules called directly on inputs built by hand.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from alscell.domain import analyses as an
from alscell.domain import evaluation as ev
from alscell.domain.adverse_events import Causality
from alscell.domain.protocol import ControlType, Protocol, Relatedness
from alscell.domain.stats import natural_history as nh
from alscell.domain.stats import power as pw
from alscell.domain.stats.mixed_model import PatientRatings, fit_mixed_model
from alscell.domain.stats.safety_rates import Category as SafetyCategory
from alscell.domain.stats.safety_rates import SafetyReference
from alscell.storage.comparator_files import builtin_natural_history, builtin_safety_reference
from alscell.storage.protocol_files import builtin_protocol_path, read_protocol

DAYS_PER_MONTH = 365.25 / 12
ONSET = date(2024, 9, 1)
FIRST_DOSE = date(2026, 1, 15)
ENROLLED = date(2026, 1, 5)
DOSES = tuple(ev.Dose(FIRST_DOSE + timedelta(days=7 * k), "implantation") for k in range(4))
IV = ev.Dose(FIRST_DOSE + timedelta(days=1), "iv-neurotrophic")  # not a lumbar puncture
TARGET = DOSES[-1].given_on + timedelta(days=round(6 * DAYS_PER_MONTH))
CUTOFF = date(2026, 12, 31)
SEED = 7
BANNED = re.compile(
    r"\b(effective|efficacy|efficacious|success|proven|proves|benefit)", re.IGNORECASE
)
NOT_SUSPECTED = {Relatedness.PROCEDURE: Causality.UNRELATED, Relatedness.PRODUCT: Causality.UNRELATED,
                 Relatedness.DRUG: Causality.UNRELATED}  # fmt: skip


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return read_protocol(builtin_protocol_path())


@pytest.fixture(scope="module")
def model() -> nh.NaturalHistoryModel:
    return builtin_natural_history()


@pytest.fixture(scope="module")
def reference() -> SafetyReference:
    return builtin_safety_reference()


def design(**changes: Any) -> ev.Design:
    base = ev.Design(control=ControlType.NONE, rater_blinded=False, comparator="natural_history", plan_version="1.0",
                     plan_locked_on=date(2025, 12, 1), first_treatment_on=FIRST_DOSE,
                     amendments_after_first_treatment=0)  # fmt: skip
    return dataclasses.replace(base, **changes)


def headache(
    on: date, *, linked: bool = True, term: str = "Post-dural-puncture headache"
) -> ev.AdverseEventRecord:
    return ev.AdverseEventRecord(term=term, onset_on=on + timedelta(days=1), ctcae_grade=2, serious=False,
                                 causality={**NOT_SUSPECTED, Relatedness.PROCEDURE: Causality.PROBABLE},
                                 after_dose_on=on if linked else None)  # fmt: skip


def course(number: int, later: list[tuple[int, int]], **changes: Any) -> ev.PatientCourse:
    """A patient rated 30 days and on the day before the first dose, then ``later`` as (days after the
    first dose, total)."""
    ratings = [(FIRST_DOSE - timedelta(days=30), 42 - number % 3), (FIRST_DOSE, 41 - number % 3)]
    ratings += [(FIRST_DOSE + timedelta(days=days), total) for days, total in later]
    base = ev.PatientCourse(
        patient_id=number, study_code=f"P-{number:02d}", onset_on=ONSET,
        ratings=tuple(ev.Rating(on, total) for on, total in ratings), doses=(*DOSES, IV),
        enrolled_on=ENROLLED, encals_lp=-4.0 + 0.1 * number,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def target_days() -> int:
    return (TARGET - FIRST_DOSE).days


def cohort() -> list[ev.PatientCourse]:
    """Six patients: four rated at the time point, one who died, one without a rating in the window."""
    t = target_days()
    return [
        course(1, [(60, 37), (120, 35), (t, 33)],
               adverse_events=(headache(DOSES[0].given_on), headache(DOSES[2].given_on))),
        course(2, [(60, 39), (120, 38), (t, 37)], adverse_events=(headache(DOSES[1].given_on, linked=False),)),
        course(3, [(60, 40), (120, 41), (t + 3, 41)]),
        course(4, [(60, 36), (120, 33), (t - 2, 30)],
               adverse_events=(ev.AdverseEventRecord(term="Back pain", onset_on=FIRST_DOSE, ctcae_grade=3,
                                                     serious=True, causality=NOT_SUSPECTED,
                                                     after_dose_on=FIRST_DOSE),)),
        course(5, [(60, 35)], event=("death", FIRST_DOSE + timedelta(days=100))),
        course(6, [(60, 38), (120, 36)]),
    ]  # fmt: skip


def run(
    courses: list[ev.PatientCourse], protocol: Protocol, model: nh.NaturalHistoryModel,
    reference: SafetyReference, **changes: Any,
) -> tuple[ev.Evaluation, an.Analyses]:  # fmt: skip
    evaluation = ev.evaluate(courses, protocol, design=changes.pop("design", design()), plan_locked=True,
                             model=model, cutoff=CUTOFF, seed=SEED, draws=400)  # fmt: skip
    done = an.analyse(courses, evaluation, protocol, model=model, safety_reference=reference, seed=SEED,
                      power_simulations=400, comparator_size=300, **changes)  # fmt: skip
    return evaluation, done


@pytest.fixture(scope="module")
def six(
    protocol: Protocol, model: nh.NaturalHistoryModel, reference: SafetyReference
) -> tuple[ev.Evaluation, an.Analyses]:
    return run(cohort(), protocol, model, reference)


# ---------------------------------------------------------------- safety rates


def test_punctures_are_the_lumbar_puncture_doses_only(six):
    _, done = six

    assert done.lumbar_punctures == 6 * 4  # the IV infusion is not a puncture
    assert done.protocol_punctures == 4  # the seed protocol: four implantations 7 days apart
    assert done.safety is not None
    assert (done.safety.patients_treated, done.safety.punctures) == (6, 24)


def test_pdph_counts_linked_headaches_per_puncture_and_every_one_per_patient(six):
    _, done = six
    assert done.safety is not None
    row = done.safety.row(SafetyCategory.PDPH)

    assert row.events == 3
    assert (row.patients.count, row.patients.total) == (2, 6)  # patients 1 and 2
    assert (row.punctures.count, row.punctures.total) == (2, 24)  # patient 2's report is not linked
    assert row.unlinked_events == 1
    serious = done.safety.row(SafetyCategory.SERIOUS)
    assert (serious.events, serious.punctures.count) == (1, 1)


def test_pdph_is_set_beside_the_published_rates_over_the_protocols_punctures(six):
    _, done = six
    assert done.pdph is not None

    assert done.pdph.protocol_punctures == 4
    assert done.pdph.observed_risk is not None
    p = 2 / 24
    assert done.pdph.observed_risk.over_protocol == pytest.approx(1 - (1 - p) ** 4)
    assert done.pdph.against.id == an.DEFAULT_PDPH_COMPARISON


def test_no_puncture_yet_leaves_the_per_puncture_comparison_out(protocol, model, reference):
    untreated = [dataclasses.replace(c, doses=(), adverse_events=()) for c in cohort()]

    _, done = run(untreated, protocol, model, reference)

    assert done.pdph is None
    assert done.lumbar_punctures == 0
    assert any(note.startswith("safety per lumbar puncture:") for note in done.notes)
    assert done.mixed_model is None  # nobody treated: no first dose to change slope at
    assert any(note.startswith("mixed model:") for note in done.notes)


# ---------------------------------------------------------------- mixed model


def test_the_mixed_model_is_fitted_to_every_rating_in_months_from_the_first_dose(six):
    _, done = six
    records = [
        PatientRatings(
            patient=c.study_code,
            months=[(r.rated_on - FIRST_DOSE).days / DAYS_PER_MONTH for r in c.ratings],
            totals=[float(r.total) for r in c.ratings],
        )
        for c in cohort()
    ]
    direct = fit_mixed_model(records)

    assert done.mixed_model is not None
    assert done.mixed_model.n_ratings == sum(len(c.ratings) for c in cohort())
    np.testing.assert_allclose(done.mixed_model.fixed_effects, direct.fixed_effects, atol=1e-9)


# ---------------------------------------------------------------- survival


def test_survival_follows_each_patient_from_enrollment_to_the_event_or_the_cut_off(six):
    _, done = six
    assert done.survival is not None
    km = done.survival.observed

    assert (done.survival.events.observed, done.survival.events.patients) == (1, 6)
    death = (FIRST_DOSE + timedelta(days=100) - ENROLLED).days / DAYS_PER_MONTH
    assert km.months[km.events.index(1)] == pytest.approx(death)
    assert km.at_risk[0] == 6
    assert max(km.months) == pytest.approx((CUTOFF - ENROLLED).days / DAYS_PER_MONTH)


def test_patients_without_onset_or_enrollment_are_not_followed(protocol, model, reference):
    courses = [dataclasses.replace(c, enrolled_on=None) for c in cohort()]

    _, done = run(courses, protocol, model, reference)

    assert done.survival is None
    assert any(note.startswith("survival against ENCALS:") for note in done.notes)


# ---------------------------------------------------------------- CAFS


def test_cafs_ranks_the_patients_due_against_the_simulated_comparator(six):
    evaluation, done = six
    assert done.cafs is not None
    statuses = [p.category for p in evaluation.patients]

    # patients 1-4 rated, patient 5 died, patient 6 missing: alive without a change, so excluded
    assert statuses == [ev.Category.WORSENED, ev.Category.WORSENED, ev.Category.STABLE, ev.Category.WORSENED,
                        ev.Category.DIED, ev.Category.MISSING]  # fmt: skip
    assert (done.cafs.program.n, done.cafs.program.excluded, done.cafs.program.deaths) == (5, 1, 1)
    assert done.cafs.comparator.n + done.cafs.comparator.excluded == 300
    horizon = np.mean([(p.target_on - p.baseline.rated_on).days / DAYS_PER_MONTH
                       for p in evaluation.patients if p.target_on and p.baseline])  # fmt: skip
    assert done.cafs.horizon_months == pytest.approx(horizon)


def test_cafs_needs_two_patients_due(protocol, model, reference):
    _, done = run(cohort()[:1], protocol, model, reference)

    assert done.cafs is None
    assert any(note.startswith("CAFS: needs at least 2 patients") for note in done.notes)


def test_a_death_after_the_horizon_is_ranked_at_the_horizon():
    result = ev.PatientResult(
        patient_id=1, study_code="P-01", baseline=ev.Rating(FIRST_DOSE, 40), delta_fs=None, pre_slope=None,
        post_slope=None, anchor_on=None, target_on=None, window=None, reading=None, change=None,
        category=ev.Category.DIED, event=("death", FIRST_DOSE + timedelta(days=400)), expected_change=None,
        expected_interval=None, outside=None, death_probability=None, responder=None, deviations=(),
        overrides=(), note="",
    )  # fmt: skip

    assert an._death_month(result, 6.0) == 6.0
    assert np.isnan(an._death_month(dataclasses.replace(result, category=ev.Category.STABLE), 6.0))


# ---------------------------------------------------------------- power


def test_the_power_is_that_of_this_design_with_its_own_patients(six, model):
    evaluation, done = six
    direct = pw.power_table(model, pw.TrialDesign.SINGLE_ARM, ns=[6], slowings=an.POWER_SLOWINGS, seed=SEED,
                            months=evaluation.time_point.months, simulations=400)  # fmt: skip

    assert [(r.design, r.n, r.slowing) for r in done.power] == [
        (pw.TrialDesign.SINGLE_ARM, 6, 0.25), (pw.TrialDesign.SINGLE_ARM, 6, 0.5)
    ]  # fmt: skip
    assert [r.rejections for r in done.power] == [r.rejections for r in direct.results]


def test_a_controlled_design_is_powered_as_randomized_with_an_even_number(
    protocol, model, reference
):
    courses = [*cohort(), course(7, [(60, 38)])]

    evaluation, done = run(courses, protocol, model, reference,
                           design=design(control=ControlType.PLACEBO))  # fmt: skip

    assert {(r.design, r.n) for r in done.power} == {(pw.TrialDesign.RANDOMIZED, 6)}
    said = " ".join(an.analyses_statement(done, evaluation))
    assert "describes the treated patients only" in said
    assert "Power of this design with 6 patients" in said


def test_no_power_simulations_leave_the_power_out(six, protocol, model, reference):
    evaluation, with_power = six

    done = an.analyse(cohort(), evaluation, protocol, model=model, safety_reference=reference, seed=SEED,
                      power_simulations=0, comparator_size=300)  # fmt: skip

    assert done.power == ()
    assert "power of this design: not simulated (0 simulations asked for)" in done.notes
    assert ev.as_data(dataclasses.replace(done, notes=(), power=())) == ev.as_data(
        dataclasses.replace(with_power, notes=(), power=())
    )


def test_too_few_patients_for_power_is_noted(protocol, model, reference):
    _, done = run(cohort()[:1], protocol, model, reference)

    assert done.power == ()
    assert "power of this design: needs at least 2 patients, got 1" in done.notes


# ---------------------------------------------------------------- statement and progress


def test_each_analysis_is_stated_without_implying_efficacy(six):
    evaluation, done = six

    said = an.analyses_statement(done, evaluation)

    assert len(said) == 5  # mixed model, survival, CAFS, PDPH, power
    assert not any(BANNED.search(sentence) for sentence in said)
    text = " ".join(said)
    assert "in a single arm this change is descriptive" in text
    assert "The comparator is a model, not a concurrent control" in text
    assert "2 of 24 lumbar punctures were followed by post-dural-puncture headache" in text
    assert "which a single arm cannot check" in text


def test_nothing_is_stated_for_analyses_left_out(protocol, model, reference):
    evaluation, done = run(cohort()[:1], protocol, model, reference)
    done = dataclasses.replace(done, survival=None, pdph=None)

    assert an.analyses_statement(done, evaluation) == ()


def test_progress_is_reported_once_per_analysis(protocol, model, reference):
    seen: list[str] = []

    run(cohort(), protocol, model, reference, progress=seen.append)

    assert len(seen) == an.ANALYSIS_STEPS


def test_small_p_values_are_written_as_a_bound():
    assert an._p(0.0004) == "< 0.001"
    assert an._p(0.0123) == "0.012"
