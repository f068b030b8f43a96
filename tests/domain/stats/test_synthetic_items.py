"""ALSFRS-R items of a synthetic total (domain/stats/synthetic_items.py): the fixed split."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain import alsfrs
from alscell.domain.stats.synthetic_items import ITEM_KEYS, items_from_totals

BULBAR_ITEMS, LIMB_ITEMS, RESPIRATORY_ITEMS = slice(0, 3), slice(3, 9), slice(9, 12)


def test_the_items_are_the_scale_items_with_5a() -> None:
    assert tuple(item.key for item in alsfrs.ITEMS if item.key != "q5b") == ITEM_KEYS


def test_items_sum_to_every_total_and_stay_within_0_to_4() -> None:
    totals = np.arange(49)
    for bulbar in (True, False):
        items = items_from_totals(totals, np.full(49, bulbar))
        assert items.shape == (49, 12)
        assert items.sum(axis=1).tolist() == totals.tolist()
        assert items.min() >= 0
        assert items.max() <= 4


@given(total=st.integers(0, 48), bulbar=st.booleans())
def test_every_split_scores_as_its_total(total: int, bulbar: bool) -> None:
    [items] = items_from_totals(np.array([total]), np.array([bulbar])).tolist()
    assert alsfrs.score(dict(zip(ITEM_KEYS, items, strict=True))).total == total


def test_the_onset_region_loses_points_first() -> None:
    bulbar = items_from_totals(np.array([40]), np.array([True]))[0]
    spinal = items_from_totals(np.array([40]), np.array([False]))[0]
    assert bulbar[BULBAR_ITEMS].sum() == 4
    assert bulbar[LIMB_ITEMS].sum() == 24
    assert spinal[LIMB_ITEMS].sum() == 16
    assert spinal[BULBAR_ITEMS].sum() == 12
    assert bulbar[RESPIRATORY_ITEMS].tolist() == spinal[RESPIRATORY_ITEMS].tolist() == [4, 4, 4]
    low = items_from_totals(np.array([4]), np.array([False]))[0]
    assert low[RESPIRATORY_ITEMS].tolist() == [0, 0, 4]


def test_any_shape_of_totals_gains_an_axis_of_items() -> None:
    totals = np.array([[48, 47], [1, 0]])
    items = items_from_totals(totals, np.array([True, False]))
    assert items.shape == (2, 2, 12)
    assert items.sum(axis=-1).tolist() == totals.tolist()
    assert items[0, 1].tolist() == [4] * 3 + [3] + [4] * 8  # spinal: handwriting goes first
