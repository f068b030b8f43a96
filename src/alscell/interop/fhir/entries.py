"""What mapping one bundle entry needs: links out (export) and a place to report problems (import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference

from alscell.domain.dataset import Record
from alscell.errors import Problem
from alscell.interop.fhir import codes


def url_of(record: Record) -> str:
    """The fullUrl of the resource a record becomes."""
    return codes.full_url(record.TABLE, *record.key())


def patient_url(study_code: str) -> str:
    """The fullUrl of a patient's Patient resource."""
    return codes.full_url("patients", study_code)


def study_url(bundle: str, protocol_key: str, protocol_version: str) -> str:
    """The fullUrl of a protocol's ResearchStudy within one bundle."""
    return codes.full_url("research_studies", bundle, protocol_key, protocol_version)


@dataclass(frozen=True, slots=True)
class Links:
    """The bundle being written: its name and the fullUrls it holds (a reference only to those)."""

    name: str
    present: frozenset[str]

    def to(self, url: str, identifier: Identifier | None = None) -> Reference:
        """A reference: literal when the target is in this bundle, by identifier always if given."""
        return Reference(reference=url if url in self.present else None, identifier=identifier)

    def subject(self, study_code: str) -> Reference:
        """A reference to a patient, by study code."""
        return self.to(
            patient_url(study_code), Identifier(system=codes.STUDY_CODE, value=study_code)
        )

    def study(self, protocol_key: str, protocol_version: str) -> Reference:
        """A reference to the bundle's ResearchStudy of a protocol version."""
        return Reference(reference=study_url(self.name, protocol_key, protocol_version))


@dataclass(slots=True)
class Entry:
    """One entry being read: its place (file, entry index, resource type) and the problems found."""

    place: str
    problems: list[Problem]
    studies: dict[str, tuple[str, str]] = field(default_factory=dict)
    _start: int = 0

    def __post_init__(self) -> None:
        self._start = len(self.problems)

    @property
    def ok(self) -> bool:
        """Whether no problem was found in this entry so far."""
        return len(self.problems) == self._start

    def problem(self, path: str, message: str) -> None:
        """Record a problem with an element of this entry."""
        self.problems.append(Problem(f"{self.place} element {path}", message))

    def require(self, value: Any, path: str) -> Any:
        """``value``, or a problem when it is missing."""
        if value is None:
            self.problem(path, "is required")
        return value

    def study_code(self, reference: Reference | None, path: str) -> str | None:
        """The study code a patient reference names by identifier."""
        if reference is None:
            self.problem(path, "is required: a reference to the patient")
            return None
        identifier = reference.identifier
        if identifier is None or identifier.system != codes.STUDY_CODE or not identifier.value:
            self.problem(f"{path}.identifier", f"must name the patient by {codes.STUDY_CODE}")
            return None
        return str(identifier.value)

    def identifier(self, reference: Reference | None, system: str, path: str) -> str | None:
        """The value of a reference's identifier of ``system``, or a problem."""
        found = reference.identifier if reference is not None else None
        if found is None or found.system != system or not found.value:
            self.problem(f"{path}.identifier", f"must identify the target by {system}")
            return None
        return str(found.value)

    def study(self, reference: Reference | None, path: str) -> tuple[str, str] | None:
        """Protocol key and version of the ResearchStudy a reference points to in this bundle."""
        target = reference.reference if reference is not None else None
        if target is None or str(target) not in self.studies:
            self.problem(path, "must reference a ResearchStudy in the same bundle")
            return None
        return self.studies[str(target)]

    def date(self, value: Any, path: str, *, required: bool = True) -> date | None:
        """A whole date (no time), or a problem."""
        if value is None:
            if required:
                self.problem(path, "is required")
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            self.problem(path, "must be a date (YYYY-MM-DD) without a time")
            return None
        return value

    def instant(self, value: Any, path: str) -> datetime | None:
        """A date and time with its time zone, or a problem."""
        if not isinstance(value, datetime) or value.tzinfo is None:
            self.problem(path, "must be a date and time with a time zone")
            return None
        return value

    def integer(self, value: Any, path: str) -> int | None:
        """A whole number from a FHIR decimal or integer, or a problem."""
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.problem(path, "must be a whole number")
        return None


def decimal(value: float) -> Decimal:
    """A float as a FHIR decimal with the shortest digits that read back to the same float."""
    return Decimal(repr(float(value)))
