"""GeoJSON pages of the boundaries of EPCI, zones d'emploi, départements and régions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from services.diagnostics.boundaries import service
from services.diagnostics.http.pagination import Cursor, InvalidCursor, decode_cursor
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from shared.service_app import DbSession

router = APIRouter(tags=["boundaries"])
MAX_PAGE = 50
"""A page stays a few megabytes at most (a zone d'emploi has thousands of vertices)."""


@router.get(
    "/boundaries",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, **errors(InvalidCursor)},
)
async def list_boundaries(
    session: DbSession,
    principal: Reader,
    level: Literal["epci", "zone_emploi", "departement", "region"],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size")] = 20,
    cursor: Cursor = None,
) -> Response:
    """Boundaries of the territories of ``level`` the client may see, as a GeoJSON
    FeatureCollection (longitude/latitude, union of the communes' simplified boundaries;
    ``properties.synthetic`` marks a generated zoning); ``next_cursor`` pages on."""
    after = decode_cursor(cursor, lambda raw: str(raw[0]))
    body = await service.boundaries_page(session, principal, level=level, after=after, limit=limit)
    return Response(body, media_type="application/geo+json")
