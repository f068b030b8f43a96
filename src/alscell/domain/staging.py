"""Disease stages estimated from one ALSFRS-R rating: King's clinical staging and ALS-MiToS.

Both functions take the same item mapping as :func:`alscell.domain.alsfrs.score` and validate it the
same way (every problem listed in one :class:`~alscell.errors.InvalidResponses`).

References
----------
Roche JC et al. A proposed staging system for amyotrophic lateral sclerosis. Brain 2012;135:847-852.
Balendra R et al. Estimating clinical stage of ALS from the ALS Functional Rating Scale.
ALS FTD 2014;15:279-284.
Chiò A et al. ALS staging: the ALS Milano-Torino staging (ALS-MiToS). JNNP 2015;86:38-44, Table 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from alscell.domain import alsfrs

__all__ = ["KINGS_REGIONS", "KingsStage", "kings_stage", "mitos_stage"]


class KingsStage(StrEnum):
    """King's clinical stage (Roche 2012). Members compare equal to their strings ("1" .. "5").

    Estimated from ALSFRS-R the method cannot tell 2A from 2B, so stage 2 is reported as "2".
    "5" is death, as commonly coded in analyses (clinical.md §3).
    """

    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR_A = "4A"
    FOUR_B = "4B"
    FIVE = "5"

    @property
    def rank(self) -> int:
        """Order of severity: 1 < 2 < 3 < 4A < 4B < 5 (4B, NIV, is reported over 4A)."""
        return list(KingsStage).index(self)


KINGS_REGIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "bulbar": ("q1", "q2", "q3"),
    "upper limb": ("q4", "q5a"),
    "lower limb": ("q8",),
}
"""Items that show a region involved when any is below 4 (Balendra 2014; clinical.md §3, rule 3)."""


def kings_stage(items: Mapping[str, object], *, dead: bool = False) -> KingsStage:
    """King's stage estimated from an ALSFRS-R rating (Balendra 2014; clinical.md §3).

    Rules, in order, per rating:

    1. item 10 (dyspnea) = 0, or item 12 (respiratory insufficiency) < 4 (any NIV) → "4B";
    2. else a gastrostomy (item 5 scored as 5b) → "4A";
    3. else the number of involved regions (see :data:`KINGS_REGIONS`), so "1", "2" or "3".

    Stage 4 takes precedence over the region count, and 4B over 4A (a patient with both is "4B").
    A patient with no region below 4 is reported as stage "1": the count gives 0, but the patient has
    ALS, so at least the onset region is clinically involved (clinical.md §3 leaves this open; this is
    alscell's documented choice). The "5x" item (gastrostomy status unknown) is not accepted: the
    rating must say 5a or 5b. With ``dead=True`` the stage is "5" and the items are not read.

    Raises
    ------
    InvalidResponses
        If the rating is not a valid ALSFRS-R (see :func:`alscell.domain.alsfrs.validate`).
    """
    if dead:
        return KingsStage.FIVE
    responses = alsfrs.validate(items)
    if responses["q10"] == 0 or responses["q12"] < alsfrs.MAX_ITEM_SCORE:
        return KingsStage.FOUR_B
    if "q5b" in responses:
        return KingsStage.FOUR_A
    involved = sum(
        any(responses.get(key, alsfrs.MAX_ITEM_SCORE) < alsfrs.MAX_ITEM_SCORE for key in keys)
        for keys in KINGS_REGIONS.values()
    )
    return (KingsStage.ONE, KingsStage.ONE, KingsStage.TWO, KingsStage.THREE)[involved]


def mitos_stage(items: Mapping[str, object], *, dead: bool = False) -> int:
    """ALS-MiToS stage: the number of functional domains lost, 0-4, or 5 after death.

    A domain is lost (Chiò 2015, Table 1; clinical.md §4) when:

    - movement: item 8 (walking) <= 1 **or** item 6 (dressing and hygiene) <= 1;
    - swallowing: item 3 <= 1;
    - communicating: item 1 (speech) <= 1 **and** item 4 (handwriting) <= 1 — a patient who cannot
      speak but can still write has not lost communication (the published AND rule, not the OR some
      public code uses);
    - breathing: item 10 (dyspnea) <= 1 **or** item 12 (respiratory insufficiency) <= 2.

    With ``dead=True`` the stage is 5 and the items are not read.

    Raises
    ------
    InvalidResponses
        If the rating is not a valid ALSFRS-R (see :func:`alscell.domain.alsfrs.validate`).
    """
    if dead:
        return 5
    r = alsfrs.validate(items)
    lost = (
        r["q8"] <= 1 or r["q6"] <= 1,  # movement: walking or dressing/hygiene
        r["q3"] <= 1,  # swallowing
        r["q1"] <= 1 and r["q4"] <= 1,  # communicating: speech AND handwriting
        r["q10"] <= 1 or r["q12"] <= 2,  # breathing: dyspnea or respiratory insufficiency
    )
    return sum(lost)
