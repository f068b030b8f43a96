"""One page of a list, and the list's total: every list service pages the same way."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

__all__ = ["page"]

T = TypeVar("T")


def page(
    session: Session, statement: sa.Select[T], *order: sa.ColumnElement[Any] | Any,
    limit: int, offset: int,
) -> tuple[list[T], int]:  # fmt: skip
    """The rows of ``statement`` in ``order``, ``limit`` from ``offset``, and how many there are in all."""
    total = session.execute(
        sa.select(sa.func.count()).select_from(statement.subquery())
    ).scalar_one()
    rows = session.execute(statement.order_by(*order).limit(limit).offset(offset)).scalars()
    return list(rows), int(total)
