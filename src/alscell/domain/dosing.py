"""Rules for giving a cell dose: the unit is releasable and the patient's, the dose within tolerance.

Every failed rule is a finding with a stable id, so a physician's override can name exactly what it
overrides (DESIGN.md, "Safety rules that block"). See clinical.md §10 for release criteria.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from alscell.domain.criteria import CriterionResult, Status
from alscell.domain.product import CellProduct, ReleaseCriteria, SterilityRelease
from alscell.errors import ContraindicationFound, Problem, ProductNotReleased, ProtocolViolation

__all__ = [
    "TestResult",
    "UnitFacts",
    "check_dose",
    "check_pre_procedure",
    "check_unit",
    "dose_findings",
    "pre_procedure_findings",
    "release_problems",
    "unit_findings",
]


class TestResult(StrEnum):
    """A release test's result."""

    __test__ = False  # not a pytest test class

    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"
    NO_GROWTH_TO_DATE = "no_growth_to_date"


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What the dosing rules need to know about a product unit."""

    unit_id: str
    released: bool
    expires_on: date
    assigned_patient_id: int | None
    cells: float | None = None


def check_unit(unit: UnitFacts, *, patient_id: int, on: date) -> None:
    """Refuse a unit that is not released, is expired on ``on``, or is not dispensed to this patient.

    Raises
    ------
    ProductNotReleased
        With a finding per broken rule: ``unit.not_released``, ``unit.expired``,
        ``unit.not_dispensed``, ``unit.other_patient``.
    """
    findings = list(unit_findings(unit, patient_id=patient_id, on=on))
    if findings:
        raise ProductNotReleased(findings)


def unit_findings(unit: UnitFacts, *, patient_id: int, on: date) -> Iterator[Problem]:
    """The unit rules broken (see :func:`check_unit`), without raising."""
    if not unit.released:
        yield Problem(
            "unit.not_released", f"{unit.unit_id} is not released; ask the cell lab to release it"
        )
    if unit.expires_on < on:
        yield Problem("unit.expired", f"{unit.unit_id} expired on {unit.expires_on}")
    if unit.assigned_patient_id is None:
        yield Problem("unit.not_dispensed", f"{unit.unit_id} has not been dispensed to a patient")
    elif unit.assigned_patient_id != patient_id:
        yield Problem("unit.other_patient", f"{unit.unit_id} was dispensed to another patient")


def check_dose(product: CellProduct, *, cells: float, weight_kg: float | None) -> None:
    """Refuse a dose outside the protocol's target ± tolerance (per kg doses need the weight).

    Raises
    ------
    ProtocolViolation
        With the finding ``dose.out_of_range`` (or ``dose.weight_missing``).
    """
    findings = dose_findings(product, cells=cells, weight_kg=weight_kg)
    if findings:
        raise ProtocolViolation(findings)


def dose_findings(product: CellProduct, *, cells: float, weight_kg: float | None) -> list[Problem]:
    """The dose rules broken (see :func:`check_dose`), without raising."""
    if product.dose.cells_per_kg is not None and (weight_kg is None or weight_kg <= 0):
        return [Problem("dose.weight_missing", "a per-kg dose needs the patient's current weight")]
    low, high = product.dose.range_cells(weight_kg)
    if not low <= cells <= high:
        text = f"{cells:,.0f} cells is outside the protocol's {low:,.0f} to {high:,.0f} ({product.dose.describe()})"
        return [Problem("dose.out_of_range", text)]
    return []


def check_pre_procedure(results: Iterable[CriterionResult]) -> None:
    """Refuse when any pre-procedure check (clinical.md §9.1) is not met, unknown or needs review.

    Raises
    ------
    ContraindicationFound
        With a finding ``pre_puncture.<criterion>`` per check that is not met.
    """
    findings = pre_procedure_findings(results)
    if findings:
        raise ContraindicationFound(findings)


def pre_procedure_findings(results: Iterable[CriterionResult]) -> list[Problem]:
    """A finding ``pre_puncture.<criterion>`` per check not met (see :func:`check_pre_procedure`)."""
    return [
        Problem(
            f"pre_puncture.{r.criterion}",
            f"{r.rule}: {r.status}" + ("" if r.value is None else f" ({r.value})"),
        )
        for r in results
        if r.status is not Status.MET
    ]


def release_problems(
    criteria: ReleaseCriteria, results: Mapping[str, tuple[TestResult, float | None]]
) -> list[Problem]:
    """What stands in the way of releasing a unit under the protocol's criteria (clinical.md §10).

    ``results`` maps a test name (``sterility``, ``gram_stain``, ``mycoplasma``, ``endotoxin``,
    ``viability``, ``identity``) to its result and, where measured, its value.
    """
    problems: list[Problem] = []
    required = {"sterility", "endotoxin", "viability"}
    required |= {"gram_stain"} if criteria.gram_stain_negative else set()
    required |= {"mycoplasma"} if criteria.mycoplasma_negative else set()
    required |= {"identity"} if criteria.identity_marker else set()
    for test in sorted(required):
        result, value = results.get(test, (TestResult.PENDING, None))
        problems.extend(_test_problem(criteria, test, result, value))
    return problems


def _test_problem(
    criteria: ReleaseCriteria, test: str, result: TestResult, value: float | None
) -> Iterator[Problem]:
    if test == "sterility" and result is TestResult.NO_GROWTH_TO_DATE:
        if criteria.sterility is not SterilityRelease.NO_GROWTH_TO_DATE:
            yield Problem(test, "the protocol releases only on the final culture (no growth)")
        return
    if result is not TestResult.PASS:
        yield Problem(test, f"result is {result}")
        return
    if test == "viability" and (value is None or value < criteria.viability_percent_min):
        yield Problem(test, f"viability {value} % is below {criteria.viability_percent_min:g} %")
    if test == "identity" and (
        value is None or value < (criteria.identity_marker_min_percent or 0)
    ):
        yield Problem(
            test,
            f"{criteria.identity_marker} {value} % is below {criteria.identity_marker_min_percent:g} %",
        )
