"""Keyset pages: the ``limit`` and ``cursor`` parameters, and the cursor's encoding."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query

from services.diagnostics.http.text import check_storable
from shared.problems import Unprocessable

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` of the previous page")
]

T = TypeVar("T")
Item = TypeVar("Item")


class InvalidCursor(Unprocessable):
    code, title = "invalid-cursor", "Cursor is not one this API returned"


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, parse: Callable[[list[Any]], T]) -> T | None:
    """The key a cursor carries, or InvalidCursor (422) for anything we did not produce."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list):
            raise ValueError("not a list")
        for item in raw:
            if isinstance(item, str):
                check_storable(item)
        return parse(raw)
    except (ValueError, TypeError, IndexError, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not one this API returned") from exc


def next_cursor(items: list[Any], *, limit: int, key: Callable[[Any], list[Any]]) -> str | None:
    return encode_cursor(key(items[-1])) if len(items) == limit else None


def fields_key(*names: str) -> Callable[[dict[str, Any]], list[Any]]:
    """Key of the next cursor: these fields of the page's last item, in this order."""
    return lambda item: [item[name] for name in names]


async def keyset_page(
    cursor: str | None,
    *,
    limit: int,
    parse: Callable[[list[Any]], T],
    fetch: Callable[[T | None], Awaitable[list[Item]]],
    key: Callable[[Item], list[Any]],
) -> tuple[list[Item], str | None]:
    """One keyset page: the rows after the client's cursor, and the cursor of the next page
    (None on a short page), so every list endpoint encodes its position the same way."""
    items = await fetch(decode_cursor(cursor, parse))
    return items, next_cursor(items, limit=limit, key=key)
