"""CSV exports of indicators, peers, typology and shift-share (``dialect=fr``: semicolons,
BOM and decimal commas for a French spreadsheet)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.diagnostics.exports import service
from services.diagnostics.exports.rules import Dialect
from services.diagnostics.http.parameters import LatestYear, TerritoryCode, Year
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.indicators.errors import NoDataForYear
from services.diagnostics.territories.errors import TerritoryNotFound
from services.diagnostics.territories.schemas import Level
from shared.service_app import DbSession

router = APIRouter(tags=["territories"])

DialectParam = Annotated[
    Dialect,
    Query(description="fr: semicolons, UTF-8 BOM and decimal commas (French spreadsheets)"),
]
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}
ON_TERRITORY = {**CSV, **errors(TerritoryNotFound, NoDataForYear)}


def _csv(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/territories/{code}/indicators.csv", response_class=Response, responses=ON_TERRITORY)
async def export_indicators(
    code: TerritoryCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    dialect: DialectParam = "standard",
) -> Response:
    """The territory's indicators as CSV, with French labels, units and meanings."""
    body = await service.indicators_csv(session, principal, code=code, year=year, dialect=dialect)
    return _csv(body, f"indicateurs-{code}")


@router.get("/territories/{code}/peers.csv", response_class=Response, responses=ON_TERRITORY)
async def export_peers(
    code: TerritoryCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    dialect: DialectParam = "standard",
) -> Response:
    """The nearest territories of the same level as CSV."""
    body = await service.peers_csv(session, principal, code=code, year=year, k=k, dialect=dialect)
    return _csv(body, f"pairs-{code}")


@router.get("/territories/{code}/shift-share.csv", response_class=Response, responses=ON_TERRITORY)
async def export_shift_share(
    code: TerritoryCode,
    from_year: Year,
    session: DbSession,
    principal: Reader,
    to_year: LatestYear = None,
    dialect: DialectParam = "standard",
) -> Response:
    """The shift-share decomposition by sector as CSV."""
    body = await service.shift_share_csv(
        session, principal, code=code, from_year=from_year, to_year=to_year, dialect=dialect
    )
    return _csv(body, f"structurelle-residuelle-{code}")


@router.get("/typology.csv", response_class=Response, responses={**CSV, **errors(NoDataForYear)})
async def export_typology(
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    level: Level | None = None,
    dialect: DialectParam = "standard",
) -> Response:
    """The typology of every territory the client may see, as CSV."""
    body = await service.typology_csv(session, principal, year=year, level=level, dialect=dialect)
    return _csv(body, "typologie")
