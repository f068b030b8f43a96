"""Errors and warnings of alscell: one tree, mapped to HTTP statuses and exit codes at the edges.

::

    AlscellError                       failures we expect and explain to users
     ├── NotFound                      kind and id of the missing thing
     ├── PermissionDenied              user, action, resource
 │    └── NotSignedIn              credentials missing, wrong, expired or revoked
     ├── Conflict                      patient already enrolled; record changed since it was read
 │    └── InvalidTransition        a lifecycle step the patient's state does not allow
     ├── InvalidInput                  every problem with the input, each naming its place and rule
     │    ├── InvalidResponses         scale scoring: every item problem, not just the first
     │    └── InvalidImport            interop: row, field and message per problem
     ├── SafetyCheckFailed             the action would be unsafe; never silently overridden
     │    ├── ContraindicationFound    eligibility or pre-puncture check; carries the findings
     │    ├── ProductNotReleased       product unit not released, expired, or another patient's
     │    └── ProtocolViolation        dose too early, beyond the protocol's count, outside a window
     └── InsufficientData              too few events, a missing ENCALS predictor
    StatisticalWarning(UserWarning) ─┬─ SmallSampleWarning
                                     └─ ModelRangeWarning   predictors outside a model's range

This module knows nothing of HTTP or terminals: statuses live in the web layer, exit codes in the CLI.
Errors carry structured fields (``problems``, ``kind``, ``id``) as well as a readable message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "AlscellError",
    "Conflict",
    "ContraindicationFound",
    "InsufficientData",
    "InvalidImport",
    "InvalidInput",
    "InvalidResponses",
    "InvalidTransition",
    "ModelRangeWarning",
    "NotFound",
    "NotSignedIn",
    "PermissionDenied",
    "Problem",
    "ProductNotReleased",
    "ProtocolViolation",
    "SafetyCheckFailed",
    "SmallSampleWarning",
    "StatisticalWarning",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where it is (an item key, field, or file/row/column) and why."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class AlscellError(Exception):
    """Base of every failure alscell expects and explains to its users."""


class NotFound(AlscellError):
    """Raised when a record asked for by id does not exist (or is outside the caller's site)."""

    def __init__(self, kind: str, record_id: object) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"{kind} {record_id!r} was not found")


class PermissionDenied(AlscellError):
    """Raised when a user's role or site does not allow an action on a resource."""

    def __init__(self, user: str, action: str, resource: str) -> None:
        self.user = user
        self.action = action
        self.resource = resource
        super().__init__(
            f"{user} may not {action} ({resource})" if resource else f"{user} may not {action}"
        )


class NotSignedIn(PermissionDenied):
    """Raised when credentials are missing, wrong, expired or revoked (the caller is nobody yet)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__("anonymous", "sign in", detail)
        self.args = (detail,)

    def __str__(self) -> str:
        return self.detail


class Conflict(AlscellError):
    """Raised when a write clashes with the current state (duplicate, or changed since it was read)."""


class InvalidTransition(Conflict):
    """Raised when a lifecycle step is not allowed from the patient's current state."""

    def __init__(self, current: str, requested: str, detail: str) -> None:
        self.current = current
        self.requested = requested
        super().__init__(f"cannot go from {current} to {requested}: {detail}")


class InvalidInput(AlscellError):
    """Raised when an input breaks one or more rules; ``problems`` lists every one of them."""

    def __init__(self, problems: Iterable[Problem], *, subject: str = "input") -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("InvalidInput needs at least one problem")
        self.subject = subject
        listed = "; ".join(str(problem) for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {subject} ({count} {noun}): {listed}")


class InvalidResponses(InvalidInput):
    """Raised when a scale's item responses cannot be scored; lists every item problem at once."""

    def __init__(self, scale_id: str, problems: Iterable[Problem]) -> None:
        self.scale_id = scale_id
        super().__init__(problems, subject=f"{scale_id} responses")


class InvalidImport(InvalidInput):
    """Raised when imported data break rules; each problem names file, row and column."""

    def __init__(self, problems: Iterable[Problem], *, source: str = "import") -> None:
        self.source = source
        super().__init__(problems, subject=source)


class SafetyCheckFailed(AlscellError):
    """Raised when an action would be unsafe. Never caught to carry on: an override is its own call.

    ``findings`` lists each rule broken, its ``location`` a stable rule id (e.g. ``unit.expired``,
    ``pre_puncture.platelets``) that a physician's override names; ``overridable`` says whether a
    physician may override it with a written reason.
    """

    def __init__(self, findings: Iterable[Problem], *, overridable: bool = True) -> None:
        self.findings: tuple[Problem, ...] = tuple(findings)
        if not self.findings:
            raise ValueError(f"{type(self).__name__} needs at least one finding")
        self.overridable = overridable
        listed = "; ".join(str(finding) for finding in self.findings)
        how = "; a physician may override with a written reason" if overridable else ""
        super().__init__(f"{self.headline}: {listed}{how}")

    headline = "unsafe"

    @property
    def rules(self) -> tuple[str, ...]:
        """The ids of the rules broken."""
        return tuple(finding.location for finding in self.findings)


class ContraindicationFound(SafetyCheckFailed):
    """Raised when an eligibility or pre-puncture check finds a contraindication."""

    headline = "pre-procedure checks failed"


class ProductNotReleased(SafetyCheckFailed):
    """Raised when a product unit is not released, is expired, or belongs to another patient."""

    headline = "product unit may not be given"


class ProtocolViolation(SafetyCheckFailed):
    """Raised when an action departs from the protocol (too early, one dose too many, out of window)."""

    headline = "outside the protocol"


class DatabaseNotReady(AlscellError):
    """Raised when the database's schema is not the one this version of alscell needs."""

    def __init__(self, current: str | None, needed: str | None) -> None:
        self.current, self.needed = current, needed
        at = f"at revision {current}" if current else "empty (no alscell tables)"
        super().__init__(
            f"the database is {at}; this alscell needs revision {needed}: run 'alscell db upgrade'"
        )


class InsufficientData(AlscellError):
    """Raised when an analysis lacks what it needs (too few ratings or events, a missing predictor)."""


class StatisticalWarning(UserWarning):
    """Base of caveats that a result carries and a report must show."""


class SmallSampleWarning(StatisticalWarning):
    """Issued when a sample is too small for the method to say much."""


class ModelRangeWarning(StatisticalWarning):
    """Issued when predictors lie outside the range a model was developed on."""
