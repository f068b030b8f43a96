"""ALSFRS-R items of a synthetic rating: a simulated patient has only a total, split by a fixed rule.

The 48 − total points lost are taken from the items in a fixed order, each item down to 0 before the
next loses any: bulbar items first (1, 2, 3) for bulbar onset, limb items first (4, 5a, 6, 7, 8, 9)
for spinal onset, respiratory items (10, 11, 12) last. The split is deterministic and the items always
sum to the total; it is not a realistic pattern of item scores (with bulbar onset and a total of 44,
speech is already 0), and nobody has a gastrostomy, so item 5a is always the one scored. Both of
``alscell synth``'s formats use it (alscell's ``alsfrs_ratings.csv`` and ``PROACT_ALSFRS.csv``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from alscell.domain.alsfrs import MAX_ITEM_SCORE, MAX_TOTAL

__all__ = ["BULBAR_FIRST", "ITEM_KEYS", "SPINAL_FIRST", "items_from_totals"]

ITEM_KEYS: Final = ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12")
"""The twelve items scored, in scale order (item 5 as 5a): the last axis of :func:`items_from_totals`."""

BULBAR_FIRST: Final = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
SPINAL_FIRST: Final = (3, 4, 5, 6, 7, 8, 0, 1, 2, 9, 10, 11)
"""The order in which items lose points, as indices into :data:`ITEM_KEYS`."""


def items_from_totals(totals: NDArray[np.int64], bulbar: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Twelve item scores 0-4 per total, summing to it (the module docstring gives the rule).

    ``totals`` is any shape; ``bulbar`` broadcasts against it. The result has one more axis, of 12
    items in the order of :data:`ITEM_KEYS`.
    """
    lost = (MAX_TOTAL - np.asarray(totals, dtype=np.int64))[..., None]
    rank = np.where(np.asarray(bulbar)[..., None], _position(BULBAR_FIRST), _position(SPINAL_FIRST))
    item_lost = np.clip(lost - MAX_ITEM_SCORE * rank, 0, MAX_ITEM_SCORE)
    return np.asarray(MAX_ITEM_SCORE - item_lost, dtype=np.int64)


def _position(order: tuple[int, ...]) -> NDArray[np.int64]:
    """Where each item (in scale order) comes in ``order``."""
    return np.argsort(np.asarray(order)).astype(np.int64)
