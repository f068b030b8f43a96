"""The quick PRO-ACT row parsers never disagree with the full rules of :mod:`alscell.interop.proact.mapping`.

A quick parser may decline any row (None: the row then goes through the full check), but a row it
accepts must give exactly the record the full check gives, and a row the full check refuses must never
be accepted. Hypothesis draws rows from cells chosen to sit on every edge of the rules: plain values,
padded and signed numbers, decimals, exponents, NaN, infinities, underscores, non-ASCII digits, case and
spelling variants, empty cells, over-long subject ids and out-of-range days.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alscell.errors import InvalidImport
from alscell.interop.proact import mapping as m
from alscell.interop.proact import plain_rows as quick

EDGE_NUMBERS = ["0", "1", "2", "3", "4", "5", "-1", " 3", "3 ", "+2", "-0", "3.0", "2.5", "1e0",
                "nan", "inf", "-inf", "1_0", "٣", "12", "-30", "36525", "-36525", "36526", "-36526",
                "0x1", "", " ", "x", "4.0000001", "120", "121", "300", "300.5", "-20000"]  # fmt: skip
EDGE_WORDS = ["Yes", "no", "NO", "y", "Male", "f", "F", "female ", "other", "Onset: Bulbar",
              "onset:limb", "Limb and Bulbar", "spine", "Spinal", "bulbar and limb", "Onset:", ""]  # fmt: skip
SUBJECTS = ["1", "  s-2 ", "A" * 40, "A" * 41, "", " ", "Ω7"]

ALSFRS_COLUMNS = ("subject_id", "ALSFRS_Delta", *m.ITEM_COLUMNS.values(), m.Q5A, m.Q5B,
                  *m.ALSFRS_R_ITEMS.values(), "ALSFRS_R_Total")  # fmt: skip
TABLES: dict[str, tuple[tuple[str, ...], Callable[..., Any], Callable[..., Any]]] = {
    "alsfrs": (ALSFRS_COLUMNS, m.from_alsfrs_row, quick.plain_alsfrs),
    "fvc": (("subject_id", "Forced_Vital_Capacity_Delta", "pct_of_Normal_Trial_1"),
            m.from_fvc_row, quick.plain_fvc),
    "demographics": (("subject_id", "Sex", "Age", "Date_of_Birth"),
                     m.from_demographics_row, quick.plain_demographics),
    "history": (("subject_id", "Site_of_Onset", "Onset_Delta", "Diagnosis_Delta"),
                m.from_history_row, quick.plain_history),
    "death": (("subject_id", "Subject_Died", "Death_Days"), m.from_death_row, quick.plain_death),
}  # fmt: skip


def cells(columns: Sequence[str]) -> st.SearchStrategy[list[str]]:
    def one(column: str) -> st.SearchStrategy[str]:
        if column == "subject_id":
            return st.sampled_from(SUBJECTS) | st.text(max_size=3)
        pool = EDGE_NUMBERS + EDGE_WORDS
        return st.sampled_from(pool) | st.text(max_size=4)

    return st.tuples(*(one(c) for c in columns)).map(list)


def plain_items_row() -> st.SearchStrategy[list[str]]:
    """ALSFRS-R rows that are mostly well formed, so the quick path's acceptance is exercised."""
    score = st.sampled_from(["0", "1", "2", "3", "4"])
    return st.builds(
        lambda subject, day, items, five, pad, total: [
            subject, day, *items[:8], *(five if pad else five[::-1]), *items[8:], total
        ],
        st.sampled_from(SUBJECTS), st.sampled_from(["0", "7", "-14", "400", "36525", "36526", "3.0"]),
        st.lists(score, min_size=11, max_size=11), st.tuples(score, st.just("")), st.booleans(),
        st.sampled_from(["", "20", "30", "44", "48", " 30"]) | score,
    )  # fmt: skip


def agree(table: str, fields: list[str]) -> bool:
    """Whether the quick parser declined the row, or gave what the full rules give."""
    columns, full, make = TABLES[table]
    fast = make(list(columns))(fields)
    if fast is None:
        return True
    try:
        expected = full(dict(zip(columns, fields, strict=True)), where="row 2")
    except InvalidImport as refused:
        pytest.fail(f"quick parser accepted {fields!r}, which the rules refuse: {refused}")
    assert fast == expected, fields
    return True


@pytest.mark.parametrize("table", sorted(TABLES))
@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(data=st.data())
def test_quick_parser_agrees_with_the_rules(table, data):
    columns = TABLES[table][0]
    fields = data.draw(cells(columns))
    assert agree(table, fields)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(fields=plain_items_row())
def test_quick_alsfrs_parser_accepts_plain_rows_as_the_rules_do(fields):
    assert agree("alsfrs", fields)


def test_the_quick_path_is_taken_for_plain_rows():
    """A plain row is accepted by the quick parser itself (else the speed-up would be vacuous)."""
    columns, full, make = TABLES["alsfrs"]
    fields = ["7", "30", "4", "4", "3", "3", "3", "3", "2", "2", "2", "", "4", "4", "4", ""]

    fast = make(list(columns))(fields)

    assert fast is not None
    assert fast == full(dict(zip(columns, fields, strict=True)), where="row 2")
    assert fast.total == 4 + 4 + 3 + 3 + 2 + 3 + 3 + 2 + 2 + 4 + 4 + 4
