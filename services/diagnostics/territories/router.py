"""Territories the client is bound to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.diagnostics.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    next_cursor,
)
from services.diagnostics.http.parameters import TerritoryCode
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.territories import service
from services.diagnostics.territories.errors import TerritoryNotFound
from services.diagnostics.territories.schemas import Level, TerritoryPage, TerritoryRead
from shared.service_app import DbSession

router = APIRouter(tags=["territories"])


@router.get("/territories", response_model=TerritoryPage, responses=errors(InvalidCursor))
async def list_territories(
    session: DbSession,
    principal: Reader,
    level: Level | None = None,
    parent: Annotated[str | None, Query(max_length=9, pattern=r"^[0-9A-Z]+$")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> TerritoryPage:
    """Territories the client may see, by code."""
    after = decode_cursor(cursor, lambda raw: str(raw[0]))
    items = await service.list_territories(
        session, principal, after=after, limit=limit, level=level, parent=parent
    )
    return TerritoryPage(
        items=[TerritoryRead.model_validate(t) for t in items],
        next_cursor=next_cursor(items, limit=limit, key=lambda t: [t.code]),
    )


@router.get(
    "/territories/{code}", response_model=TerritoryRead, responses=errors(TerritoryNotFound)
)
async def get_territory(
    code: TerritoryCode, session: DbSession, principal: Reader
) -> TerritoryRead:
    """One territory."""
    return TerritoryRead.model_validate(await service.get_readable(session, principal, code))
