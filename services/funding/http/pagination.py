"""Keyset paging: the ``cursor``/``limit`` query parameters and the page they return."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query

from services.funding.db.repository import Paging
from services.funding.http.fields import Schema

T = TypeVar("T")


def paging(
    cursor: Annotated[
        uuid.UUID | None, Query(description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Paging:
    """Keyset paging: items after ``cursor``, at most ``limit`` of them."""
    return Paging(cursor=cursor, limit=limit)


PageParams = Annotated[Paging, Depends(paging)]


class Page(Schema, Generic[T]):
    """One page of a keyset-paginated list; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None = None


def page_of(rows: Iterable[Any], cursor: str | None, schema: Any) -> dict[str, Any]:
    """The page body of ``rows`` rendered with ``schema``."""
    return {"items": [schema.model_validate(r) for r in rows], "next_cursor": cursor}
