"""Territories, perimeters, and the structural diagnostics of a territory-year."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from services.diagnostics.api.common import (
    Currency,
    Cursor,
    Limit,
    Reader,
    TerritoryCode,
    Year,
    decode_cursor,
    errors,
    next_cursor,
)
from services.diagnostics.api.html import render_report
from services.diagnostics.api.schemas import (
    IndicatorsRead,
    PeersRead,
    PerimeterDetail,
    PerimeterPage,
    PerimeterRead,
    ReportRead,
    RollupRead,
    TerritoryPage,
    TerritoryRead,
    TypologyPage,
)
from services.diagnostics.service import analysis
from services.diagnostics.service.errors import (
    InvalidCursor,
    NoDataForYear,
    PerimeterNotFound,
    TerritoryNotFound,
)
from services.diagnostics.store import repository as repo
from services.diagnostics.territories.rules import LEVELS
from shared.auth import Principal
from shared.problems import Forbidden
from shared.service_app import DbSession

router = APIRouter(tags=["territories"])

Level = Literal["region", "departement", "zone_emploi", "epci", "commune"]
PerimeterKind = Literal["cddra", "cfac", "pnr", "politique_ville"]
assert set(Level.__args__) == set(LEVELS)  # type: ignore[attr-defined]


async def _territory(
    session: DbSession, principal: Principal, code: str, currency: str | None = None
) -> TerritoryRead:
    """The territory, after checking the client is bound to it and to ``currency`` when a
    view adds that currency's live figures (403 before 404: no probing)."""
    principal.ensure_access("territories", code)
    if currency is not None:
        principal.ensure_access("currencies", currency)
    found = await repo.get_territory(session, code)
    if found is None:
        raise TerritoryNotFound(f"no territory {code}")
    return TerritoryRead.model_validate(found)


@router.get("/territories", response_model=TerritoryPage, responses=errors(InvalidCursor))
async def list_territories(
    session: DbSession,
    principal: Reader,
    level: Level | None = None,
    parent: Annotated[str | None, Query(max_length=9, pattern=r"^[0-9AB]+$")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> TerritoryPage:
    """Territories the client may see, by code."""
    after = decode_cursor(cursor, lambda raw: str(raw[0]))
    items = await repo.list_territories(
        session,
        after=after,
        limit=limit,
        level=level,
        parent=parent,
        visible=principal.visible("territories"),
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
    return await _territory(session, principal, code)


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
    await _territory(session, principal, code, currency)
    data = await analysis.load_year(session, year)
    indicators = await analysis.indicators_of(session, data, code, currency)
    return IndicatorsRead(
        territory=code,
        year=year,
        currency=currency,
        indicators=analysis.indicator_rows(data, code, indicators),
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
    await _territory(session, principal, code)
    data = await analysis.load_year(session, year)
    return PeersRead(
        territory=code,
        year=year,
        peers=analysis.peers_of(data, code, k),
        percentiles=data.table.percentiles(code),
    )


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
    await _territory(session, principal, code, currency)
    data = await analysis.load_year(session, year)
    return ReportRead.model_validate(await analysis.report_of(session, data, code, currency))


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
    await _territory(session, principal, code, currency)
    data = await analysis.load_year(session, year)
    return HTMLResponse(render_report(await analysis.report_of(session, data, code, currency)))


@router.get(
    "/territories/{code}/rollup",
    response_model=RollupRead,
    responses=errors(TerritoryNotFound, NoDataForYear),
)
async def get_rollup(
    code: TerritoryCode, year: Year, session: DbSession, principal: Reader
) -> RollupRead:
    """Regional aggregate: the sums over the territory's direct members that have data."""
    await _territory(session, principal, code)
    data = await analysis.load_year(session, year)
    members = await repo.children(session, code)
    return RollupRead(**analysis.rollup(data, code, members))


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
    result = analysis.typology(await analysis.load_year(session, year), k=k)
    visible = principal.visible("territories")
    rows = [
        r
        for r in result["rows"]
        if (visible is None or r["territory"] in visible)
        and (after is None or r["territory"] > after)
    ][:limit]
    return TypologyPage(
        year=year,
        items=rows,
        next_cursor=next_cursor(rows, limit=limit, key=lambda r: [r["territory"]]),
        clusters=result["clusters"],
        agreement=result["agreement"],
        adjusted_rand_index=result["adjusted_rand_index"],
        disagreements=[c for c in result["disagreements"] if visible is None or c in visible],
    )


@router.get("/perimeters", response_model=PerimeterPage, responses=errors(InvalidCursor))
async def list_perimeters(
    session: DbSession,
    principal: Reader,
    kind: PerimeterKind | None = None,
    at: Annotated[date | None, Query(description="Only versions valid on this date")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> PerimeterPage:
    """Contract perimeters (every version, or those valid on a date)."""
    after = decode_cursor(
        cursor, lambda raw: (str(raw[0]), str(raw[1]), date.fromisoformat(raw[2]))
    )
    found = await repo.list_perimeters(session, after=after, limit=limit, kind=kind, at=at)
    return PerimeterPage(
        items=[
            PerimeterRead(
                kind=p.kind,
                code=p.code,
                name=p.name,
                valid_from=p.valid_from,
                valid_to=p.valid_to,
                communes=n,
            )
            for p, n in found
        ],
        next_cursor=next_cursor(
            found, limit=limit, key=lambda f: [f[0].kind, f[0].code, f[0].valid_from.isoformat()]
        ),
    )


@router.get(
    "/perimeters/{kind}/{code}",
    response_model=PerimeterDetail,
    responses=errors(PerimeterNotFound),
)
async def get_perimeter(
    kind: PerimeterKind,
    code: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")],
    session: DbSession,
    principal: Reader,
    at: Annotated[date | None, Query(description="Date (default: today)")] = None,
) -> PerimeterDetail:
    """The communes of a perimeter on a date (perimeters change over time)."""
    found = await repo.perimeter_at(session, kind=kind, code=code, at=at or date.today())
    if found is None:
        raise PerimeterNotFound(f"no {kind} perimeter {code} on {at or date.today()}")
    perimeter, communes = found
    return PerimeterDetail(
        kind=perimeter.kind,
        code=perimeter.code,
        name=perimeter.name,
        valid_from=perimeter.valid_from,
        valid_to=perimeter.valid_to,
        communes=communes,
    )


@router.get(
    "/perimeters/{kind}/{code}/rollup",
    response_model=RollupRead,
    responses=errors(PerimeterNotFound, NoDataForYear),
)
async def get_perimeter_rollup(
    kind: PerimeterKind,
    code: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")],
    year: Year,
    session: DbSession,
    principal: Reader,
    at: Annotated[
        date | None, Query(description="Perimeter date (default: 1 July of year)")
    ] = None,
) -> RollupRead:
    """Sums over the communes of a contract perimeter (as it stood on ``at``) with data."""
    when = at or date(year, 7, 1)
    found = await repo.perimeter_at(session, kind=kind, code=code, at=when)
    if found is None:
        raise PerimeterNotFound(f"no {kind} perimeter {code} on {when}")
    perimeter, communes = found
    visible = principal.visible("territories")
    if visible is not None and not set(communes) <= visible:
        raise Forbidden(f"client {principal.client_id!r} is not bound to every commune of {code}")
    data = await analysis.load_year(session, year)
    return RollupRead(**analysis.rollup(data, f"{kind}:{code}", communes))
