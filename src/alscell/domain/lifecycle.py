"""The patient lifecycle (DESIGN.md, "Lifecycle of a patient"): states and the transitions allowed.

::

    referred -> screening -> eligible | ineligible -> enrolled -> in_treatment -> follow_up -> completed
                                                   \\-> withdrawn | lost_to_follow_up | died (from any active state)

An ineligible or eligible patient may be screened again. Death may be recorded after completion,
withdrawal or loss to follow-up too: survival is followed for everyone (intention to treat).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from alscell.errors import InvalidTransition

__all__ = ["ACTIVE", "TRANSITIONS", "PatientStatus", "check_transition"]


class PatientStatus(StrEnum):
    """Where a patient stands in the program."""

    REFERRED = "referred"
    SCREENING = "screening"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    ENROLLED = "enrolled"
    IN_TREATMENT = "in_treatment"
    FOLLOW_UP = "follow_up"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"
    DIED = "died"


S = PatientStatus
ACTIVE: Final = frozenset(
    {S.REFERRED, S.SCREENING, S.ELIGIBLE, S.ENROLLED, S.IN_TREATMENT, S.FOLLOW_UP}
)
_EXITS: Final = frozenset({S.WITHDRAWN, S.LOST_TO_FOLLOW_UP, S.DIED})

TRANSITIONS: Final[Mapping[PatientStatus, frozenset[PatientStatus]]] = {
    S.REFERRED: frozenset({S.SCREENING}) | _EXITS,
    S.SCREENING: frozenset({S.ELIGIBLE, S.INELIGIBLE}) | _EXITS,
    S.ELIGIBLE: frozenset({S.ENROLLED, S.SCREENING}) | _EXITS,
    S.INELIGIBLE: frozenset({S.SCREENING, S.DIED}),
    S.ENROLLED: frozenset({S.IN_TREATMENT}) | _EXITS,
    S.IN_TREATMENT: frozenset({S.FOLLOW_UP}) | _EXITS,
    S.FOLLOW_UP: frozenset({S.COMPLETED}) | _EXITS,
    S.COMPLETED: frozenset({S.DIED}),
    S.WITHDRAWN: frozenset({S.DIED}),
    S.LOST_TO_FOLLOW_UP: frozenset({S.DIED, S.FOLLOW_UP}),
    S.DIED: frozenset(),
}


def check_transition(current: PatientStatus, new: PatientStatus) -> None:
    """Raise :class:`~alscell.errors.InvalidTransition` unless ``current`` may become ``new``.

    A patient lost to follow-up who is found again may return to follow-up.
    """
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (a final state)"
        raise InvalidTransition(current, new, f"a {current} patient can become: {allowed}")
