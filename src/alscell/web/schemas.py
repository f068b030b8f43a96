"""Request and response models shared by the API: strict input, ISO dates, pages.

Request models are strict (``false`` is never a number, ``"3"`` never an int) and refuse unknown
fields; dates are ``YYYY-MM-DD`` strings and instants ISO 8601 with a time zone. No text in them may
hold a NUL character (:func:`unstorable`), which PostgreSQL cannot store.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from alscell.services.records import NUL_RULE

__all__ = [
    "Instant",
    "IsoDate",
    "Page",
    "ReadModel",
    "StrictModel",
    "Text",
    "action",
    "lax",
    "unstorable",
]

T = TypeVar("T")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else value
        except ValueError:
            return value  # the strict date check then names the field
    return value


def _iso_instant(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2026-01-05T09:30:00+01:00")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Instant = Annotated[datetime, BeforeValidator(_iso_instant), AfterValidator(_aware)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


def lax() -> Any:
    """A field that accepts the string value of an enum (JSON has no enums)."""
    return Field(strict=False)


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored as text (None: it can): PostgreSQL refuses the NUL character,
    even as a parameter of a look-up. (Half a surrogate pair, from a JSON ``\\ud800``, is refused by
    Pydantic's own check of every ``str``.)"""
    return NUL_RULE if "\x00" in text else None


def _unstorable_within(value: Any) -> str | None:
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple | set | frozenset):
        return next((rule for item in value if (rule := _unstorable_within(item))), None)
    return None  # numbers, dates, and nested request models (which check their own fields)


class StrictModel(BaseModel):
    """Base of request bodies: strict types, no unknown fields, only text the databases can store."""

    model_config = ConfigDict(strict=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        rule = _unstorable_within(value)
        if rule is not None:
            raise PydanticCustomError("unstorable_text", rule)
        return value


class ReadModel(BaseModel):
    """Base of responses: built from service results (ORM rows or dataclasses)."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int


def action(*actions: str) -> dict[str, Any]:
    """OpenAPI metadata naming the permission(s) a route needs (checked by the services)."""
    return {"x-alscell-actions": list(actions)}
