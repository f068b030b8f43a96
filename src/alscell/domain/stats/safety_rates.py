"""Adverse-event rates per patient and per lumbar puncture, and post-dural-puncture headache (PDPH)
against published rates (clinical.md §9.2, §9.3).

Cell doses are given by lumbar puncture (LP), so every rate has two denominators: the patients treated
(at least one puncture) and the punctures given. For each category of event (any; CTCAE grade 1 to 5
and grade 3 or higher; serious; suspected to be related to the procedure, the product or a drug; PDPH)
:func:`tabulate_adverse_events` counts

- events, and patients with at least one, as a proportion of the patients treated with an exact
  (Clopper-Pearson) 95% interval;
- punctures followed by at least one such event, as a proportion of the punctures with a Clopper-Pearson
  interval, and events per puncture with an exact Poisson (Garwood) interval.

Per-puncture figures count only events linked to a puncture; events without a link count per patient
only, and each row says how many there were. :func:`compare_pdph` sets the PDPH rate per puncture beside
the published rates of a reference file (``comparators/safety.yaml``, parsed by
:func:`parse_safety_reference`) and gives the cumulative risk over the protocol's n punctures,
1 − (1 − p)^n, for the observed p (its interval carried through the transform, which is monotone) and
for each published p, with an exact two-sided binomial test against one chosen published rate.

The cumulative risk assumes punctures are independent, yet a previous PDPH is itself a risk factor;
the published rates come from other populations (risk falls with age, and differs by sex, BMI, needle
type and attempts; clinical.md §9.2). CTCAE has no PDPH term: which reported terms count as PDPH is
configurable (``pdph_terms``; :func:`is_pdph`) and UNVERIFIED (clinical.md §9.3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, TypeAlias

from scipy.stats import binomtest

from alscell.domain.adverse_events import SUSPECTED, Causality
from alscell.domain.protocol import Relatedness
from alscell.domain.schema import build, constraint
from alscell.domain.stats.intervals import Interval, clopper_pearson, poisson_interval
from alscell.domain.stats.natural_history import Sourced
from alscell.errors import InvalidInput, Problem

__all__ = [
    "PDPH_CAVEATS",
    "Category",
    "Confidence",
    "CumulativeRisk",
    "EventRate",
    "PdphComparison",
    "Proportion",
    "PublishedComparison",
    "PublishedRate",
    "RateKind",
    "RateRow",
    "SafetyEvent",
    "SafetyReference",
    "SafetyTable",
    "compare_pdph",
    "cumulative_risk",
    "is_pdph",
    "parse_safety_reference",
    "tabulate_adverse_events",
]

PatientKey: TypeAlias = int | str
PunctureKey: TypeAlias = int | str

CONFIDENCE: Final = 0.95
ID_PATTERN: Final = r"^[a-z0-9][a-z0-9-]*$"
TABLE_METHOD: Final = (
    "counts per patient treated and per lumbar puncture; exact Clopper-Pearson intervals for "
    "proportions and exact Poisson (Garwood) intervals for events per puncture"
)
PDPH_METHOD: Final = (
    "punctures followed by PDPH over punctures given, Clopper-Pearson interval; cumulative risk "
    "1 - (1 - p)^n over the protocol's punctures; exact two-sided binomial test against a published rate"
)
PDPH_CAVEATS: Final = (
    "The cumulative risk 1 - (1 - p)^n assumes punctures are independent; a previous PDPH is itself "
    "a risk factor (clinical.md §9.2), so the risk over a protocol may differ.",
    "Published rates come from other populations and needles: risk is higher in younger patients, "
    "in women, with low BMI, cutting needles and multiple attempts (clinical.md §9.2).",
    "Only PDPH linked to a puncture counts per puncture; unlinked reports count per patient only.",
    "Which reported terms count as PDPH is configurable and unverified: CTCAE has no PDPH term "
    "(clinical.md §9.3).",
)


class Confidence(StrEnum):
    """How well a published value is confirmed (clinical.md, "How to use this file")."""

    VERIFIED_2 = "VERIFIED-2"
    """Two or more independent sources."""
    VERIFIED_1 = "VERIFIED-1"
    """One source."""
    UNVERIFIED = "UNVERIFIED"
    """Not confirmed in the primary source."""


class RateKind(StrEnum):
    """Whether a published rate is an estimate or only an upper bound ("up to 35%")."""

    ESTIMATE = "estimate"
    UPPER_BOUND = "upper-bound"


@dataclass(frozen=True, slots=True)
class PublishedRate:
    """A published PDPH rate per puncture, with its source and how well it is confirmed."""

    id: str = field(metadata=constraint(pattern=ID_PATTERN, doc="lower-case letters, digits, -"))
    label: str
    rate: Sourced
    """The proportion of punctures followed by PDPH (0 to 1)."""
    confidence: Confidence
    kind: RateKind = RateKind.ESTIMATE

    def problems(self) -> Iterable[tuple[str, str]]:
        if not 0.0 <= self.rate.value <= 1.0:
            yield ("rate.value", f"must be a proportion from 0 to 1, got {self.rate.value}")


@dataclass(frozen=True, slots=True)
class SafetyReference:
    """A versioned reference file: which terms count as PDPH, and the published PDPH rates."""

    id: str = field(metadata=constraint(pattern=ID_PATTERN, doc="lower-case letters, digits, -"))
    version: str
    title: str
    pdph_terms: tuple[str, ...] = field(metadata=constraint(min_items=1))
    """Adverse-event terms counted as PDPH (matched by :func:`is_pdph`)."""
    pdph_rates: tuple[PublishedRate, ...] = field(metadata=constraint(min_items=1))

    @property
    def label(self) -> str:
        """How reports name the reference: id and version."""
        return f"{self.id} {self.version}"

    def get_rate(self, rate_id: str) -> PublishedRate:
        """The published rate with this id.

        Raises
        ------
        InvalidInput
            When the reference has no such rate (naming the ones it has).
        """
        for rate in self.pdph_rates:
            if rate.id == rate_id:
                return rate
        known = ", ".join(rate.id for rate in self.pdph_rates)
        rule = f"no published PDPH rate {rate_id!r} in {self.label}; known: {known}"
        raise InvalidInput([Problem("against", rule)], subject="PDPH comparison")

    def problems(self) -> Iterable[tuple[str, str]]:
        seen_terms: dict[str, int] = {}
        for i, term in enumerate(self.pdph_terms):
            key = _normalised(term)
            if key in seen_terms:
                yield (f"pdph_terms[{i}]", f"repeats pdph_terms[{seen_terms[key]}] ({term!r})")
            seen_terms.setdefault(key, i)
        seen_ids: dict[str, int] = {}
        for i, rate in enumerate(self.pdph_rates):
            if rate.id in seen_ids:
                yield (f"pdph_rates[{i}].id", f"repeats pdph_rates[{seen_ids[rate.id]}].id")
            seen_ids.setdefault(rate.id, i)


def parse_safety_reference(data: object) -> SafetyReference:
    """Validate parsed YAML or JSON into a safety reference.

    Raises
    ------
    InvalidInput
        Listing every problem with its path, e.g. ``pdph_rates[1].rate.value: must be a proportion``.
    """
    return build(SafetyReference, data, subject="safety reference")


def is_pdph(term: str, terms: Iterable[str]) -> bool:
    """Whether a reported adverse-event term is one of the ``terms`` counted as PDPH.

    Matches whole terms, ignoring case, hyphens and spacing: "Post-Dural-Puncture  Headache" matches
    "post dural puncture headache", but "headache" alone does not.
    """
    key = _normalised(term)
    return any(key == _normalised(known) for known in terms)


def _normalised(term: str) -> str:
    return " ".join(term.replace("-", " ").casefold().split())


# ---------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyEvent:
    """What the rates need to know about one adverse event."""

    patient: PatientKey
    ctcae_grade: int
    """CTCAE v5.0 grade, 1 (mild) to 5 (death) (clinical.md §9.3)."""
    serious: bool
    causality: Mapping[Relatedness, Causality] = field(default_factory=dict)
    """Assessed causality per procedure, product and drug; a missing entry is not suspected."""
    puncture: PunctureKey | None = None
    """The lumbar puncture the event followed (unique across patients), or None."""
    pdph: bool = False
    """Whether the event is a post-dural-puncture headache (see :func:`is_pdph`)."""


class Category(StrEnum):
    """The rows of the safety table."""

    ANY = "any"
    GRADE_1 = "grade-1"
    GRADE_2 = "grade-2"
    GRADE_3 = "grade-3"
    GRADE_4 = "grade-4"
    GRADE_5 = "grade-5"
    GRADE_3_OR_HIGHER = "grade-3-or-higher"
    SERIOUS = "serious"
    RELATED_TO_PROCEDURE = "related-to-procedure"
    RELATED_TO_PRODUCT = "related-to-product"
    RELATED_TO_DRUG = "related-to-drug"
    PDPH = "pdph"


def _related(thing: Relatedness) -> Callable[[SafetyEvent], bool]:
    return lambda event: event.causality.get(thing) in SUSPECTED


def _grade(grade: int) -> Callable[[SafetyEvent], bool]:
    return lambda event: event.ctcae_grade == grade


_MEMBERSHIP: Final[Mapping[Category, Callable[[SafetyEvent], bool]]] = {
    Category.ANY: lambda _event: True,
    Category.GRADE_1: _grade(1),
    Category.GRADE_2: _grade(2),
    Category.GRADE_3: _grade(3),
    Category.GRADE_4: _grade(4),
    Category.GRADE_5: _grade(5),
    Category.GRADE_3_OR_HIGHER: lambda event: event.ctcae_grade >= 3,
    Category.SERIOUS: lambda event: event.serious,
    Category.RELATED_TO_PROCEDURE: _related(Relatedness.PROCEDURE),
    Category.RELATED_TO_PRODUCT: _related(Relatedness.PRODUCT),
    Category.RELATED_TO_DRUG: _related(Relatedness.DRUG),
    Category.PDPH: lambda event: event.pdph,
}


@dataclass(frozen=True, slots=True)
class Proportion:
    """``count`` of ``total`` with an exact interval; no estimate or interval when ``total`` is 0."""

    count: int
    total: int
    interval: Interval | None

    @property
    def estimate(self) -> float | None:
        return self.count / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class EventRate:
    """Events per puncture with an exact Poisson interval; none when no puncture was given."""

    events: int
    punctures: int
    interval: Interval | None

    @property
    def estimate(self) -> float | None:
        return self.events / self.punctures if self.punctures else None


@dataclass(frozen=True, slots=True, kw_only=True)
class RateRow:
    """One category of adverse event, per patient and per puncture."""

    category: Category
    events: int
    """Every event in the category, linked to a puncture or not."""
    patients: Proportion
    """Patients with at least one such event, of the patients treated."""
    punctures: Proportion
    """Punctures followed by at least one such event, of the punctures given."""
    per_puncture: EventRate
    """Events linked to a puncture, per puncture given."""
    unlinked_events: int
    """Events not linked to a puncture: counted per patient only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyTable:
    """Adverse events per patient treated and per lumbar puncture, one row per category."""

    patients_treated: int
    punctures: int
    rows: tuple[RateRow, ...]
    confidence: float
    method: str = TABLE_METHOD

    def row(self, category: Category) -> RateRow:
        """The row of ``category``."""
        return next(row for row in self.rows if row.category is category)


def tabulate_adverse_events(
    events: Sequence[SafetyEvent],
    *,
    patients_treated: int,
    punctures: int,
    confidence: float = CONFIDENCE,
) -> SafetyTable:
    """Adverse events by category, per patient treated and per lumbar puncture (clinical.md §9.2, §9.3).

    ``patients_treated`` counts patients with at least one puncture, ``punctures`` the cell doses given
    by lumbar puncture. Proportions have Clopper-Pearson intervals, events per puncture Garwood intervals;
    with a zero denominator neither is defined and both are None. Zero events give [0, upper].

    Raises
    ------
    InvalidInput
        Listing every problem: a grade outside 1-5; more patients with events than patients treated;
        more punctures with events than punctures given.
    ValueError
        When a count is not a whole number >= 0.
    """
    _check_count("patients_treated", patients_treated)
    _check_count("punctures", punctures)
    _check_events(events, patients_treated=patients_treated, punctures=punctures)
    rows = tuple(
        _row(
            category,
            [event for event in events if member(event)],
            patients_treated=patients_treated,
            punctures=punctures,
            confidence=confidence,
        )
        for category, member in _MEMBERSHIP.items()
    )
    return SafetyTable(
        patients_treated=patients_treated, punctures=punctures, rows=rows, confidence=confidence
    )


def _row(
    category: Category,
    events: Sequence[SafetyEvent],
    *,
    patients_treated: int,
    punctures: int,
    confidence: float,
) -> RateRow:
    linked = [event for event in events if event.puncture is not None]
    rate = EventRate(
        len(linked), punctures, _garwood_rate(len(linked), punctures, confidence=confidence)
    )
    return RateRow(
        category=category,
        events=len(events),
        patients=_proportion(
            len({e.patient for e in events}), patients_treated, confidence=confidence
        ),
        punctures=_proportion(len({e.puncture for e in linked}), punctures, confidence=confidence),
        per_puncture=rate,
        unlinked_events=len(events) - len(linked),
    )


def _proportion(count: int, total: int, *, confidence: float) -> Proportion:
    interval = clopper_pearson(count, total, confidence) if total else None
    return Proportion(count, total, interval)


def _garwood_rate(events: int, punctures: int, *, confidence: float) -> Interval | None:
    if not punctures:
        return None
    count = poisson_interval(events, confidence=confidence)
    return Interval(count.low / punctures, count.high / punctures)


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")


def _check_events(events: Sequence[SafetyEvent], *, patients_treated: int, punctures: int) -> None:
    problems = [
        Problem(f"events[{i}].ctcae_grade", f"must be a CTCAE grade 1-5, got {event.ctcae_grade!r}")
        for i, event in enumerate(events)
        if isinstance(event.ctcae_grade, bool) or event.ctcae_grade not in range(1, 6)
    ]
    patients = len({event.patient for event in events})
    if patients > patients_treated:
        rule = f"{patients} patients have events but {patients_treated} were treated"
        problems.append(Problem("events", rule))
    linked = len({event.puncture for event in events if event.puncture is not None})
    if linked > punctures:
        problems.append(
            Problem("events", f"{linked} punctures have events but {punctures} were given")
        )
    if problems:
        raise InvalidInput(problems, subject="adverse-event counts")


# ---------------------------------------------------------------- PDPH against published rates


def cumulative_risk(per_puncture: float, punctures: int) -> float:
    """The chance of at least one event over ``punctures`` independent punctures: 1 − (1 − p)^n."""
    if not (math.isfinite(per_puncture) and 0.0 <= per_puncture <= 1.0):
        raise ValueError(f"per_puncture must be a proportion from 0 to 1, got {per_puncture}")
    _check_count("punctures", punctures)
    return 1.0 - (1.0 - per_puncture) ** punctures


@dataclass(frozen=True, slots=True)
class CumulativeRisk:
    """A per-puncture risk and the risk over the protocol's punctures, with an interval if estimated."""

    per_puncture: float
    over_protocol: float
    interval: Interval | None = None
    """The per-puncture interval carried through 1 − (1 − p)^n (monotone in p)."""


@dataclass(frozen=True, slots=True)
class PublishedComparison:
    """A published rate and the cumulative risk it gives over the protocol's punctures."""

    rate: PublishedRate
    risk: CumulativeRisk
    """For an upper bound ("up to"), both figures are upper bounds too."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PdphComparison:
    """PDPH per puncture and per patient beside published rates (clinical.md §9.2)."""

    observed: RateRow
    protocol_punctures: int
    observed_risk: CumulativeRisk | None
    """The observed per-puncture rate over the protocol's punctures; None before any puncture."""
    published: tuple[PublishedComparison, ...]
    against: PublishedRate
    p_value: float | None
    """Exact two-sided binomial test of the PDPH punctures against ``against``; None before any puncture."""
    reference: str
    confidence: float
    method: str = PDPH_METHOD
    caveats: tuple[str, ...] = PDPH_CAVEATS


def compare_pdph(
    events: Sequence[SafetyEvent],
    *,
    patients_treated: int,
    punctures: int,
    protocol_punctures: int,
    reference: SafetyReference,
    against: str,
    confidence: float = CONFIDENCE,
) -> PdphComparison:
    """The PDPH rate per puncture beside the published rates, and the risk over a protocol's punctures.

    p = punctures followed by PDPH / punctures given (Clopper-Pearson interval). The risk over the
    protocol's n punctures is 1 − (1 − p)^n for the observed p, with the interval's limits transformed
    the same way, and for each published p. ``against`` names the published rate (an estimate, chosen by
    the program's needle type) that the observed count is tested against with an exact two-sided
    binomial test.

    Raises
    ------
    InvalidInput
        As :func:`tabulate_adverse_events`; or when ``against`` is not in the reference or is only an
        upper bound.
    ValueError
        When a count is not a whole number, or ``protocol_punctures`` is below 1.
    """
    if (
        isinstance(protocol_punctures, bool)
        or not isinstance(protocol_punctures, int)
        or protocol_punctures < 1
    ):
        raise ValueError(
            f"protocol_punctures must be a whole number >= 1, got {protocol_punctures!r}"
        )
    chosen = reference.get_rate(against)
    if chosen.kind is RateKind.UPPER_BOUND:
        rule = f"{against!r} is an upper bound, not a rate to test against; choose an estimate"
        raise InvalidInput([Problem("against", rule)], subject="PDPH comparison")
    table = tabulate_adverse_events(
        events, patients_treated=patients_treated, punctures=punctures, confidence=confidence
    )
    observed = table.row(Category.PDPH)
    return PdphComparison(
        observed=observed,
        protocol_punctures=protocol_punctures,
        observed_risk=_observed_risk(observed.punctures, protocol_punctures),
        published=tuple(
            PublishedComparison(
                rate,
                CumulativeRisk(
                    rate.rate.value, cumulative_risk(rate.rate.value, protocol_punctures)
                ),
            )
            for rate in reference.pdph_rates
        ),
        against=chosen,
        p_value=_binomial_p(observed.punctures, chosen.rate.value),
        reference=reference.label,
        confidence=confidence,
    )


def _observed_risk(share: Proportion, n: int) -> CumulativeRisk | None:
    if share.interval is None:
        return None
    p = share.count / share.total
    low, high = share.interval.low, share.interval.high
    return CumulativeRisk(
        p, cumulative_risk(p, n), Interval(cumulative_risk(low, n), cumulative_risk(high, n))
    )


def _binomial_p(share: Proportion, rate: float) -> float | None:
    if not share.total:
        return None
    return float(binomtest(share.count, share.total, rate).pvalue)
