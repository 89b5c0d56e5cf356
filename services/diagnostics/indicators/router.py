"""The structural diagnostics of a territory or a perimeter: indicators, peers, report,
roll-up, specialisation, shift-share, and the typology of every territory. The year
defaults to the latest with figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.diagnostics.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    next_cursor,
)
from services.diagnostics.http.parameters import LatestYear, PerimeterCode, TerritoryCode, YearSpan
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.indicators.errors import NoDataForYear
from services.diagnostics.indicators.schemas import (
    IndicatorsRead,
    PeersRead,
    ReportRead,
    RollupRead,
    ShiftShareBetween,
    SpecialisationRead,
    TypologyPage,
)
from services.diagnostics.indicators.service import (
    evolution,
    indicators,
    peers,
    report,
    rollups,
    typology,
)
from services.diagnostics.perimeters.errors import PerimeterNotFound
from services.diagnostics.perimeters.schemas import PerimeterKind
from services.diagnostics.territories.errors import TerritoryNotFound
from services.diagnostics.territories.schemas import Level
from shared.service_app import DbSession
from shared.strict_types import IsoDate

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
K = Annotated[int, Query(ge=1, le=50, description="Number of peers")]
HTML: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}
ON_TERRITORY = errors(TerritoryNotFound, NoDataForYear)
ON_PERIMETER = errors(PerimeterNotFound, NoDataForYear)


@router.get("/territories/{code}/indicators", response_model=IndicatorsRead, responses=ON_TERRITORY)
async def get_indicators(
    code: TerritoryCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    currency: Currency = None,
) -> IndicatorsRead:
    """Every indicator of the territory for the year, with its French label, unit and
    meaning, and its percentile among territories of its level (with ``currency``, one the
    client is bound to, its circulation indicators too)."""
    return IndicatorsRead(
        **await indicators.indicators(session, principal, code=code, year=year, currency=currency)
    )


@router.get("/territories/{code}/peers", response_model=PeersRead, responses=ON_TERRITORY)
async def get_peers(
    code: TerritoryCode, session: DbSession, principal: Reader, year: LatestYear = None, k: K = 5
) -> PeersRead:
    """The k nearest territories of the same level on structural indicators, and
    percentiles of every indicator among them."""
    return PeersRead(**await peers.peers(session, principal, code=code, year=year, k=k))


@router.get("/territories/{code}/report", response_model=ReportRead, responses=ON_TERRITORY)
async def get_report(
    code: TerritoryCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    currency: Currency = None,
) -> ReportRead:
    """The diagnostic: indicators with peers of the same level, engine shares, typology,
    strengths, fragilities, levers, and the change since the previous year with figures."""
    return ReportRead.model_validate(
        await report.report(session, principal, code=code, year=year, currency=currency)
    )


@router.get(
    "/territories/{code}/report.html",
    response_class=HTMLResponse,
    responses={**HTML, **ON_TERRITORY},
)
async def get_report_html(
    code: TerritoryCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    currency: Currency = None,
) -> HTMLResponse:
    """The diagnostic as a printable HTML page in French, with charts."""
    found = await report.report(session, principal, code=code, year=year, currency=currency)
    return HTMLResponse(report.page(found))


@router.get("/territories/{code}/rollup", response_model=RollupRead, responses=ON_TERRITORY)
async def get_rollup(
    code: TerritoryCode, session: DbSession, principal: Reader, year: LatestYear = None
) -> RollupRead:
    """Regional aggregate: the sums over the territory's direct members that have data."""
    return RollupRead(**await rollups.territory_rollup(session, principal, code=code, year=year))


@router.get(
    "/territories/{code}/specialisation",
    response_model=SpecialisationRead,
    responses=ON_TERRITORY,
)
async def get_specialisation(
    code: TerritoryCode, session: DbSession, principal: Reader, year: LatestYear = None
) -> SpecialisationRead:
    """Location quotient of every sector and Krugman index, against the sum of the
    départements; unknown when a cell is secret."""
    return SpecialisationRead(
        **await evolution.specialisation(session, principal, code=code, year=year)
    )


@router.get(
    "/territories/{code}/shift-share",
    response_model=ShiftShareBetween,
    responses=ON_TERRITORY,
)
async def get_shift_share(
    code: TerritoryCode, span: YearSpan, session: DbSession, principal: Reader
) -> ShiftShareBetween:
    """Shift-share decomposition of the territory's jobs by sector between two years."""
    between = await evolution.shift_share_of(session, principal, code=code, **span._asdict())
    return ShiftShareBetween(**between)


@router.get(
    "/typology", response_model=TypologyPage, responses=errors(NoDataForYear, InvalidCursor)
)
async def get_typology(
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    level: Level | None = None,
    k: Annotated[int, Query(ge=1, le=20, description="Clusters for k-means")] = 5,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> TypologyPage:
    """Rule-based model and k-means cluster of each territory, and how far they agree."""
    after = decode_cursor(cursor, lambda raw: str(raw[0]))
    page = await typology.typology_page(
        session, principal, year=year, k=k, after=after, limit=limit, level=level
    )
    return TypologyPage(
        **page,
        next_cursor=next_cursor(page["items"], limit=limit, key=lambda r: [r["territory"]]),
    )


@router.get(
    "/perimeters/{kind}/{code}/indicators", response_model=IndicatorsRead, responses=ON_PERIMETER
)
async def get_perimeter_indicators(
    kind: PerimeterKind,
    code: PerimeterCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
) -> IndicatorsRead:
    """Every indicator of a perimeter, recomputed from the sums of its communes."""
    return IndicatorsRead(
        **await indicators.perimeter_indicators(session, principal, kind=kind, code=code, year=year)
    )


@router.get("/perimeters/{kind}/{code}/peers", response_model=PeersRead, responses=ON_PERIMETER)
async def get_perimeter_peers(
    kind: PerimeterKind,
    code: PerimeterCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    k: K = 5,
) -> PeersRead:
    """The k nearest perimeters of the same kind, and percentiles among them."""
    return PeersRead(
        **await peers.perimeter_peers(session, principal, kind=kind, code=code, year=year, k=k)
    )


@router.get("/perimeters/{kind}/{code}/report", response_model=ReportRead, responses=ON_PERIMETER)
async def get_perimeter_report(
    kind: PerimeterKind,
    code: PerimeterCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
) -> ReportRead:
    """The diagnostic of a perimeter, compared with perimeters of the same kind."""
    return ReportRead.model_validate(
        await report.perimeter_report(session, principal, kind=kind, code=code, year=year)
    )


@router.get(
    "/perimeters/{kind}/{code}/report.html",
    response_class=HTMLResponse,
    responses={**HTML, **ON_PERIMETER},
)
async def get_perimeter_report_html(
    kind: PerimeterKind,
    code: PerimeterCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
) -> HTMLResponse:
    """The diagnostic of a perimeter as a printable HTML page in French."""
    found = await report.perimeter_report(session, principal, kind=kind, code=code, year=year)
    return HTMLResponse(report.page(found))


@router.get("/perimeters/{kind}/{code}/rollup", response_model=RollupRead, responses=ON_PERIMETER)
async def get_perimeter_rollup(
    kind: PerimeterKind,
    code: PerimeterCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
    at: Annotated[
        IsoDate | None, Query(description="Perimeter date (default: 1 July of year)")
    ] = None,
) -> RollupRead:
    """Sums over the communes of a contract perimeter (as it stood on ``at``) with data."""
    return RollupRead(
        **await rollups.perimeter_rollup(session, principal, kind=kind, code=code, year=year, at=at)
    )


@router.get(
    "/perimeters/{kind}/{code}/specialisation",
    response_model=SpecialisationRead,
    responses=ON_PERIMETER,
)
async def get_perimeter_specialisation(
    kind: PerimeterKind,
    code: PerimeterCode,
    session: DbSession,
    principal: Reader,
    year: LatestYear = None,
) -> SpecialisationRead:
    """Location quotients and Krugman index of a perimeter, from its communes' jobs."""
    return SpecialisationRead(
        **await evolution.perimeter_specialisation(
            session, principal, kind=kind, code=code, year=year
        )
    )


@router.get(
    "/perimeters/{kind}/{code}/shift-share",
    response_model=ShiftShareBetween,
    responses=ON_PERIMETER,
)
async def get_perimeter_shift_share(
    kind: PerimeterKind, code: PerimeterCode, span: YearSpan, session: DbSession, principal: Reader
) -> ShiftShareBetween:
    """Shift-share decomposition of a perimeter's jobs by sector between two years."""
    place = (kind, code)
    between = await evolution.shift_share_of(session, principal, perimeter=place, **span._asdict())
    return ShiftShareBetween(**between)
