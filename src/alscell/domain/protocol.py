"""A treatment program as data: the protocol schema, validated from plain data into frozen dataclasses.

A protocol file (YAML in ``protocols/``, read at the edge) declares the program's eligibility criteria,
phases and activities (day offsets from the start, repeat rules, windows, minimum intervals between
doses, what each records), its cell product and release criteria (clinical.md §10), pre-puncture safety
thresholds (§9.1), stopping rules, follow-up visits and the analysis plan. :func:`parse_protocol` turns
parsed data into a :class:`Protocol` or raises one :class:`~alscell.errors.InvalidInput` listing every
problem with its path, e.g. ``phases[2].activities[0].window_days: must be >= 0``. Checks that span the
whole protocol (unique ids, anchors, links, the length against its bounds) run once every field is
valid, so a file with field mistakes shows those first, then any such problems once they are fixed.

Days are counted from the program's start, day 0. Programs from clinical.md §12 (three doses eight weeks
apart, two doses 26 days apart, a single intraspinal surgery) are expressed in the same schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from alscell.domain.eligibility import EligibilityCriteria
from alscell.domain.product import CellProduct
from alscell.domain.safety import SafetyThresholds
from alscell.domain.schema import build, constraint

__all__ = [
    "CELL_DOSE_KINDS",
    "MAX_DAYS",
    "Activity",
    "ActivityKind",
    "AnalysisPlan",
    "Anchor",
    "Cascade",
    "Comparator",
    "ControlType",
    "DurationBounds",
    "FollowUp",
    "FollowUpVisit",
    "Phase",
    "Protocol",
    "Record",
    "Repeat",
    "RepeatRule",
    "StoppingRule",
    "parse_protocol",
]

MAX_DAYS: Final = (
    3653  # ten years: no program runs longer, and dates stay far from the calendar's end
)
MAX_WINDOW_DAYS: Final = 365
MAX_FOLLOW_UP_MONTHS: Final = 240.0

_ID = constraint(
    pattern=r"[a-z0-9]+(?:[-_][a-z0-9]+)*", doc="lower-case letters and digits, joined by - or _"
)


class ActivityKind(StrEnum):
    """What an activity is (DESIGN.md, "The program as data"; clinical.md §12 routes)."""

    EXAMINATION = "examination"
    LAB_PANEL = "lab_panel"
    ASSESSMENT = "assessment"
    MEDICATION = "medication"
    IV_INFUSION = "iv_infusion"
    REHABILITATION = "rehabilitation"
    TISSUE_HARVEST = "tissue_harvest"
    LUMBAR_PUNCTURE_IMPLANTATION = "lumbar_puncture_implantation"
    INTRASPINAL_IMPLANTATION = "intraspinal_implantation"
    INTRAMUSCULAR_IMPLANTATION = "intramuscular_implantation"
    FOLLOW_UP_VISIT = "follow_up_visit"


CELL_DOSE_KINDS: Final = frozenset(
    {
        ActivityKind.LUMBAR_PUNCTURE_IMPLANTATION,
        ActivityKind.INTRASPINAL_IMPLANTATION,
        ActivityKind.INTRAMUSCULAR_IMPLANTATION,
    }
)
"""Activities that give the protocol's cell product: each needs a released unit for the patient."""


class Record(StrEnum):
    """What an activity records; the vocabulary catches typos in protocol files."""

    ALSFRS_R = "alsfrs_r"
    VITAL_CAPACITY = "vital_capacity"
    WEIGHT = "weight"
    VITAL_SIGNS = "vital_signs"
    NEUROLOGICAL_EXAM = "neurological_exam"
    MUSCLE_STRENGTH = "muscle_strength"
    EMG = "emg"
    IMAGING = "imaging"
    ORGAN_FUNCTION_LABS = "organ_function_labs"
    HEMATOLOGY = "hematology"
    COAGULATION = "coagulation"
    CSF_ANALYSIS = "csf_analysis"
    PRE_PUNCTURE_CHECKS = "pre_puncture_checks"
    CELL_PRODUCT_UNIT = "cell_product_unit"
    DOSE_CELLS = "dose_cells"
    MEDICATION = "medication"
    INFUSION = "infusion"
    SESSION_MINUTES = "session_minutes"
    SYMPTOMS = "symptoms"
    ADVERSE_EVENTS = "adverse_events"
    SURVIVAL_STATUS = "survival_status"


class RepeatRule(StrEnum):
    """How an activity recurs: once; on consecutive days; every N days; or as clinically needed."""

    ONCE = "once"
    DAILY = "daily"
    EVERY_N_DAYS = "every_n_days"
    AS_NEEDED = "as_needed"


class Cascade(StrEnum):
    """How later occurrences move when an earlier one is given off its planned day.

    ``keep_interval``: the next is planned ``every_days`` after the previous one as actually given.
    ``keep_calendar``: the next stays on its original day unless that breaks the minimum interval.
    """

    KEEP_INTERVAL = "keep_interval"
    KEEP_CALENDAR = "keep_calendar"


@dataclass(frozen=True, slots=True)
class Repeat:
    """Recurrence of an activity: ``count`` occurrences (consecutive days for ``daily``)."""

    rule: RepeatRule = RepeatRule.ONCE
    count: int = field(default=1, metadata=constraint(ge=1, le=MAX_DAYS))
    every_days: int | None = field(default=None, metadata=constraint(ge=1, le=MAX_DAYS))
    cascade: Cascade = Cascade.KEEP_INTERVAL

    def problems(self) -> Iterable[tuple[str, str]]:
        if self.rule is RepeatRule.EVERY_N_DAYS and self.every_days is None:
            yield "every_days", "required for every_n_days"
        if self.rule is not RepeatRule.EVERY_N_DAYS and self.every_days is not None:
            yield "every_days", f"only used with every_n_days, not {self.rule}"
        if self.rule in (RepeatRule.ONCE, RepeatRule.AS_NEEDED) and self.count != 1:
            yield "count", f"must be 1 (or left out) for {self.rule}"

    @property
    def span_days(self) -> int:
        """Days from the first to the last occurrence as planned."""
        if self.rule is RepeatRule.DAILY:
            return self.count - 1
        if self.rule is RepeatRule.EVERY_N_DAYS:
            return (self.count - 1) * (self.every_days or 0)
        return 0


@dataclass(frozen=True, slots=True)
class Activity:
    """One planned activity of a phase. ``day`` counts from the program start (day 0).

    ``linked_to`` ties each occurrence to the same occurrence of another activity, keeping the days
    between them as planned (e.g. blood counts the day before each implantation): when the other
    moves, this one moves with it.
    """

    id: str = field(metadata=_ID)
    kind: ActivityKind
    name: str
    day: int = field(metadata=constraint(ge=0, le=MAX_DAYS))
    repeat: Repeat = Repeat()
    window_days: int = field(default=0, metadata=constraint(ge=0, le=MAX_WINDOW_DAYS))
    min_interval_days: int | None = field(default=None, metadata=constraint(ge=1, le=MAX_DAYS))
    duration_minutes: int | None = field(default=None, metadata=constraint(ge=1, le=24 * 60))
    records: tuple[Record, ...] = ()
    linked_to: str | None = None
    notes: str | None = None

    def problems(self) -> Iterable[tuple[str, str]]:
        if self.kind is ActivityKind.FOLLOW_UP_VISIT:
            yield "kind", "follow-up visits belong in follow_up.visits, not in a phase"
        every = self.repeat.every_days
        if (
            self.min_interval_days is not None
            and every is not None
            and self.min_interval_days > every
        ):
            yield (
                "min_interval_days",
                f"must be <= repeat.every_days ({every}), got {self.min_interval_days}",
            )
        if self.repeat.rule is RepeatRule.DAILY and self.min_interval_days not in (None, 1):
            yield "min_interval_days", "daily activities cannot have a minimum interval above 1 day"
        if self.cell_dose and Record.CELL_PRODUCT_UNIT not in self.records:
            yield "records", "a cell dose must record its cell_product_unit"

    @property
    def cell_dose(self) -> bool:
        """Whether this activity gives the protocol's cell product."""
        return self.kind in CELL_DOSE_KINDS

    @property
    def last_day(self) -> int:
        """Planned day of the last occurrence."""
        return self.day + self.repeat.span_days


@dataclass(frozen=True, slots=True)
class Phase:
    """A named group of activities, e.g. screening, treatment."""

    id: str = field(metadata=_ID)
    name: str
    activities: tuple[Activity, ...] = field(metadata=constraint(min_items=1))


class Anchor(StrEnum):
    """Which occurrence of the anchor activity follow-up is counted from."""

    FIRST = "first"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class FollowUpVisit:
    """A visit ``months`` after the anchor (months of 30.4375 days), within ± ``window_days``."""

    id: str = field(metadata=_ID)
    name: str
    months: float = field(metadata=constraint(gt=0, le=MAX_FOLLOW_UP_MONTHS))
    window_days: int = field(default=0, metadata=constraint(ge=0, le=MAX_WINDOW_DAYS))
    records: tuple[Record, ...] = ()


@dataclass(frozen=True, slots=True)
class FollowUp:
    """Follow-up visits counted from the first or last occurrence of an activity (usually a dose)."""

    anchor_activity: str
    visits: tuple[FollowUpVisit, ...] = field(metadata=constraint(min_items=1))
    anchor: Anchor = Anchor.LAST


@dataclass(frozen=True, slots=True)
class DurationBounds:
    """Bounds on the treatment program's length in days, day 0 through its last activity inclusive."""

    min_days: int = field(metadata=constraint(ge=1, le=MAX_DAYS))
    max_days: int = field(metadata=constraint(ge=1, le=MAX_DAYS))

    def problems(self) -> Iterable[tuple[str, str]]:
        if self.min_days > self.max_days:
            yield "max_days", f"must be >= min_days ({self.min_days}), got {self.max_days}"


class Relatedness(StrEnum):
    """What an adverse event may be related to."""

    PROCEDURE = "procedure"
    PRODUCT = "product"
    DRUG = "drug"


@dataclass(frozen=True, slots=True)
class StoppingRule:
    """When new doses halt program-wide until a physician records a decision (DESIGN.md, safety)."""

    id: str = field(metadata=_ID)
    description: str
    min_ctcae_grade: int = field(metadata=constraint(ge=1, le=5))
    related_to: tuple[Relatedness, ...] = field(metadata=constraint(min_items=1))
    serious_only: bool = False
    count: int = field(default=1, metadata=constraint(ge=1))


class Comparator(StrEnum):
    """What outcomes are compared with (clinical.md §11: at minimum a natural-history comparator)."""

    NATURAL_HISTORY = "natural_history"
    PRO_ACT = "pro_act"
    CONCURRENT_CONTROL = "concurrent_control"


class ControlType(StrEnum):
    """The design's control arm (clinical.md §12 protocol-engine fields)."""

    NONE = "none"
    PLACEBO = "placebo"
    SHAM = "sham"
    OPEN_LABEL_STANDARD_OF_CARE = "open_label_standard_of_care"


@dataclass(frozen=True, slots=True)
class AnalysisPlan:
    """The pre-declared analysis: locked before the first patient is treated (DESIGN.md).

    The primary outcome is the ALSFRS-R total change from baseline at ``time_point_months`` after the
    anchor: improved when the change is >= ``improved_min_change``, worsened when <=
    ``worsened_max_change``, stable between, and dead whatever the change.
    """

    version: str
    primary_outcome: str
    time_point_months: float = field(metadata=constraint(gt=0, le=MAX_FOLLOW_UP_MONTHS))
    anchor_activity: str
    improved_min_change: float
    worsened_max_change: float
    comparator: Comparator
    control: ControlType = ControlType.NONE
    responder_slope_improvement: float = field(default=1.25, metadata=constraint(gt=0))
    rater_blinded: bool = False
    """Whether the ALSFRS-R raters do not know who was treated (only possible with a control arm)."""

    def problems(self) -> Iterable[tuple[str, str]]:
        if not self.worsened_max_change < 0 < self.improved_min_change:
            yield (
                "improved_min_change",
                "stable must include no change: worsened_max_change < 0 < improved_min_change",
            )
        if self.rater_blinded and self.control is ControlType.NONE:
            yield (
                "rater_blinded",
                "a single-arm design cannot blind its raters: everyone rated was treated",
            )
        if self.primary_outcome != "alsfrs_r_total_change":
            yield (
                "primary_outcome",
                f"only alsfrs_r_total_change is supported, got {self.primary_outcome!r}",
            )


@dataclass(frozen=True, slots=True)
class Protocol:
    """A versioned treatment program (DESIGN.md, "The program as data")."""

    id: str = field(metadata=_ID)
    version: str
    title: str
    duration: DurationBounds
    eligibility: EligibilityCriteria
    phases: tuple[Phase, ...] = field(metadata=constraint(min_items=1))
    follow_up: FollowUp
    analysis_plan: AnalysisPlan
    product: CellProduct | None = None
    safety: SafetyThresholds = field(default_factory=SafetyThresholds)
    stopping_rules: tuple[StoppingRule, ...] = ()
    source: str | None = None
    description: str | None = None

    def problems(self) -> Iterable[tuple[str, str]]:
        yield from self._duplicate_ids()
        dose_ids = {a.id for a in self.activities() if a.cell_dose}
        activity_ids = {a.id for a in self.activities()}
        if dose_ids and self.product is None:
            yield "product", "required: the protocol gives cell doses"
        anchor = self.follow_up.anchor_activity
        if anchor not in activity_ids:
            yield "follow_up.anchor_activity", f"no activity {anchor!r} in the phases"
        elif self.activity(anchor).repeat.rule is RepeatRule.AS_NEEDED:
            yield (
                "follow_up.anchor_activity",
                f"{anchor!r} is as-needed and has no planned date to count from",
            )
        if self.analysis_plan.anchor_activity not in activity_ids | {"start"}:
            yield (
                "analysis_plan.anchor_activity",
                f"no activity {self.analysis_plan.anchor_activity!r}; use an activity id or start",
            )
        yield from self._length_problems()
        yield from self._link_problems()

    def activities(self) -> Iterator[Activity]:
        """Every activity of every phase, in file order."""
        for phase in self.phases:
            yield from phase.activities

    def activity(self, activity_id: str) -> Activity:
        """The activity with this id; KeyError if there is none."""
        for activity in self.activities():
            if activity.id == activity_id:
                return activity
        raise KeyError(activity_id)

    @property
    def planned_days(self) -> int:
        """Length of the treatment program as planned: day 0 through the last activity, inclusive."""
        return 1 + max(activity.last_day for activity in self.activities())

    def _duplicate_ids(self) -> Iterator[tuple[str, str]]:
        seen: dict[str, str] = {}
        places = [(f"phases[{p}].id", phase.id) for p, phase in enumerate(self.phases)]
        places += [
            (f"phases[{p}].activities[{a}].id", activity.id)
            for p, phase in enumerate(self.phases)
            for a, activity in enumerate(phase.activities)
        ]
        places += [
            (f"follow_up.visits[{v}].id", visit.id) for v, visit in enumerate(self.follow_up.visits)
        ]
        for path, identifier in places:
            if identifier in seen:
                yield path, f"duplicate id {identifier!r} (also at {seen[identifier]})"
            else:
                seen[identifier] = path

    def _link_problems(self) -> Iterator[tuple[str, str]]:
        by_id = {activity.id: activity for activity in self.activities()}
        for p, phase in enumerate(self.phases):
            for a, activity in enumerate(phase.activities):
                if activity.linked_to is None:
                    continue
                where = f"phases[{p}].activities[{a}].linked_to"
                target = by_id.get(activity.linked_to)
                if target is None or target is activity:
                    yield (
                        where,
                        f"must name another activity of the protocol, got {activity.linked_to!r}",
                    )
                elif target.linked_to is not None:
                    yield where, f"{target.id!r} is itself linked; link to the activity it follows"
                elif not _linkable(activity, target):
                    yield (
                        where,
                        (
                            f"both must repeat once or every_n_days with the same count; "
                            f"{activity.id} has {activity.repeat.count}, {target.id} {target.repeat.count}"
                        ),
                    )

    def _length_problems(self) -> Iterator[tuple[str, str]]:
        days = self.planned_days
        if days > self.duration.max_days:
            yield (
                "duration.max_days",
                f"the activities as planned take {days} days, more than {self.duration.max_days}",
            )
        if days < self.duration.min_days:
            yield (
                "duration.min_days",
                f"the activities as planned take {days} days, fewer than {self.duration.min_days}",
            )


def _linkable(activity: Activity, target: Activity) -> bool:
    spaced = (RepeatRule.ONCE, RepeatRule.EVERY_N_DAYS)
    return (
        activity.repeat.rule in spaced
        and target.repeat.rule in spaced
        and activity.repeat.count == target.repeat.count
    )


def parse_protocol(data: object) -> Protocol:
    """Validate parsed protocol data (a mapping from YAML or JSON) into a :class:`Protocol`.

    Raises
    ------
    InvalidInput
        Listing every problem with its path in the file.
    """
    return build(Protocol, data, subject="protocol")
