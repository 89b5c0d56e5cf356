"""Contract perimeters, their communes on a date, and sums over those communes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.diagnostics.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    next_cursor,
)
from services.diagnostics.http.parameters import PerimeterCode
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.perimeters import service
from services.diagnostics.perimeters.errors import PerimeterNotFound
from services.diagnostics.perimeters.schemas import (
    PerimeterDetail,
    PerimeterKind,
    PerimeterPage,
    PerimeterRead,
)
from shared.service_app import DbSession
from shared.strict_types import IsoDate

router = APIRouter(tags=["territories"])


@router.get("/perimeters", response_model=PerimeterPage, responses=errors(InvalidCursor))
async def list_perimeters(
    session: DbSession,
    principal: Reader,
    kind: PerimeterKind | None = None,
    at: Annotated[IsoDate | None, Query(description="Only versions valid on this date")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> PerimeterPage:
    """Contract perimeters (every version, or those valid on a date)."""
    after = decode_cursor(
        cursor, lambda raw: (str(raw[0]), str(raw[1]), date.fromisoformat(raw[2]))
    )
    items = await service.list_perimeters(session, after=after, limit=limit, kind=kind, at=at)
    return PerimeterPage(
        items=[PerimeterRead(**item) for item in items],
        next_cursor=next_cursor(
            items,
            limit=limit,
            key=lambda i: [i["kind"], i["code"], i["valid_from"].isoformat()],
        ),
    )


@router.get(
    "/perimeters/{kind}/{code}",
    response_model=PerimeterDetail,
    responses=errors(PerimeterNotFound),
)
async def get_perimeter(
    kind: PerimeterKind,
    code: PerimeterCode,
    session: DbSession,
    principal: Reader,
    at: Annotated[IsoDate | None, Query(description="Date (default: today)")] = None,
) -> PerimeterDetail:
    """The communes of a perimeter on a date (perimeters change over time)."""
    return PerimeterDetail(**await service.perimeter_on(session, kind=kind, code=code, at=at))
