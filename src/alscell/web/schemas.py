"""Request and response models shared by the API: strict input, ISO dates, pages.

Request models are strict (``false`` is never a number, ``"3"`` never an int) and refuse unknown
fields; dates are ``YYYY-MM-DD`` strings and instants ISO 8601 with a time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

__all__ = ["Instant", "IsoDate", "Page", "ReadModel", "StrictModel", "Text", "action", "lax"]

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


class StrictModel(BaseModel):
    """Base of request bodies: strict types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")


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
