"""Keyset pagination of every list endpoint: page size, opaque cursors, pages."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query

from services.ledger.errors import LedgerDomainError

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page")
]


class InvalidCursor(LedgerDomainError):
    """A pagination cursor was not produced by this API."""

    code, title = "invalid-cursor", "Invalid pagination cursor"


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, parse: Callable[[str], T]) -> T | None:
    """The key a cursor carries, or InvalidCursor (422) for anything we did not produce."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return parse(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this API returned") from exc


def page(items: list[Any], *, limit: int, key: Callable[[Any], Any]) -> dict[str, Any]:
    """A page of at most ``limit`` items; ``next_cursor`` is null on the last page."""
    more = len(items) == limit
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if more else None}


@dataclass(frozen=True)
class Paging:
    """The ``limit`` and ``cursor`` of a list request, as one dependency."""

    limit: int
    cursor: str | None

    def after(self, parse: Callable[[str], T]) -> T | None:
        """The key the cursor carries (see `decode_cursor`)."""
        return decode_cursor(self.cursor, parse)

    def page_of(self, rows: Iterable[Any], key: str) -> dict[str, Any]:
        """The page of ``rows`` (mappings, rendered as dicts), its cursor their last ``key``."""
        return page([dict(r) for r in rows], limit=self.limit, key=lambda item: item[key])


def _paging_by_50(limit: Limit = 50, cursor: Cursor = None) -> Paging:
    return Paging(limit=limit, cursor=cursor)


PageOf50 = Annotated[Paging, Depends(_paging_by_50)]
"""``limit`` (50 by default) and ``cursor`` query parameters."""
