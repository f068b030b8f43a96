"""Eligibility: a protocol's criteria checked against a patient's facts, criterion by criterion.

:func:`evaluate_eligibility` answers every criterion met / not met / unknown with the value it used
(clinical.md §2 ΔFS, §5 ENCALS LP window, §8 diagnostic categories, §9.1 pre-puncture checks, §12
inclusion examples), never a bare boolean. Missing facts make a criterion unknown, never met.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from alscell.domain import alsfrs
from alscell.domain.criteria import CriterionResult, Range, Status, check_range, overall_status
from alscell.domain.safety import PrePunctureFacts, check_pre_puncture
from alscell.domain.schema import constraint
from alscell.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from alscell.domain.protocol import Protocol

__all__ = [
    "DiagnosticSystem",
    "EligibilityCriteria",
    "EligibilityFacts",
    "EligibilityResult",
    "evaluate_eligibility",
]


class DiagnosticSystem(StrEnum):
    """Diagnostic criteria a protocol names its categories in (clinical.md §8)."""

    REVISED_EL_ESCORIAL = "revised_el_escorial"
    AWAJI = "awaji"
    GOLD_COAST = "gold_coast"


CATEGORIES: Mapping[DiagnosticSystem, tuple[str, ...]] = {
    DiagnosticSystem.REVISED_EL_ESCORIAL: (
        "definite", "probable", "probable_laboratory_supported", "possible", "suspected",
    ),
    DiagnosticSystem.AWAJI: ("definite", "probable", "possible"),
    DiagnosticSystem.GOLD_COAST: ("als",),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class EligibilityCriteria:
    """A protocol's inclusion and exclusion criteria; each absent criterion is simply not checked."""

    diagnostic_system: DiagnosticSystem
    diagnosis_categories: tuple[str, ...] = field(metadata=constraint(min_items=1))
    sporadic_only: bool = False
    age_years: Range | None = None
    alsfrs_r_total_min: int | None = field(default=None, metadata=constraint(ge=0, le=48))
    alsfrs_r_item_min: int | None = field(default=None, metadata=constraint(ge=0, le=4))
    vital_capacity_percent_min: float | None = field(default=None, metadata=constraint(gt=0))
    months_since_onset: Range | None = None
    delta_fs: Range | None = None
    encals_lp: Range | None = None
    run_in_decline_min: float | None = field(default=None, metadata=constraint(gt=0))
    lumbar_puncture_safety: bool = True
    exclusions: tuple[str, ...] = ()

    def problems(self) -> Iterable[tuple[str, str]]:
        known = CATEGORIES[self.diagnostic_system]
        for i, category in enumerate(self.diagnosis_categories):
            if category not in known:
                yield (
                    f"diagnosis_categories[{i}]",
                    f"{self.diagnostic_system} has no category {category!r}; use {', '.join(known)}",
                )


@dataclass(frozen=True, slots=True)
class EligibilityFacts:
    """What is known about a patient at screening; None (or a missing key) means not recorded.

    ``diagnosis_category`` is in the protocol's diagnostic system. ``alsfrs_r_items`` is a full rating
    (as for :func:`alscell.domain.alsfrs.score`); when given, the total is taken from it. ``delta_fs`` is positive for
    decline (clinical.md §2). ``age_years`` is in completed years (an 80-year-old meets a maximum of 80
    until the 81st birthday). ``run_in_decline`` is ALSFRS-R points lost over the run-in.
    ``exclusions`` maps each named exclusion to whether it is present.
    """

    diagnosis_category: str | None = None
    familial: bool | None = None
    age_years: float | None = None
    alsfrs_r_total: int | None = None
    alsfrs_r_items: Mapping[str, int] | None = None
    vital_capacity_percent: float | None = None
    months_since_onset: float | None = None
    delta_fs: float | None = None
    encals_lp: float | None = None
    run_in_decline: float | None = None
    exclusions: Mapping[str, bool] = field(default_factory=dict)
    pre_puncture: PrePunctureFacts = field(default_factory=PrePunctureFacts)


@dataclass(frozen=True, slots=True)
class EligibilityResult:
    """Every criterion's answer; ``status`` is met only when all are met."""

    criteria: tuple[CriterionResult, ...]

    @property
    def status(self) -> Status:
        """Overall: not met if any criterion is not met, unknown if any is unknown, else met."""
        return overall_status(self.criteria)

    @property
    def eligible(self) -> bool:
        """True only when every criterion is met."""
        return self.status is Status.MET

    def with_status(self, status: Status) -> tuple[CriterionResult, ...]:
        """The criteria with this answer, e.g. what is still unknown."""
        return tuple(result for result in self.criteria if result.status is status)


def evaluate_eligibility(protocol: Protocol, facts: EligibilityFacts) -> EligibilityResult:
    """Answer each of the protocol's eligibility criteria for one patient.

    Pre-puncture checks (clinical.md §9.1) are included, with the protocol's safety thresholds, when its
    criteria ask for lumbar-puncture safety.
    """
    criteria = protocol.eligibility
    results = [
        _diagnosis(criteria, facts),
        *_optional(criteria, facts),
        *(_exclusion(name, facts.exclusions) for name in criteria.exclusions),
    ]
    if criteria.lumbar_puncture_safety:
        results.extend(check_pre_puncture(protocol.safety, facts.pre_puncture))
    return EligibilityResult(tuple(results))


def _diagnosis(criteria: EligibilityCriteria, facts: EligibilityFacts) -> CriterionResult:
    text = f"{criteria.diagnostic_system}: {' or '.join(criteria.diagnosis_categories)}"
    if facts.diagnosis_category is None:
        return CriterionResult("diagnosis", Status.UNKNOWN, None, text)
    met = facts.diagnosis_category in criteria.diagnosis_categories
    return CriterionResult(
        "diagnosis", Status.MET if met else Status.NOT_MET, facts.diagnosis_category, text
    )


def _optional(criteria: EligibilityCriteria, facts: EligibilityFacts) -> Iterable[CriterionResult]:
    if criteria.sporadic_only:
        yield _sporadic(facts.familial)
    ranges = (
        ("age_years", facts.age_years, criteria.age_years, "age", "years"),
        (
            "months_since_onset",
            facts.months_since_onset,
            criteria.months_since_onset,
            "months since onset",
            "",
        ),
        ("delta_fs", facts.delta_fs, criteria.delta_fs, "ΔFS", "points/month"),
        ("encals_lp", facts.encals_lp, criteria.encals_lp, "ENCALS linear predictor", ""),
    )
    for name, value, bounds, what, unit in ranges:
        if bounds is not None:
            yield check_range(name, value, bounds, what=what, unit=unit)
    floors = (
        ("alsfrs_r_total_min", _total(facts), criteria.alsfrs_r_total_min, "ALSFRS-R total", ""),
        ("vital_capacity_percent_min", facts.vital_capacity_percent, criteria.vital_capacity_percent_min,
         "vital capacity", "% predicted"),
        ("run_in_decline_min", facts.run_in_decline, criteria.run_in_decline_min,
         "ALSFRS-R decline over the run-in", "points"),
    )  # fmt: skip
    for name, value, floor, what, unit in floors:
        if floor is not None:
            yield check_range(name, value, Range(min=floor), what=what, unit=unit)
    if criteria.alsfrs_r_item_min is not None:
        yield _item_floor(criteria.alsfrs_r_item_min, facts.alsfrs_r_items)


def _total(facts: EligibilityFacts) -> int | None:
    """The ALSFRS-R total: from the items when given (which must agree with a total also given)."""
    if facts.alsfrs_r_items is None:
        return facts.alsfrs_r_total
    scored = alsfrs.score(facts.alsfrs_r_items).total
    if facts.alsfrs_r_total is not None and facts.alsfrs_r_total != scored:
        rule = f"{facts.alsfrs_r_total} does not match the total of the items given ({scored})"
        raise InvalidInput([Problem("alsfrs_r_total", rule)], subject="eligibility facts")
    return scored


def _sporadic(familial: bool | None) -> CriterionResult:
    text = "sporadic ALS (no familial ALS)"
    if familial is None:
        return CriterionResult("sporadic", Status.UNKNOWN, None, text)
    return CriterionResult(
        "sporadic", Status.NOT_MET if familial else Status.MET, not familial, text
    )


def _item_floor(floor: int, items: Mapping[str, int] | None) -> CriterionResult:
    text = f"every ALSFRS-R item >= {floor}"
    if items is None:
        return CriterionResult("alsfrs_r_item_min", Status.UNKNOWN, None, text)
    responses = alsfrs.validate(items)
    lowest = min(responses.values())
    return CriterionResult(
        "alsfrs_r_item_min", Status.MET if lowest >= floor else Status.NOT_MET, lowest, text
    )


def _exclusion(name: str, present: Mapping[str, bool]) -> CriterionResult:
    text = f"no {name.replace('_', ' ')}"
    value = present.get(name)
    if value is None:
        return CriterionResult(f"exclusion:{name}", Status.UNKNOWN, None, text)
    return CriterionResult(
        f"exclusion:{name}", Status.NOT_MET if value else Status.MET, value, text
    )
