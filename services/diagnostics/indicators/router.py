"""The structural diagnostics of a territory-year: indicators, peers, report, roll-up, and
the typology of every territory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.diagnostics.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    next_cursor,
)
from services.diagnostics.http.parameters import TerritoryCode, Year
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.indicators.errors import NoDataForYear
from services.diagnostics.indicators.schemas import (
    IndicatorsRead,
    PeersRead,
    ReportRead,
    RollupRead,
    TypologyPage,
)
from services.diagnostics.indicators.service import indicators, peers, report, rollups, typology
from services.diagnostics.territories.errors import TerritoryNotFound
from shared.service_app import DbSession

router = APIRouter(tags=["territories"])

Currency = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A local currency code (one the client is bound to): adds its "
        "circulation indicators over the year",
    ),
]


@router.get(
    "/territories/{code}/indicators",
    response_model=IndicatorsRead,
    responses=errors(TerritoryNotFound, NoDataForYear),
)
async def get_indicators(
    code: TerritoryCode,
    year: Year,
    session: DbSession,
    principal: Reader,
    currency: Currency = None,
) -> IndicatorsRead:
    """Every indicator of the territory for the year, with its percentile among territories
    (with ``currency``, one the client is bound to, its circulation indicators too)."""
    return IndicatorsRead(
        **await indicators.indicators(session, principal, code=code, year=year, currency=currency)
    )


@router.get(
    "/territories/{code}/peers",
    response_model=PeersRead,
    responses=errors(TerritoryNotFound, NoDataForYear),
)
async def get_peers(
    code: TerritoryCode,
    year: Year,
    session: DbSession,
    principal: Reader,
    k: Annotated[int, Query(ge=1, le=50, description="Number of peers")] = 5,
) -> PeersRead:
    """The k nearest territories on structural indicators, and percentiles of every indicator."""
    return PeersRead(**await peers.peers(session, principal, code=code, year=year, k=k))


@router.get(
    "/territories/{code}/report",
    response_model=ReportRead,
    responses=errors(TerritoryNotFound, NoDataForYear),
)
async def get_report(
    code: TerritoryCode,
    year: Year,
    session: DbSession,
    principal: Reader,
    currency: Currency = None,
) -> ReportRead:
    """The diagnostic: indicators with peers, engine shares, typology, strengths, fragilities
    and suggested levers."""
    return ReportRead.model_validate(
        await report.report(session, principal, code=code, year=year, currency=currency)
    )


@router.get(
    "/territories/{code}/report.html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **errors(TerritoryNotFound, NoDataForYear)},
)
async def get_report_html(
    code: TerritoryCode,
    year: Year,
    session: DbSession,
    principal: Reader,
    currency: Currency = None,
) -> HTMLResponse:
    """The diagnostic as a printable HTML page with charts."""
    return HTMLResponse(
        await report.report_page(session, principal, code=code, year=year, currency=currency)
    )


@router.get(
    "/territories/{code}/rollup",
    response_model=RollupRead,
    responses=errors(TerritoryNotFound, NoDataForYear),
)
async def get_rollup(
    code: TerritoryCode, year: Year, session: DbSession, principal: Reader
) -> RollupRead:
    """Regional aggregate: the sums over the territory's direct members that have data."""
    return RollupRead(**await rollups.territory_rollup(session, principal, code=code, year=year))


@router.get(
    "/typology", response_model=TypologyPage, responses=errors(NoDataForYear, InvalidCursor)
)
async def get_typology(
    year: Year,
    session: DbSession,
    principal: Reader,
    k: Annotated[int, Query(ge=1, le=20, description="Clusters for k-means")] = 5,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> TypologyPage:
    """Rule-based model and k-means cluster of each territory, and how far they agree."""
    after = decode_cursor(cursor, lambda raw: str(raw[0]))
    page = await typology.typology_page(
        session, principal, year=year, k=k, after=after, limit=limit
    )
    return TypologyPage(
        **page,
        next_cursor=next_cursor(page["items"], limit=limit, key=lambda r: [r["territory"]]),
    )
