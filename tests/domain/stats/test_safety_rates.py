"""Adverse-event rates per patient and per puncture, and PDPH against published rates
(domain/stats/safety_rates.py; clinical.md §9.2, §9.3).

Golden values: counts worked by hand from the events written out below; Clopper-Pearson limits from
scipy.stats.beta quantiles, Garwood limits from scipy.stats.chi2 quantiles and the exact binomial test
from scipy.stats.binomtest, all computed here; cumulative risks 1 − (1 − p)^n by hand; published rates
from clinical.md §9.2.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from scipy.stats import beta, binomtest, chi2

from alscell.domain.adverse_events import Causality
from alscell.domain.evaluation import Interval
from alscell.domain.protocol import Relatedness
from alscell.domain.stats import safety_rates as sr
from alscell.domain.stats.safety_rates import Category, SafetyEvent
from alscell.errors import InvalidInput

SHIPPED = Path(__file__).parents[3] / "comparators" / "safety.yaml"

PROCEDURE, PRODUCT, DRUG = Relatedness.PROCEDURE, Relatedness.PRODUCT, Relatedness.DRUG

# Ten patients treated with three punctures each (30); punctures are keyed "L1".."L30".
EVENTS = [
    SafetyEvent(patient="P1", ctcae_grade=1, serious=False, causality={PROCEDURE: Causality.POSSIBLE}, puncture="L1", pdph=True),
    SafetyEvent(patient="P1", ctcae_grade=2, serious=False, causality={PROCEDURE: Causality.PROBABLE}, puncture="L2", pdph=True),
    SafetyEvent(patient="P2", ctcae_grade=2, serious=False, causality={PROCEDURE: Causality.DEFINITE}, puncture="L4", pdph=True),
    SafetyEvent(patient="P2", ctcae_grade=1, serious=False, causality={PROCEDURE: Causality.UNLIKELY}, puncture="L4"),
    SafetyEvent(patient="P3", ctcae_grade=3, serious=True, causality={PROCEDURE: Causality.UNRELATED, PRODUCT: Causality.POSSIBLE}),
    SafetyEvent(patient="P4", ctcae_grade=4, serious=True, causality={DRUG: Causality.PROBABLE}, puncture="L10"),
    SafetyEvent(patient="P5", ctcae_grade=5, serious=True),
]  # fmt: skip
PATIENTS, PUNCTURES = 10, 30

# category: (events, patients with >= 1, punctures with >= 1, events linked to a puncture, unlinked)
BY_HAND = {
    Category.ANY: (7, 5, 4, 5, 2),  # punctures L1, L2, L4, L10
    Category.GRADE_1: (2, 2, 2, 2, 0),  # L1, L4
    Category.GRADE_2: (2, 2, 2, 2, 0),  # L2, L4
    Category.GRADE_3: (1, 1, 0, 0, 1),
    Category.GRADE_4: (1, 1, 1, 1, 0),
    Category.GRADE_5: (1, 1, 0, 0, 1),
    Category.GRADE_3_OR_HIGHER: (3, 3, 1, 1, 2),
    Category.SERIOUS: (3, 3, 1, 1, 2),
    Category.RELATED_TO_PROCEDURE: (3, 2, 3, 3, 0),  # "unlikely" is not suspected
    Category.RELATED_TO_PRODUCT: (1, 1, 0, 0, 1),
    Category.RELATED_TO_DRUG: (1, 1, 1, 1, 0),
    Category.PDPH: (3, 2, 3, 3, 0),
}


def cp(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson limits from beta quantiles: Beta(a/2; k, n−k+1), Beta(1−a/2; k+1, n−k)."""
    a = 1 - confidence
    low = 0.0 if k == 0 else beta.ppf(a / 2, k, n - k + 1)
    high = 1.0 if k == n else beta.ppf(1 - a / 2, k + 1, n - k)
    return float(low), float(high)


def limits(interval: Interval | None) -> tuple[float, float]:
    assert interval is not None
    return interval.low, interval.high


def garwood(k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact Poisson limits from chi-square quantiles: χ²(a/2; 2k)/2, χ²(1−a/2; 2k+2)/2."""
    a = 1 - confidence
    low = 0.0 if k == 0 else chi2.ppf(a / 2, 2 * k) / 2
    return float(low), float(chi2.ppf(1 - a / 2, 2 * k + 2) / 2)


# ---------------------------------------------------------------- tables (§9.2, §9.3)


@pytest.fixture(scope="module")
def table() -> sr.SafetyTable:
    return sr.tabulate_adverse_events(EVENTS, patients_treated=PATIENTS, punctures=PUNCTURES)


def test_rows_come_in_category_order(table):
    assert [row.category for row in table.rows] == list(Category)
    assert (table.patients_treated, table.punctures, table.confidence) == (10, 30, 0.95)
    assert "Clopper-Pearson" in table.method


@pytest.mark.parametrize("category", list(Category))
def test_counts_match_the_hand_count(table, category):
    events, patients, punctures, linked, unlinked = BY_HAND[category]

    row = table.row(category)

    assert row.events == events
    assert (row.patients.count, row.patients.total) == (patients, PATIENTS)
    assert (row.punctures.count, row.punctures.total) == (punctures, PUNCTURES)
    assert (row.per_puncture.events, row.per_puncture.punctures) == (linked, PUNCTURES)
    assert row.unlinked_events == unlinked


@pytest.mark.parametrize("category", list(Category))
def test_intervals_are_exact(table, category):
    _, patients, punctures, linked, _ = BY_HAND[category]

    row = table.row(category)

    assert row.patients.estimate == pytest.approx(patients / PATIENTS)
    assert row.patients.interval is not None
    assert (row.patients.interval.low, row.patients.interval.high) == pytest.approx(
        cp(patients, PATIENTS), rel=1e-12
    )
    assert row.punctures.estimate == pytest.approx(punctures / PUNCTURES)
    assert row.punctures.interval is not None
    assert (row.punctures.interval.low, row.punctures.interval.high) == pytest.approx(
        cp(punctures, PUNCTURES), rel=1e-12
    )
    low, high = garwood(linked)
    assert row.per_puncture.estimate == pytest.approx(linked / PUNCTURES)
    assert row.per_puncture.interval is not None
    assert (row.per_puncture.interval.low, row.per_puncture.interval.high) == pytest.approx(
        (low / PUNCTURES, high / PUNCTURES), rel=1e-12
    )


def test_zero_events_give_intervals_from_zero():
    """k = 0: CP upper 1 − 0.025^(1/n) (solving (1 − p)^n = 0.025); Garwood upper ln 40 per n."""
    table = sr.tabulate_adverse_events([], patients_treated=10, punctures=30)

    row = table.row(Category.ANY)

    assert limits(row.patients.interval) == pytest.approx((0.0, 1 - 0.025 ** (1 / 10)))
    assert limits(row.punctures.interval) == pytest.approx((0.0, 1 - 0.025 ** (1 / 30)))
    assert limits(row.per_puncture.interval) == pytest.approx((0.0, math.log(40) / 30))
    assert row.patients.estimate == 0.0


def test_zero_punctures_and_patients_leave_rates_undefined():
    table = sr.tabulate_adverse_events([], patients_treated=0, punctures=0)

    row = table.row(Category.PDPH)

    assert row.patients == sr.Proportion(0, 0, None)
    assert row.punctures == sr.Proportion(0, 0, None)
    assert row.per_puncture == sr.EventRate(0, 0, None)
    assert row.patients.estimate is None
    assert row.per_puncture.estimate is None


def test_an_unlinked_event_counts_per_patient_when_no_puncture_was_given():
    event = SafetyEvent(patient=1, ctcae_grade=2, serious=False)

    row = sr.tabulate_adverse_events([event], patients_treated=1, punctures=0).row(Category.ANY)

    assert row.patients.count == 1
    # Clopper-Pearson for 1 of 1: [0.025, 1] (the lower limit solves p^1 = 0.025)
    assert limits(row.patients.interval) == pytest.approx((0.025, 1.0))
    assert (row.unlinked_events, row.punctures.interval) == (1, None)


def test_an_other_confidence_level_is_used_throughout():
    table = sr.tabulate_adverse_events(EVENTS, patients_treated=10, punctures=30, confidence=0.9)

    row = table.row(Category.PDPH)

    assert row.patients.interval is not None
    assert row.per_puncture.interval is not None
    assert row.patients.interval.low == pytest.approx(cp(2, 10, 0.9)[0])
    assert row.per_puncture.interval.high == pytest.approx(garwood(3, 0.9)[1] / 30)


def test_inconsistent_events_are_refused_listing_every_problem():
    events = [
        SafetyEvent(patient=1, ctcae_grade=0, serious=False, puncture=1),
        SafetyEvent(patient=2, ctcae_grade=6, serious=False, puncture=2),
        SafetyEvent(patient=3, ctcae_grade=True, serious=False, puncture=3),
    ]

    with pytest.raises(InvalidInput) as caught:
        sr.tabulate_adverse_events(events, patients_treated=2, punctures=2)

    assert [str(problem) for problem in caught.value.problems] == [
        "events[0].ctcae_grade: must be a CTCAE grade 1-5, got 0",
        "events[1].ctcae_grade: must be a CTCAE grade 1-5, got 6",
        "events[2].ctcae_grade: must be a CTCAE grade 1-5, got True",
        "events: 3 patients have events but 2 were treated",
        "events: 3 punctures have events but 2 were given",
    ]


@pytest.mark.parametrize(
    ("patients", "punctures", "match"),
    [(-1, 3, "patients_treated"), (1, -3, "punctures"), (True, 3, "patients_treated"),
     (1, 2.0, "punctures")],
)  # fmt: skip
def test_bad_counts_are_programming_errors(patients, punctures, match):
    with pytest.raises(ValueError, match=match):
        sr.tabulate_adverse_events([], patients_treated=patients, punctures=punctures)


# ---------------------------------------------------------------- cumulative risk (§9.2)


@pytest.mark.parametrize(
    ("p", "n", "risk"),
    [(0.295, 4, 1 - 0.705 * 0.705 * 0.705 * 0.705),  # = 1 − 0.247033850625 = 0.752966149375
     (0.085, 4, 0.299054299375),  # 1 − 0.915^4 = 1 − 0.837225^2 = 1 − 0.700945700625
     (0.224, 1, 0.224), (0.5, 3, 0.875), (0.3, 0, 0.0), (0.0, 6, 0.0), (1.0, 2, 1.0)],
)  # fmt: skip
def test_cumulative_risk_over_n_punctures(p, n, risk):
    assert sr.cumulative_risk(p, n) == pytest.approx(risk, rel=1e-12, abs=1e-15)


def test_cumulative_risk_worked_out_for_the_prospective_cohort_rate():
    assert sr.cumulative_risk(0.295, 4) == pytest.approx(0.752966149375, rel=1e-12)


@pytest.mark.parametrize(
    ("p", "n", "match"),
    [(-0.1, 3, "per_puncture"), (1.1, 3, "per_puncture"), (math.nan, 3, "per_puncture"),
     (0.2, -1, "punctures")],
)  # fmt: skip
def test_cumulative_risk_refuses_impossible_arguments(p, n, match):
    with pytest.raises(ValueError, match=match):
        sr.cumulative_risk(p, n)


# ---------------------------------------------------------------- PDPH against published rates (§9.2)


def reference_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "safety", "version": "1", "title": "t",
        "pdph_terms": ["post-dural-puncture headache", "post lumbar puncture syndrome"],
        "pdph_rates": [
            {"id": "cohort", "label": "cohort", "kind": "estimate", "confidence": "VERIFIED-2",
             "rate": {"value": 0.295, "status": "published", "source": "s"}},
            {"id": "cutting", "label": "Quincke", "confidence": "VERIFIED-2",
             "rate": {"value": 0.224, "status": "published", "source": "s"}},
            {"id": "up-to", "label": "up to", "kind": "upper-bound", "confidence": "VERIFIED-2",
             "rate": {"value": 0.35, "status": "published", "source": "s"}},
        ],
    }  # fmt: skip
    return data | changes


@pytest.fixture(scope="module")
def reference() -> sr.SafetyReference:
    return sr.parse_safety_reference(reference_data())


def test_pdph_rate_per_puncture_beside_published_rates(reference):
    """3 of 30 punctures followed by PDPH: p = 0.1, over 4 punctures 1 − 0.9^4 = 0.3439."""
    result = sr.compare_pdph(
        EVENTS, patients_treated=10, punctures=30, protocol_punctures=4,
        reference=reference, against="cutting",
    )  # fmt: skip

    assert result.observed == sr.tabulate_adverse_events(
        EVENTS, patients_treated=10, punctures=30
    ).row(Category.PDPH)
    assert result.observed_risk is not None
    assert result.observed_risk.per_puncture == pytest.approx(0.1)
    assert result.observed_risk.over_protocol == pytest.approx(0.3439, rel=1e-12)
    low, high = cp(3, 30)
    assert result.observed_risk.interval is not None
    assert result.observed_risk.interval.low == pytest.approx(1 - (1 - low) ** 4, rel=1e-12)
    assert result.observed_risk.interval.high == pytest.approx(1 - (1 - high) ** 4, rel=1e-12)
    assert [c.rate.id for c in result.published] == ["cohort", "cutting", "up-to"]
    assert [c.risk.per_puncture for c in result.published] == [0.295, 0.224, 0.35]
    assert [c.risk.over_protocol for c in result.published] == pytest.approx(
        [0.752966149375, 1 - 0.776**4, 1 - 0.65**4], rel=1e-12
    )
    assert all(c.risk.interval is None for c in result.published)
    assert result.against.id == "cutting"
    assert result.reference == "safety 1"
    assert (result.protocol_punctures, result.confidence) == (4, 0.95)


@pytest.mark.parametrize(("against", "rate"), [("cohort", 0.295), ("cutting", 0.224)])
def test_exact_binomial_test_against_the_chosen_rate(reference, against, rate):
    result = sr.compare_pdph(
        EVENTS, patients_treated=10, punctures=30, protocol_punctures=4,
        reference=reference, against=against,
    )  # fmt: skip

    assert result.p_value == pytest.approx(binomtest(3, 30, rate).pvalue, rel=1e-12)


def test_brute_force_two_sided_binomial_p_value(reference):
    """Two-sided exact test: the sum of outcomes no more likely than 3 of 30 at p = 0.295."""

    def pmf(k: int) -> float:
        return math.comb(30, k) * 0.295**k * 0.705 ** (30 - k)

    brute = sum(pmf(k) for k in range(31) if pmf(k) <= pmf(3) * (1 + 1e-7))
    result = sr.compare_pdph(
        EVENTS, patients_treated=10, punctures=30, protocol_punctures=4,
        reference=reference, against="cohort",
    )  # fmt: skip

    assert result.p_value == pytest.approx(brute, rel=1e-9)


def test_pdph_before_any_puncture_has_no_rate(reference):
    result = sr.compare_pdph(
        [], patients_treated=0, punctures=0, protocol_punctures=4,
        reference=reference, against="cohort",
    )  # fmt: skip

    assert result.observed_risk is None
    assert result.p_value is None
    assert result.published[0].risk.over_protocol == pytest.approx(0.752966149375)


def test_pdph_results_carry_their_caveats(reference):
    result = sr.compare_pdph(
        EVENTS, patients_treated=10, punctures=30, protocol_punctures=4,
        reference=reference, against="cohort",
    )  # fmt: skip

    text = " ".join(result.caveats)
    assert "independent" in text
    assert "other populations" in text
    assert "§9.3" in text
    assert "binomial" in result.method


def test_against_must_name_a_published_estimate(reference):
    with pytest.raises(InvalidInput, match="known: cohort, cutting, up-to"):
        sr.compare_pdph(
            EVENTS, patients_treated=10, punctures=30, protocol_punctures=4,
            reference=reference, against="sprotte",
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="upper bound"):
        sr.compare_pdph(
            EVENTS, patients_treated=10, punctures=30, protocol_punctures=4,
            reference=reference, against="up-to",
        )  # fmt: skip


@pytest.mark.parametrize("protocol_punctures", [0, True, 2.0])
def test_protocol_punctures_must_be_at_least_one(reference, protocol_punctures):
    with pytest.raises(ValueError, match="protocol_punctures"):
        sr.compare_pdph(
            EVENTS, patients_treated=10, punctures=30, protocol_punctures=protocol_punctures,
            reference=reference, against="cohort",
        )  # fmt: skip


# ---------------------------------------------------------------- PDPH terms (§9.3)


@pytest.mark.parametrize(
    ("term", "matches"),
    [("post-dural-puncture headache", True), ("Post Dural  Puncture Headache", True),
     ("POST LUMBAR PUNCTURE SYNDROME", True), (" post-lumbar-puncture syndrome ", True),
     ("headache", False), ("post-dural-puncture headache, severe", False), ("", False)],
)  # fmt: skip
def test_is_pdph_matches_whole_terms_ignoring_case_hyphens_and_spacing(reference, term, matches):
    assert sr.is_pdph(term, reference.pdph_terms) is matches


def test_is_pdph_with_no_terms_matches_nothing():
    assert sr.is_pdph("post-dural-puncture headache", []) is False


# ---------------------------------------------------------------- the reference file


def test_a_reference_is_built_from_plain_data(reference):
    assert reference.label == "safety 1"
    assert reference.pdph_terms == ("post-dural-puncture headache", "post lumbar puncture syndrome")
    cutting = reference.get_rate("cutting")
    assert cutting.kind is sr.RateKind.ESTIMATE  # the default
    assert cutting.confidence is sr.Confidence.VERIFIED_2
    assert cutting.rate.value == 0.224
    assert reference.get_rate("up-to").kind is sr.RateKind.UPPER_BOUND


def test_a_bad_reference_lists_every_problem_with_its_path():
    data = reference_data()
    rates = copy.deepcopy(data["pdph_rates"])
    rates[0]["rate"]["value"] = 1.5
    rates[1]["confidence"] = "VERIFIED-3"
    rates[2]["id"] = "Up To"
    data = reference_data(pdph_rates=rates, surprise=1)
    del data["title"]

    with pytest.raises(InvalidInput) as caught:
        sr.parse_safety_reference(data)

    assert [str(problem) for problem in caught.value.problems] == [
        "surprise: unknown field; known fields: id, version, title, pdph_terms, pdph_rates",
        "title: required field is missing",
        "pdph_rates[0].rate.value: must be a proportion from 0 to 1, got 1.5",
        "pdph_rates[1].confidence: must be one of VERIFIED-2, VERIFIED-1, UNVERIFIED; got 'VERIFIED-3'",
        "pdph_rates[2].id: must be lower-case letters, digits, -, got 'Up To'",
    ]
    assert caught.value.subject == "safety reference"


def test_repeated_terms_and_rate_ids_are_refused():
    rates = reference_data()["pdph_rates"]
    data = reference_data(
        pdph_terms=["Post dural puncture headache", "post-dural-puncture headache"],
        pdph_rates=[*rates, rates[0]],
    )

    with pytest.raises(InvalidInput) as caught:
        sr.parse_safety_reference(data)

    assert [str(problem) for problem in caught.value.problems] == [
        "pdph_terms[1]: repeats pdph_terms[0] ('post-dural-puncture headache')",
        "pdph_rates[3].id: repeats pdph_rates[0].id",
    ]


def test_a_reference_needs_terms_and_rates():
    with pytest.raises(InvalidInput) as caught:
        sr.parse_safety_reference(reference_data(pdph_terms=[], pdph_rates=[]))

    assert [str(problem) for problem in caught.value.problems] == [
        "pdph_terms: must have at least 1 item",
        "pdph_rates: must have at least 1 item",
    ]


def test_the_shipped_reference_holds_the_published_rates_of_clinical_md():
    """clinical.md §9.2: 29.5% prospective cohort, 22.4% cutting, 8.5% atraumatic, up to 35%."""
    reference = sr.parse_safety_reference(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))

    rates = {rate.id: rate for rate in reference.pdph_rates}
    assert {key: rate.rate.value for key, rate in rates.items()} == {
        "prospective-cohort": 0.295,
        "cutting-needle": 0.224,
        "atraumatic-needle": 0.085,
        "up-to": 0.35,
    }
    assert rates["up-to"].kind is sr.RateKind.UPPER_BOUND
    assert all(rate.confidence is sr.Confidence.VERIFIED_2 for rate in rates.values())
    assert all("clinical.md §9.2" in rate.rate.source for rate in rates.values())
    for term in (
        "post-dural-puncture headache",
        "post lumbar puncture syndrome",
        "post procedural headache",
    ):
        assert sr.is_pdph(term, reference.pdph_terms)
