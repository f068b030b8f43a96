"""What a patient's registration, identity and diagnosis must satisfy, wherever they come from.

A coordinator registering a referral, the API, and an import of another installation's records all
apply these same rules (DESIGN.md, architecture: the pages, the API, the CLI and the importers behave
identically). Each function returns every problem it finds, located by field name; callers add where
the record came from.

Dates after today are refused by :func:`future_problems`, with today given by the caller (the domain
reads no clock).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from alscell.domain.eligibility import CATEGORIES, DiagnosticSystem
from alscell.errors import Problem

__all__ = [
    "ONSET_SITES",
    "SEXES",
    "STUDY_CODE",
    "diagnosis_problems",
    "future_problems",
    "identity_problems",
    "patient_problems",
]

STUDY_CODE: Final = re.compile(r"[A-Z0-9][A-Z0-9-]{2,39}")
"""A study code: 3-40 capital letters, digits or hyphens, not starting with a hyphen. It names files
of exports and never changes, so it is safe as a file name by construction."""

SEXES: Final = ("female", "male", "other", "unknown")
ONSET_SITES: Final = ("bulbar", "spinal", "respiratory", "generalized")
"""Region of first weakness (ENCALS counts bulbar onset as a predictor, clinical.md §5)."""


def patient_problems(*, study_code: str, sex: str | None) -> list[Problem]:
    """The study code's form and the recorded sex."""
    found = []
    if not STUDY_CODE.fullmatch(study_code):
        found.append(
            Problem(
                "study_code", f"must be 3-40 capital letters, digits or hyphens, got {study_code!r}"
            )
        )
    if sex is not None and sex not in SEXES:
        found.append(Problem("sex", f"must be {', '.join(SEXES[:-1])} or {SEXES[-1]}, got {sex!r}"))
    return found


def identity_problems(*, given_name: str, family_name: str) -> list[Problem]:
    """Both names present (a blank name identifies nobody)."""
    return [
        Problem(field, "must not be empty")
        for field, value in (("given_name", given_name), ("family_name", family_name))
        if not value.strip()
    ]


def diagnosis_problems(
    *,
    onset_site: str,
    onset_on: date,
    diagnosis_on: date,
    el_escorial: str | None,
    awaji: str | None,
) -> list[Problem]:
    """The onset site, the order of onset and diagnosis, and the diagnostic categories (clinical.md §8)."""
    found = []
    if onset_site not in ONSET_SITES:
        found.append(
            Problem("onset_site", f"must be one of {', '.join(ONSET_SITES)}, got {onset_site!r}")
        )
    if diagnosis_on < onset_on:
        found.append(
            Problem("diagnosis_on", f"{diagnosis_on} is before symptom onset ({onset_on})")
        )
    for field, system, value in (
        ("el_escorial", DiagnosticSystem.REVISED_EL_ESCORIAL, el_escorial),
        ("awaji", DiagnosticSystem.AWAJI, awaji),
    ):
        if value is not None and value not in CATEGORIES[system]:
            allowed = ", ".join(CATEGORIES[system])
            found.append(Problem(field, f"must be one of {allowed}, got {value!r}"))
    return found


def future_problems(today: date, **days: date | None) -> list[Problem]:
    """Each named day that lies after ``today``: facts of the past cannot be dated tomorrow."""
    return [
        Problem(field, f"{day} is in the future")
        for field, day in days.items()
        if day is not None and day > today
    ]
