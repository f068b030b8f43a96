"""Rules for giving a cell dose (DESIGN.md, "Safety rules that block"; clinical.md §9.1, §10, §12).

Dose bounds are worked by hand: 5 × 10^6 cells ± 10 % is 4.5 to 5.5 × 10^6; 1 × 10^6 cells/kg at
55 kg is 55 × 10^6 ± 5.5 × 10^6, i.e. 49.5 to 60.5 × 10^6. Release criteria are §10's defaults:
sterility (final culture), Gram stain, mycoplasma, endotoxin and viability >= 70 %.
"""

from __future__ import annotations

from datetime import date

import pytest

from alscell.domain.criteria import CriterionResult, Status
from alscell.domain.dosing import (
    TestResult,
    UnitFacts,
    check_dose,
    check_pre_procedure,
    check_unit,
    dose_findings,
    pre_procedure_findings,
    release_problems,
    unit_findings,
)
from alscell.domain.product import (
    CellProduct,
    Dose,
    ProductSource,
    ReleaseCriteria,
    Route,
    SterilityRelease,
)
from alscell.errors import (
    ContraindicationFound,
    Problem,
    ProductNotReleased,
    ProtocolViolation,
    SafetyCheckFailed,
)

ON = date(2026, 3, 1)
PATIENT = 7
UNIT = "G123498654321"

Results = dict[str, tuple[TestResult, float | None]]
PASSING: Results = {
    "sterility": (TestResult.PASS, None),
    "gram_stain": (TestResult.PASS, None),
    "mycoplasma": (TestResult.PASS, None),
    "endotoxin": (TestResult.PASS, 0.4),
    "viability": (TestResult.PASS, 85.0),
}


def unit(
    *,
    released: bool = True,
    expires_on: date = date(2026, 3, 10),
    assigned_patient_id: int | None = PATIENT,
) -> UnitFacts:
    return UnitFacts(
        unit_id=UNIT,
        released=released,
        expires_on=expires_on,
        assigned_patient_id=assigned_patient_id,
    )


def product(dose: Dose) -> CellProduct:
    return CellProduct(
        name="Neural stem cells",
        source=ProductSource.XENOGENEIC,
        cell_type="neural stem cells",
        route=Route.INTRATHECAL,
        dose=dose,
    )


ABSOLUTE = product(Dose(cells=5e6))
PER_KG = product(Dose(cells_per_kg=1e6))


def rules_of(findings: list[Problem]) -> list[str]:
    return [finding.location for finding in findings]


# ---------------------------------------------------------------- the unit


def test_a_released_unexpired_unit_dispensed_to_the_patient_passes() -> None:
    assert list(unit_findings(unit(), patient_id=PATIENT, on=ON)) == []
    check_unit(unit(), patient_id=PATIENT, on=ON)


def test_unit_not_released() -> None:
    findings = list(unit_findings(unit(released=False), patient_id=PATIENT, on=ON))

    assert findings == [
        Problem(
            "unit.not_released", "G123498654321 is not released; ask the cell lab to release it"
        )
    ]


def test_unit_expired_the_day_before() -> None:
    findings = list(unit_findings(unit(expires_on=date(2026, 2, 28)), patient_id=PATIENT, on=ON))

    assert findings == [Problem("unit.expired", "G123498654321 expired on 2026-02-28")]


def test_unit_may_be_given_on_its_expiry_day() -> None:
    assert list(unit_findings(unit(expires_on=ON), patient_id=PATIENT, on=ON)) == []


def test_unit_not_dispensed() -> None:
    findings = list(unit_findings(unit(assigned_patient_id=None), patient_id=PATIENT, on=ON))

    assert findings == [
        Problem("unit.not_dispensed", "G123498654321 has not been dispensed to a patient")
    ]


def test_unit_dispensed_to_another_patient() -> None:
    findings = list(unit_findings(unit(assigned_patient_id=8), patient_id=PATIENT, on=ON))

    assert findings == [
        Problem("unit.other_patient", "G123498654321 was dispensed to another patient")
    ]


def test_every_broken_unit_rule_is_reported_at_once() -> None:
    broken = unit(released=False, expires_on=date(2025, 12, 31), assigned_patient_id=None)

    with pytest.raises(ProductNotReleased) as caught:
        check_unit(broken, patient_id=PATIENT, on=ON)

    assert caught.value.rules == ("unit.not_released", "unit.expired", "unit.not_dispensed")
    assert caught.value.overridable is True
    assert str(caught.value).startswith("product unit may not be given: unit.not_released: ")


def test_another_patients_expired_unit_gives_two_findings() -> None:
    broken = unit(expires_on=date(2026, 2, 1), assigned_patient_id=99)

    assert rules_of(list(unit_findings(broken, patient_id=PATIENT, on=ON))) == [
        "unit.expired",
        "unit.other_patient",
    ]


# ---------------------------------------------------------------- the dose


@pytest.mark.parametrize("cells", [4.5e6, 5e6, 5.5e6])
def test_absolute_dose_within_tolerance_is_accepted(cells: float) -> None:
    assert dose_findings(ABSOLUTE, cells=cells, weight_kg=None) == []
    check_dose(ABSOLUTE, cells=cells, weight_kg=None)


@pytest.mark.parametrize("cells", [4.49e6, 5.51e6, 0.0])
def test_absolute_dose_outside_tolerance_is_refused(cells: float) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        check_dose(ABSOLUTE, cells=cells, weight_kg=70.0)

    assert caught.value.rules == ("dose.out_of_range",)
    assert caught.value.overridable is True


def test_out_of_range_dose_says_the_range_and_the_protocol_dose() -> None:
    assert dose_findings(ABSOLUTE, cells=4.49e6, weight_kg=None) == [
        Problem(
            "dose.out_of_range",
            "4,490,000 cells is outside the protocol's 4,500,000 to 5,500,000"
            " (5 × 10^6 viable cells ± 10 %)",
        )
    ]


@pytest.mark.parametrize("cells", [49.5e6, 55e6, 60.5e6])
def test_per_kg_dose_within_tolerance_is_accepted(cells: float) -> None:
    assert dose_findings(PER_KG, cells=cells, weight_kg=55.0) == []
    check_dose(PER_KG, cells=cells, weight_kg=55.0)


@pytest.mark.parametrize("cells", [49.4e6, 60.6e6, 5e6])
def test_per_kg_dose_outside_tolerance_is_refused(cells: float) -> None:
    findings = dose_findings(PER_KG, cells=cells, weight_kg=55.0)

    assert rules_of(findings) == ["dose.out_of_range"]
    assert "49,500,000 to 60,500,000 (1 × 10^6 viable cells/kg ± 10 %)" in findings[0].message


@pytest.mark.parametrize("weight_kg", [None, 0.0, -55.0])
def test_per_kg_dose_needs_a_weight(weight_kg: float | None) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        check_dose(PER_KG, cells=55e6, weight_kg=weight_kg)

    assert caught.value.findings == (
        Problem("dose.weight_missing", "a per-kg dose needs the patient's current weight"),
    )


# ---------------------------------------------------------------- pre-procedure checks


def result(criterion: str, status: Status, value: object = None) -> CriterionResult:
    return CriterionResult(criterion, status, value, f"{criterion} rule")


def test_all_checks_met_passes() -> None:
    results = [result("platelets", Status.MET, 210), result("inr", Status.MET, 1.0)]

    assert pre_procedure_findings(results) == []
    check_pre_procedure(results)


@pytest.mark.parametrize("status", [Status.NOT_MET, Status.UNKNOWN, Status.REVIEW])
def test_not_met_unknown_and_review_all_refuse(status: Status) -> None:
    with pytest.raises(ContraindicationFound) as caught:
        check_pre_procedure([result("inr", Status.MET, 1.0), result("platelets", status)])

    assert caught.value.rules == ("pre_puncture.platelets",)
    assert caught.value.overridable is True


def test_pre_procedure_finding_gives_the_rule_status_and_value() -> None:
    results = [
        CriterionResult("platelets", Status.NOT_MET, 40, "platelets >= 50 × 10^9/L"),
        CriterionResult("local_infection", Status.UNKNOWN, None, "no infection at the site"),
        CriterionResult("inr", Status.MET, 1.1, "INR <= 1.4"),
    ]

    assert pre_procedure_findings(results) == [
        Problem("pre_puncture.platelets", "platelets >= 50 × 10^9/L: not_met (40)"),
        Problem("pre_puncture.local_infection", "no infection at the site: unknown"),
    ]


def test_no_checks_at_all_passes() -> None:
    # the services decide which checks a protocol requires; an empty list breaks no rule here
    check_pre_procedure([])


# ---------------------------------------------------------------- release (clinical.md §10)


def test_every_default_test_passing_releases() -> None:
    assert release_problems(ReleaseCriteria(), PASSING) == []


def test_missing_results_are_pending_in_name_order() -> None:
    assert release_problems(ReleaseCriteria(), {}) == [
        Problem("endotoxin", "result is pending"),
        Problem("gram_stain", "result is pending"),
        Problem("mycoplasma", "result is pending"),
        Problem("sterility", "result is pending"),
        Problem("viability", "result is pending"),
    ]


@pytest.mark.parametrize("test", sorted(PASSING))
@pytest.mark.parametrize("outcome", [TestResult.PENDING, TestResult.FAIL])
def test_each_pending_or_failed_test_blocks_release(test: str, outcome: TestResult) -> None:
    results = {**PASSING, test: (outcome, None)}

    assert release_problems(ReleaseCriteria(), results) == [
        Problem(test, f"result is {outcome.value}")
    ]


@pytest.mark.parametrize(("viability", "blocked"), [(70.0, False), (69.9, True), (100.0, False)])
def test_viability_must_reach_70_percent(viability: float, blocked: bool) -> None:
    results = {**PASSING, "viability": (TestResult.PASS, viability)}

    expected = [Problem("viability", f"viability {viability} % is below 70 %")] if blocked else []
    assert release_problems(ReleaseCriteria(), results) == expected


def test_viability_passed_without_a_value_blocks_release() -> None:
    results = {**PASSING, "viability": (TestResult.PASS, None)}

    assert release_problems(ReleaseCriteria(), results) == [
        Problem("viability", "viability None % is below 70 %")
    ]


def test_a_stricter_viability_minimum_is_honoured() -> None:
    results = {**PASSING, "viability": (TestResult.PASS, 75.0)}

    assert release_problems(ReleaseCriteria(viability_percent_min=80.0), results) == [
        Problem("viability", "viability 75.0 % is below 80 %")
    ]


CD271 = ReleaseCriteria(identity_marker="CD271+", identity_marker_min_percent=90.0)


def test_identity_is_required_when_the_protocol_names_a_marker() -> None:
    assert release_problems(CD271, PASSING) == [Problem("identity", "result is pending")]


@pytest.mark.parametrize(("percent", "blocked"), [(90.0, False), (89.5, True), (None, True)])
def test_identity_marker_must_reach_its_minimum(percent: float | None, blocked: bool) -> None:
    results = {**PASSING, "identity": (TestResult.PASS, percent)}

    expected = [Problem("identity", f"CD271+ {percent} % is below 90 %")] if blocked else []
    assert release_problems(CD271, results) == expected


def test_identity_result_is_ignored_when_no_marker_is_required() -> None:
    results = {**PASSING, "identity": (TestResult.FAIL, 10.0)}

    assert release_problems(ReleaseCriteria(), results) == []


def test_no_growth_to_date_is_refused_when_the_final_culture_is_required() -> None:
    results = {**PASSING, "sterility": (TestResult.NO_GROWTH_TO_DATE, None)}

    assert release_problems(ReleaseCriteria(), results) == [
        Problem("sterility", "the protocol releases only on the final culture (no growth)")
    ]


def test_no_growth_to_date_releases_when_the_protocol_allows_it() -> None:
    criteria = ReleaseCriteria(sterility=SterilityRelease.NO_GROWTH_TO_DATE)
    results = {**PASSING, "sterility": (TestResult.NO_GROWTH_TO_DATE, None)}

    assert release_problems(criteria, results) == []


def test_no_growth_to_date_is_not_a_pass_for_other_tests() -> None:
    criteria = ReleaseCriteria(sterility=SterilityRelease.NO_GROWTH_TO_DATE)
    results = {**PASSING, "endotoxin": (TestResult.NO_GROWTH_TO_DATE, 0.4)}

    assert release_problems(criteria, results) == [
        Problem("endotoxin", "result is no_growth_to_date")
    ]


def test_gram_stain_and_mycoplasma_are_not_required_when_the_criteria_say_so() -> None:
    criteria = ReleaseCriteria(gram_stain_negative=False, mycoplasma_negative=False)
    results = {k: v for k, v in PASSING.items() if k not in {"gram_stain", "mycoplasma"}}

    assert release_problems(criteria, results) == []
    # ...and a failed result for a test not required does not block either
    failed = {
        **results,
        "gram_stain": (TestResult.FAIL, None),
        "mycoplasma": (TestResult.FAIL, None),
    }
    assert release_problems(criteria, failed) == []


def test_gram_stain_and_mycoplasma_are_required_by_default() -> None:
    results = {k: v for k, v in PASSING.items() if k not in {"gram_stain", "mycoplasma"}}

    assert release_problems(ReleaseCriteria(), results) == [
        Problem("gram_stain", "result is pending"),
        Problem("mycoplasma", "result is pending"),
    ]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("error", "headline"),
    [
        (ProductNotReleased, "product unit may not be given"),
        (ContraindicationFound, "pre-procedure checks failed"),
        (ProtocolViolation, "outside the protocol"),
    ],
)
def test_dosing_errors_are_safety_checks_with_their_headline(
    error: type[SafetyCheckFailed], headline: str
) -> None:
    raised = error([Problem("unit.expired", "expired")])

    assert isinstance(raised, SafetyCheckFailed)
    assert str(raised).startswith(f"{headline}: unit.expired: expired")
