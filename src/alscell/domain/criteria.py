"""Criteria checked against a patient's facts: each answer is met, not met or unknown, with its value.

Eligibility (clinical.md §2, §5, §8, §12) and pre-puncture safety checks (clinical.md §9.1) both report
every criterion this way, never a bare boolean, so a screen can show what was decided and on what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CriterionResult", "Range", "Status", "check_range", "overall_status"]


class Status(StrEnum):
    """The answer for one criterion.

    ``unknown``: the fact needed was not recorded. ``review``: recorded, but the rule leaves the decision
    to a physician (a relative contraindication present, a drug with no hold time in the protocol).
    """

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion's answer, the value it was decided on, and the rule in words."""

    criterion: str
    status: Status
    value: object
    rule: str


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive bounds; either may be absent, not both."""

    min: float | None = None
    max: float | None = None

    def problems(self) -> Iterable[tuple[str, str]]:
        if self.min is None and self.max is None:
            yield "min", "give min, max or both"
        elif self.min is not None and self.max is not None and self.min > self.max:
            yield "max", f"must be >= min ({self.min:g}), got {self.max:g}"

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies within the bounds, both inclusive."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self, unit: str = "") -> str:
        """The bounds in words, e.g. ``between 0.3 and 1.5 points/month``."""
        suffix = f" {unit}" if unit else ""
        if self.min is not None and self.max is not None:
            return f"between {self.min:g} and {self.max:g}{suffix}"
        if self.min is not None:
            return f">= {self.min:g}{suffix}"
        return f"<= {self.max:g}{suffix}"


def overall_status(results: Iterable[CriterionResult]) -> Status:
    """Not met if any criterion is not met; else unknown if any fact is missing; else review if a
    physician must decide anything; else met."""
    statuses = {result.status for result in results}
    for status in (Status.NOT_MET, Status.UNKNOWN, Status.REVIEW):
        if status in statuses:
            return status
    return Status.MET


def check_range(
    criterion: str, value: float | None, bounds: Range, *, what: str, unit: str = ""
) -> CriterionResult:
    """A range criterion: unknown without a value, else met when the value lies within the bounds."""
    text = f"{what} {bounds.describe(unit)}"
    if value is None:
        return CriterionResult(criterion, Status.UNKNOWN, None, text)
    status = Status.MET if bounds.contains(value) else Status.NOT_MET
    return CriterionResult(criterion, status, value, text)
