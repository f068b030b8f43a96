"""Code lists of alscell's own REDCap project: each coded field's vocabulary, with its source.

REDCap stores a radio, dropdown or checkbox answer as a *code* (``1``, ``2``, ...) and shows its label;
the mapping file turns codes into alscell values. alscell's export numbers each vocabulary from 1 in
the order below; a value found in the data that is not listed here is appended with the next number
(so nothing is lost), which the export's own mapping file records. Integer scores (ALSFRS-R items,
CTCAE grades) are their own codes.
"""

from __future__ import annotations

from typing import Final

from alscell.domain import alsfrs
from alscell.domain.adverse_events import Causality
from alscell.domain.dosing import TestResult
from alscell.domain.eligibility import CATEGORIES, DiagnosticSystem
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.product import ProductSource

__all__ = [
    "ALSFRS_FORMS",
    "ALSFRS_ITEM_CHOICES",
    "AWAJI",
    "CAUSALITY",
    "CTCAE_GRADES",
    "EL_ESCORIAL",
    "ONSET_SITES",
    "OUTCOME_KINDS",
    "PATIENT_STATUSES",
    "PRODUCT_SOURCES",
    "RELEASE_TEST_RESULTS",
    "SCHEDULE_EVENT_KINDS",
    "SERIOUSNESS",
    "SEXES",
    "VITAL_CAPACITY_METHODS",
    "Vocabulary",
]

Vocabulary = tuple[tuple[str, str], ...]
"""Allowed alscell values with the label REDCap shows for each, in code order."""


def _labelled(values: tuple[str, ...]) -> Vocabulary:
    return tuple((value, value.replace("_", " ").capitalize()) for value in values)


PATIENT_STATUSES: Final = _labelled(tuple(status.value for status in PatientStatus))
"""Program status (``domain.lifecycle.PatientStatus``)."""

SEXES: Final = _labelled(("female", "male", "other", "unknown"))
"""Sex as recorded at registration (``services.patients``)."""

ONSET_SITES: Final = _labelled(("bulbar", "spinal", "respiratory", "generalized"))
"""Region of first weakness (``services.patients.ONSET_SITES``; clinical.md §8)."""

EL_ESCORIAL: Final = _labelled(CATEGORIES[DiagnosticSystem.REVISED_EL_ESCORIAL])
"""Revised El Escorial categories (Brooks et al. 2000; ``domain.eligibility.CATEGORIES``)."""

AWAJI: Final = _labelled(CATEGORIES[DiagnosticSystem.AWAJI])
"""Awaji-shima categories (de Carvalho et al. 2008; ``domain.eligibility.CATEGORIES``)."""

ALSFRS_FORMS: Final = (("clinician", "Clinician-administered"), ("self", "Self-administered"))
"""Who completed an ALSFRS-R rating."""

VITAL_CAPACITY_METHODS: Final = (("fvc", "Forced (FVC)"), ("svc", "Slow (SVC)"))
"""Vital capacity manoeuvre (``services.assessments``)."""

OUTCOME_KINDS: Final = _labelled(("death", "tracheostomy", "permanent_ventilation"))
"""Survival endpoints (``services.outcomes.OUTCOME_KINDS``)."""

SCHEDULE_EVENT_KINDS: Final = _labelled(("done", "skipped"))
"""What happened to a planned activity (``services.enrollment``)."""

CAUSALITY: Final = _labelled(tuple(level.value for level in Causality))
"""WHO-UMC style causality levels (``domain.adverse_events.Causality``)."""

SERIOUSNESS: Final = _labelled(
    ("death", "life_threatening", "hospitalization", "disability", "congenital_anomaly",
     "other_important")
)  # fmt: skip
"""Seriousness criteria of ICH E2A (``services.safety.SERIOUSNESS``): a checkbox field."""

RELEASE_TEST_RESULTS: Final = _labelled(tuple(result.value for result in TestResult))
"""Release test results (``domain.dosing.TestResult``)."""

PRODUCT_SOURCES: Final = _labelled(tuple(source.value for source in ProductSource))
"""Where the cells come from (``domain.product.ProductSource``; clinical.md §12)."""

CTCAE_GRADES: Final = (
    ("1", "Grade 1, mild"),
    ("2", "Grade 2, moderate"),
    ("3", "Grade 3, severe"),
    ("4", "Grade 4, life-threatening"),
    ("5", "Grade 5, death"),
)
"""CTCAE v5.0 grades; the grade is its own code."""

ALSFRS_ITEM_CHOICES: Final = {
    item.key: tuple(
        (str(score), f"{score} = {anchor}".replace("|", "/"))
        for score, anchor in reversed(tuple(enumerate(item.anchors)))
    )
    for item in alsfrs.ITEMS
}
"""ALSFRS-R anchors per item, 4 (normal) first, each score its own code (Cedarbaum et al. 1999)."""
