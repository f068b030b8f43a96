"""Hypothesis strategies for ALSFRS-R ratings, shared by the scale and staging tests."""

from __future__ import annotations

from hypothesis import strategies as st

ITEM_KEYS_WITHOUT_5 = ("q1", "q2", "q3", "q4", "q6", "q7", "q8", "q9", "q10", "q11", "q12")
item_scores = st.integers(min_value=0, max_value=4)


@st.composite
def ratings(draw: st.DrawFn) -> dict[str, int]:
    """A valid ALSFRS-R rating: q1..q12 without q5, plus exactly one of q5a / q5b."""
    rating = {key: draw(item_scores) for key in ITEM_KEYS_WITHOUT_5}
    rating[draw(st.sampled_from(("q5a", "q5b")))] = draw(item_scores)
    return rating


def all_normal(*, q5b: int | None = None, **changes: int) -> dict[str, int]:
    """A rating with every item at 4, then the given changes; item 5 is q5a unless q5b is given."""
    rating = dict.fromkeys(ITEM_KEYS_WITHOUT_5, 4)
    if q5b is None:
        rating["q5a"] = 4
    else:
        rating["q5b"] = q5b
    rating.update(changes)
    return rating
