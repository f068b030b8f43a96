"""Months as the clinic counts them: one day-to-month factor for every rate and every survival time.

See clinical.md §2: months = days / 30.44, or days / 365.25 × 12 as in the TRICALS code; alscell uses
the latter exactly (30.4375 days) everywhere, so ΔFS, slopes and ENCALS times agree.
"""

from __future__ import annotations

from datetime import date
from typing import Final

__all__ = ["DAYS_PER_MONTH", "months_between"]

DAYS_PER_MONTH: Final = 365.25 / 12  # = 30.4375 days, the mean Gregorian month


def months_between(start_on: date, end_on: date) -> float:
    """Months from ``start_on`` to ``end_on`` (negative when ``end_on`` is earlier)."""
    return (end_on - start_on).days / DAYS_PER_MONTH
