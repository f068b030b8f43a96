"""One value to REDCap raw text and back (interop/redcap/values.py), property-based."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alscell.interop.redcap.values import parse_value, to_text

# Hypothesis takes naive bounds and adds the zone itself.
instants = st.datetimes(
    min_value=datetime(1900, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=0))


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
@example(5.1e6)
@example(1.05)
@example(1e-7)
def test_numbers_round_trip_in_plain_decimals(number: float) -> None:
    text = to_text(number)
    assert "e" not in text.lower()
    assert parse_value(text, "number") == number


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_round_trip(day: date) -> None:
    assert parse_value(to_text(day), "date") == day


@given(instants)
def test_instants_round_trip_in_utc_to_the_second(moment: datetime) -> None:
    assert parse_value(to_text(moment), "datetime") == moment


def test_an_instant_elsewhere_is_written_in_utc() -> None:
    moment = datetime(2026, 1, 19, 9, 5, 42, tzinfo=timezone(timedelta(hours=1)))
    assert to_text(moment) == "2026-01-19 08:05:42"
    assert parse_value("2026-01-19 08:05", "datetime") == datetime(2026, 1, 19, 8, 5, tzinfo=UTC)


@given(st.lists(st.from_regex(r"[a-z_.]{1,20}", fullmatch=True), max_size=4))
def test_lists_round_trip_one_item_per_line(items: list[str]) -> None:
    assert parse_value(to_text(tuple(items)), "list") == tuple(items)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("3.5", "integer", "'3.5' is not a whole number"),
        ("1e5", "number", "'1e5' is not a decimal number"),
        ("maybe", "boolean", "'maybe' is not 1 (yes) or 0 (no)"),
        ("2026-1-5", "date", "'2026-1-5' is not a date as YYYY-MM-DD (REDCap date_ymd)"),
        ("2026-01-05 25:00:00", "datetime", "'2026-01-05 25:00:00' is not a date and time as "
         "YYYY-MM-DD HH:MM:SS (REDCap datetime_seconds_ymd, UTC)"),
    ],
)  # fmt: skip
def test_values_of_the_wrong_shape_say_what_was_expected(
    text: str, kind: str, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_value(text, kind)
