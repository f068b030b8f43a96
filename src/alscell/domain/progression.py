"""Progression rate since symptom onset (ΔFS) and progressor categories.

ΔFS = (48 − ALSFRS-R total at t) / months from symptom onset to t (Kimura 2006; clinical.md §2).
Sign convention: **positive = points lost per month** (the opposite "post-onset slope" is negative and is
not used here). Months are days / 30.4375 (:mod:`alscell.domain.months`). The reference time point
(diagnosis, screening or baseline) is the caller's to record beside the value.

ΔFS assumes a linear fall from 48 at onset; it underestimates later decline (Proudfoot 2016) and
predicts the later slope only weakly (clinical.md §2, caveats).

References
----------
Kimura F et al. Progression rate of ALSFRS-R at time of diagnosis predicts survival time in ALS.
Neurology 2006;66:265-267.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from numbers import Integral
from typing import Final

from alscell.domain.alsfrs import MAX_TOTAL
from alscell.domain.months import months_between
from alscell.errors import InvalidInput, Problem

__all__ = [
    "GORDON_2006",
    "KIMURA_2006",
    "LABRA_2016",
    "SIGN_CONVENTION",
    "Progressor",
    "ProgressorCutoffs",
    "delta_fs",
    "progressor_category",
]

SIGN_CONVENTION: Final = "positive = ALSFRS-R points lost per month"


def delta_fs(total: int, onset_on: date, rated_on: date) -> float:
    """ALSFRS-R points lost per month between symptom onset and a rating (clinical.md §2).

    Parameters
    ----------
    total
        ALSFRS-R total at the rating, an int 0-48.
    onset_on
        Date of first symptoms.
    rated_on
        Date of the rating; must be after ``onset_on``.

    Returns
    -------
    float
        ``(48 - total) / months``, months = days / 30.4375; positive = decline.

    Raises
    ------
    InvalidInput
        Listing every problem: ``total`` not an int or outside 0-48; ``rated_on`` on or before
        ``onset_on`` (the rate is undefined with no time since onset).
    """
    problems = []
    if isinstance(total, bool) or not isinstance(total, Integral):
        problems.append(Problem("total", f"not an int: got {total!r}"))
    elif not 0 <= total <= MAX_TOTAL:
        problems.append(Problem("total", f"out of range: {total} is not in 0-{MAX_TOTAL}"))
    if rated_on <= onset_on:
        rule = f"must be after symptom onset ({onset_on.isoformat()}), got {rated_on.isoformat()}"
        problems.append(Problem("rated_on", rule))
    if problems:
        raise InvalidInput(problems, subject="ΔFS input")
    return (MAX_TOTAL - int(total)) / months_between(onset_on, rated_on)


class Progressor(StrEnum):
    """Progressor category by ΔFS."""

    SLOW = "slow"
    INTERMEDIATE = "intermediate"
    FAST = "fast"


@dataclass(frozen=True, slots=True)
class ProgressorCutoffs:
    """ΔFS cut-offs in points/month: slow below ``slow_below``, fast from ``fast_from`` (inclusive).

    Equal cut-offs give two groups (slow / fast). Cut-off sets differ between studies
    (clinical.md §2, table), so the set is an argument, named by its source.
    """

    slow_below: float
    fast_from: float
    source: str

    def __post_init__(self) -> None:
        problems = [
            Problem(name, f"must be a finite number >= 0, got {value!r}")
            for name, value in (("slow_below", self.slow_below), ("fast_from", self.fast_from))
            if not (math.isfinite(value) and value >= 0)
        ]
        if not problems and self.fast_from < self.slow_below:
            rule = f"must be >= slow_below ({self.slow_below}), got {self.fast_from}"
            problems.append(Problem("fast_from", rule))
        if problems:
            raise InvalidInput(problems, subject="progressor cut-offs")


KIMURA_2006: Final = ProgressorCutoffs(0.5, 1.0, "Kimura 2006: < 0.5 / 0.5 to < 1.0 / >= 1.0")
GORDON_2006: Final = ProgressorCutoffs(0.5, 0.5, "Gordon 2006: < 0.5 / >= 0.5")
LABRA_2016: Final = ProgressorCutoffs(0.47, 1.11, "Labra 2016: < 0.47 / 0.47 to < 1.11 / >= 1.11")


def progressor_category(
    delta_fs_per_month: float, *, cutoffs: ProgressorCutoffs = KIMURA_2006
) -> Progressor:
    """Classify a ΔFS as slow, intermediate or fast progressor (default Kimura 2006; clinical.md §2).

    Raises
    ------
    InvalidInput
        If ``delta_fs_per_month`` is not a finite number.
    """
    if not math.isfinite(delta_fs_per_month):
        rule = f"must be a finite number, got {delta_fs_per_month!r}"
        raise InvalidInput([Problem("delta_fs", rule)], subject="ΔFS")
    if delta_fs_per_month < cutoffs.slow_below:
        return Progressor.SLOW
    if delta_fs_per_month >= cutoffs.fast_from:
        return Progressor.FAST
    return Progressor.INTERMEDIATE
