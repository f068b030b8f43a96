"""The schema builder: plain data into frozen dataclasses, every problem reported with its path."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date
from enum import StrEnum

import pytest

from alscell.domain.schema import build, constraint
from alscell.errors import InvalidInput


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True, slots=True)
class Inner:
    count: int = field(metadata=constraint(ge=1))
    ratio: float = field(default=0.5, metadata=constraint(gt=0, le=1))


@dataclass(frozen=True, slots=True)
class Outer:
    name: str = field(metadata=constraint(pattern=r"[a-z]+", doc="lower-case letters"))
    colour: Colour
    inner: Inner
    items: tuple[Inner, ...] = field(default=(), metadata=constraint(min_items=1))
    limits: Mapping[str, float] = field(default_factory=dict, metadata=constraint(ge=0))
    on: date | None = None
    flag: bool = False

    def problems(self) -> Iterable[tuple[str, str]]:
        if self.flag and self.on is None:
            yield "on", "required when flag is true"


GOOD = {"name": "abc", "colour": "red", "inner": {"count": 2}, "items": [{"count": 1, "ratio": 1}]}


def problems_of(data: object) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        build(Outer, data)
    return {problem.location: problem.message for problem in caught.value.problems}


def test_valid_data_builds_the_dataclass():
    built = build(Outer, {**GOOD, "limits": {"a": 3}, "on": "2026-01-05", "flag": True})

    assert built.colour is Colour.RED
    assert built.inner == Inner(count=2, ratio=0.5)
    assert built.items == (Inner(count=1, ratio=1.0),)
    assert isinstance(
        built.items[0].ratio, float
    )  # whole numbers become floats where floats are declared
    assert built.on == date(2026, 1, 5)
    assert dict(built.limits) == {"a": 3}


def test_dates_from_yaml_are_accepted_as_dates():
    assert build(Outer, {**GOOD, "on": date(2026, 2, 1)}).on == date(2026, 2, 1)


def test_every_problem_is_reported_with_its_path():
    data = {
        "name": "ABC",
        "colour": "green",
        "inner": {"count": 0, "ratio": "0.3"},
        "items": [{"count": 1}, {"count": True}, "x"],
        "limits": {"a": -1},
        "on": "05/01/2026",
        "flag": "yes",
        "extra": 1,
    }

    found = problems_of(data)

    assert found == {
        "extra": "unknown field; known fields: name, colour, inner, items, limits, on, flag",
        "name": "must be lower-case letters, got 'ABC'",
        "colour": "must be one of red, blue; got 'green'",
        "inner.count": "must be >= 1, got 0",
        "inner.ratio": "must be a number, got str '0.3' (write numbers like 5000000 or 5.0e+6)",
        "items[1].count": "must be a whole number, got bool True",
        "items[2]": "must be a mapping of fields, got str 'x'",
        "limits.a": "must be >= 0, got -1",
        "on": "must be a date written YYYY-MM-DD, got str '05/01/2026'",
        "flag": "must be true or false, got str 'yes'",
    }


def test_missing_required_fields_are_named():
    assert problems_of({"colour": "red"}) == {
        "name": "required field is missing",
        "inner": "required field is missing",
    }


def test_unknown_field_suggests_the_closest_name():
    assert problems_of({**GOOD, "colur": "red"})["colur"] == "unknown field; did you mean 'colour'?"


@pytest.mark.parametrize(
    ("key", "place"),
    [("", "['']"), ("a b", "['a b']"), ("a.b", "['a.b']"), ("x[0]", "['x[0]']"), (7, "[7]"),
     (None, "[None]"), ("colour'", '["colour\'"]')],
)  # fmt: skip
def test_an_unknown_key_that_is_not_a_plain_name_is_placed_in_brackets(key, place):
    """Found by the hostile protocol files: an empty key was named ``follow_up.visits[0].``."""
    inner: dict[object, object] = {"count": 2, key: 1}
    problems = problems_of({**GOOD, "inner": inner})

    assert f"inner{place}" in problems, problems


def test_cross_field_rules_run_once_the_fields_are_valid():
    assert problems_of({**GOOD, "flag": True}) == {"on": "required when flag is true"}


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"items": []}, "items", "must have at least 1 item"),
        ({"items": {"count": 1}}, "items", "must be a list, got dict"),
        ({"limits": [1]}, "limits", "must be a mapping, got list"),
        ({"limits": {5: 1}}, "limits.5", "keys must be non-empty text"),
        (
            {"inner": {"count": 1, "ratio": float("inf")}},
            "inner.ratio",
            "must be a finite number, got inf",
        ),
        ({"inner": {"count": 1, "ratio": 1.5}}, "inner.ratio", "must be <= 1, got 1.5"),
        (
            {"inner": {"count": 1, "ratio": 10**400}},  # too large for a float: no OverflowError
            "inner.ratio",
            "must be a number of at most 1.8e+308, got 1"
            + "0" * 56
            + "...",  # cut to 60 characters
        ),
        (
            {"colour": 2**20_000},  # too long for repr(): the message still reads
            "colour",
            "must be one of red, blue; got a whole number of 20,001 bits",
        ),
        ({"inner": {"count": 1, "ratio": 0}}, "inner.ratio", "must be > 0, got 0"),
        ({"inner": {"count": 2.0}}, "inner.count", "must be a whole number, got float 2.0"),
        ({"name": " "}, "name", "must be non-empty text, got str ' '"),
        ({"colour": 3}, "colour", "must be one of red, blue; got 3"),
        ({"on": 20260105}, "on", "must be a date written YYYY-MM-DD, got int 20260105"),
    ],
)
def test_each_rule(changes, path, message):
    assert problems_of({**GOOD, **changes}) == {path: message}


def test_top_level_that_is_not_a_mapping():
    assert problems_of(["a"]) == {"(top level)": "must be a mapping of fields, got list"}


def test_the_error_names_its_subject():
    with pytest.raises(InvalidInput, match=r"^invalid protocol \(1 problem\)"):
        build(Outer, {**GOOD, "flag": True}, subject="protocol")


def test_a_timestamp_is_not_a_date():
    from datetime import datetime

    found = problems_of({**GOOD, "on": datetime(2026, 1, 5, 9, tzinfo=UTC)})

    assert list(found) == ["on"]
