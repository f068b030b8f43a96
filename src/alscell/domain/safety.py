"""Pre-puncture safety checks for lumbar puncture and intraspinal procedures (clinical.md §9.1).

Thresholds come from the protocol (:class:`SafetyThresholds`), with the reference's defaults:
platelets >= 50 × 10^9/L, INR <= 1.4, the ASRA-style anticoagulant hold times, and the absolute
contraindications. Every check answers met / not met / unknown with the value used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from alscell.domain.criteria import CriterionResult, Status
from alscell.domain.schema import constraint

__all__ = [
    "ABSOLUTE_CONTRAINDICATIONS",
    "DEFAULT_HOLD_HOURS",
    "PrePunctureFacts",
    "SafetyThresholds",
    "check_pre_puncture",
]

DEFAULT_HOLD_HOURS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "rivaroxaban": 72,  # treatment dose; VERIFIED-1
        "apixaban": 72,  # treatment dose; VERIFIED-1
        "dabigatran": 120,  # UNVERIFIED: set it in the protocol after local review
        "warfarin": 120,  # ~5 days and a normal INR; VERIFIED-2
        "clopidogrel": 168,  # 7 days; VERIFIED-1
        "prasugrel": 240,  # 10 days; VERIFIED-1
        "ticagrelor": 120,  # 5 days; VERIFIED-1
        "heparin_iv": 4,  # and a normal aPTT; VERIFIED-2
        "heparin_sc_prophylactic": 6,  # 4-6 h; VERIFIED-2
        "lmwh_prophylactic": 12,  # 10-12 h; VERIFIED-2
        "lmwh_therapeutic": 24,  # VERIFIED-2
        "aspirin": 0,  # no restriction alone; VERIFIED-1
        "nsaid": 0,  # no restriction alone; VERIFIED-1
    }
)
"""Hours to stop each drug before a neuraxial puncture (clinical.md §9.1, ASRA 4th ed. 2018)."""

ABSOLUTE_CONTRAINDICATIONS: Final = (
    "raised_intracranial_pressure",
    "local_infection",
    "spinal_cord_compression",
    "chiari_malformation",
    "tethered_cord",
)


@dataclass(frozen=True, slots=True)
class SafetyThresholds:
    """The protocol's pre-puncture limits; every value configurable (clinical.md §9.1)."""

    platelets_min_10e9_per_l: float = field(default=50.0, metadata=constraint(gt=0))
    inr_max: float = field(default=1.4, metadata=constraint(gt=0))
    anticoagulant_hold_hours: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_HOLD_HOURS, metadata=constraint(ge=0)
    )
    contraindications: tuple[str, ...] = ABSOLUTE_CONTRAINDICATIONS
    relative_contraindications: tuple[str, ...] = ("cardiorespiratory_insufficiency",)

    def problems(self) -> Iterable[tuple[str, str]]:
        both = set(self.contraindications) & set(self.relative_contraindications)
        if both:
            yield (
                "relative_contraindications",
                f"also listed as absolute: {', '.join(sorted(both))}",
            )


@dataclass(frozen=True, slots=True)
class PrePunctureFacts:
    """What is known before a puncture; None or a missing key means not recorded.

    ``hours_since_last_dose`` maps a drug to the hours since its last dose; a drug the patient does not
    take is simply absent. ``findings`` maps a contraindication to whether it is present.
    ``anticoagulants_reviewed`` says the medication list was checked at all.
    """

    platelets_10e9_per_l: float | None = None
    inr: float | None = None
    anticoagulants_reviewed: bool = False
    hours_since_last_dose: Mapping[str, float] = field(default_factory=dict)
    findings: Mapping[str, bool] = field(default_factory=dict)


def check_pre_puncture(
    thresholds: SafetyThresholds, facts: PrePunctureFacts
) -> tuple[CriterionResult, ...]:
    """Check platelets, INR, anticoagulant hold times and contraindications (clinical.md §9.1).

    Relative contraindications are reported as their own criteria; when present they need a physician's
    review rather than blocking outright. A drug without a hold time in the protocol needs review too.
    Hours since each drug's last dose are checked even before the medication list is marked reviewed.
    """
    return (
        _at_least(
            "platelets", facts.platelets_10e9_per_l, thresholds.platelets_min_10e9_per_l, "× 10^9/L"
        ),
        _at_most("inr", facts.inr, thresholds.inr_max),
        *_holds(thresholds, facts),
        *(_absent(name, facts.findings) for name in thresholds.contraindications),
        *(
            _absent(name, facts.findings, relative=True)
            for name in thresholds.relative_contraindications
        ),
    )


def _at_least(name: str, value: float | None, minimum: float, unit: str) -> CriterionResult:
    text = f"{name} >= {minimum:g} {unit}".rstrip()
    if value is None:
        return CriterionResult(name, Status.UNKNOWN, None, text)
    return CriterionResult(name, Status.MET if value >= minimum else Status.NOT_MET, value, text)


def _at_most(name: str, value: float | None, maximum: float) -> CriterionResult:
    text = f"{name.upper()} <= {maximum:g}"
    if value is None:
        return CriterionResult(name, Status.UNKNOWN, None, text)
    return CriterionResult(name, Status.MET if value <= maximum else Status.NOT_MET, value, text)


def _holds(thresholds: SafetyThresholds, facts: PrePunctureFacts) -> Iterable[CriterionResult]:
    reviewed = "anticoagulants and antiplatelets reviewed"
    if facts.anticoagulants_reviewed:
        yield CriterionResult("anticoagulants", Status.MET, True, reviewed)
    else:
        yield CriterionResult("anticoagulants", Status.UNKNOWN, None, reviewed)
    for drug, hours in sorted(facts.hours_since_last_dose.items()):
        hold = thresholds.anticoagulant_hold_hours.get(drug)
        criterion = f"hold:{drug}"
        if hold is None:
            text = f"{drug}: no hold time in the protocol; a physician must decide"
            yield CriterionResult(criterion, Status.REVIEW, hours, text)
            continue
        status = Status.MET if hours >= hold else Status.NOT_MET
        yield CriterionResult(
            criterion, status, hours, f"last {drug} dose >= {hold:g} h before puncture"
        )


def _absent(name: str, findings: Mapping[str, bool], *, relative: bool = False) -> CriterionResult:
    kind = "relative contraindication" if relative else "contraindication"
    text = f"no {name.replace('_', ' ')} ({kind})"
    criterion = f"{'relative:' if relative else ''}{name}"
    present = findings.get(name)
    if present is None:
        return CriterionResult(criterion, Status.UNKNOWN, None, text)
    if not present:
        return CriterionResult(criterion, Status.MET, present, text)
    return CriterionResult(criterion, Status.REVIEW if relative else Status.NOT_MET, present, text)
