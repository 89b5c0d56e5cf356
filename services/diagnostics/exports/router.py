"""CSV and XLSX exports of indicators, peers, typology and shift-share (CSV with
``dialect=fr``: semicolons, BOM and decimal commas for a French spreadsheet)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.diagnostics.exports import service
from services.diagnostics.exports.rules import Dialect, Format
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
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}, XLSX: {}}}}
FormatParam = Annotated[Format, Path(description="csv or xlsx")]
ON_TERRITORY = {**CSV, **errors(TerritoryNotFound, NoDataForYear)}


def _file(body: bytes, name: str, format: Format) -> Response:
    return Response(
        body,
        media_type=XLSX if format == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )


@router.get(
    "/territories/{code}/indicators.{format}", response_class=Response, responses=ON_TERRITORY
)
async def export_indicators(
    code: TerritoryCode,
    format: FormatParam,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    dialect: DialectParam = "standard",
) -> Response:
    """The territory's indicators as CSV or XLSX, with French labels, units and meanings."""
    body = await service.indicators_csv(
        session, principal, code=code, year=year, dialect=dialect, format=format
    )
    return _file(body, f"indicateurs-{code}", format)


@router.get("/territories/{code}/peers.{format}", response_class=Response, responses=ON_TERRITORY)
async def export_peers(
    code: TerritoryCode,
    format: FormatParam,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    dialect: DialectParam = "standard",
) -> Response:
    """The nearest territories of the same level as CSV or XLSX."""
    body = await service.peers_csv(
        session, principal, code=code, year=year, k=k, dialect=dialect, format=format
    )
    return _file(body, f"pairs-{code}", format)


@router.get(
    "/territories/{code}/shift-share.{format}", response_class=Response, responses=ON_TERRITORY
)
async def export_shift_share(
    code: TerritoryCode,
    format: FormatParam,
    from_year: Year,
    session: DbSession,
    principal: Reader,
    to_year: LatestYear = None,
    dialect: DialectParam = "standard",
) -> Response:
    """The shift-share decomposition by sector as CSV or XLSX."""
    body = await service.shift_share_csv(
        session,
        principal,
        code=code,
        from_year=from_year,
        to_year=to_year,
        dialect=dialect,
        format=format,
    )
    return _file(body, f"structurelle-residuelle-{code}", format)


@router.get(
    "/typology.{format}", response_class=Response, responses={**CSV, **errors(NoDataForYear)}
)
async def export_typology(
    format: FormatParam,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    level: Level | None = None,
    dialect: DialectParam = "standard",
) -> Response:
    """The typology of every territory the client may see, as CSV or XLSX."""
    body = await service.typology_csv(
        session, principal, year=year, level=level, dialect=dialect, format=format
    )
    return _file(body, "typologie", format)
