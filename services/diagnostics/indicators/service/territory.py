"""The indicators of one territory-year (with a currency's circulation), its peers, and
roll-ups over a territory's members or any set of territories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates import service as aggregates
from services.diagnostics.indicators.rules.engines import ENGINES, engine_bases
from services.diagnostics.indicators.rules.indicators import (
    INDICATORS,
    Indicator,
    compute_indicators,
)
from services.diagnostics.indicators.rules.report import PEER_INDICATORS
from services.diagnostics.indicators.service.year import YearData, load_year
from services.diagnostics.territories import service as territories
from shared.auth import Principal


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


async def indicators_of(
    session: AsyncSession, data: YearData, code: str, currency: str | None
) -> dict[str, Indicator]:
    """The year's indicators of one territory; with ``currency``, its circulation too."""
    territory = data.territory(code)
    if currency is None:
        return data.indicators[code]
    start, end = year_bounds(data.year)
    flows = await aggregates.circulation_between(
        session, code=code, currency=currency, start=start, end=end
    )
    return compute_indicators(
        territory, reference_sectors=data.reference_sectors, circulation=flows
    )


def indicator_rows(
    data: YearData, code: str, indicators: Mapping[str, Indicator]
) -> list[dict[str, Any]]:
    """Each indicator with unit, formula, flag and percentile among the year's territories."""
    percentiles = data.table.percentiles(code)
    return [
        {
            "name": name,
            "value": ind.value,
            "unit": INDICATORS[name].unit,
            "description": INDICATORS[name].description,
            "flag": ind.flag,
            "percentile": percentiles.get(name) if ind.value is not None else None,
        }
        for name, ind in indicators.items()
    ]


def peers_of(data: YearData, code: str, k: int) -> list[dict[str, Any]]:
    data.territory(code)
    return [
        {"territory": p.territory, "distance": p.distance}
        for p in data.table.nearest_peers(code, k=k, indicators=PEER_INDICATORS)
    ]


def rollup(data: YearData, code: str, members: list[str]) -> dict[str, Any]:
    """Sums over the members that have data: population, engine bases, jobs, engine shares."""
    present = [c for c in sorted(members) if c in data.territories]
    bases = dict.fromkeys(ENGINES, 0)
    population = pres = prod = 0
    for member in present:
        t = data.territories[member]
        population += t.population
        pres += t.jobs_presentielle
        prod += t.jobs_productive
        for engine, value in engine_bases(t.income).items():
            bases[engine] += value
    total = sum(bases.values())
    return {
        "territory": code,
        "year": data.year,
        "members": present,
        "population": population,
        "basic_income_eur": total,
        "engine_bases_eur": {e.value: v for e, v in bases.items()},
        "engine_shares": {e.value: v / total for e, v in bases.items()} if total else None,
        "jobs_presentielle": pres,
        "jobs_productive": prod,
    }


async def indicators(
    session: AsyncSession, principal: Principal, *, code: str, year: int, currency: str | None
) -> dict[str, Any]:
    """Every indicator of the territory for the year, with its percentile among territories
    (with ``currency``, one the client is bound to, its circulation indicators too)."""
    await territories.get_readable(session, principal, code, currency)
    data = await load_year(session, year)
    found = await indicators_of(session, data, code, currency)
    return {
        "territory": code,
        "year": year,
        "currency": currency,
        "indicators": indicator_rows(data, code, found),
    }


async def peers(
    session: AsyncSession, principal: Principal, *, code: str, year: int, k: int
) -> dict[str, Any]:
    """The k nearest territories on structural indicators, and every indicator's percentile."""
    await territories.get_readable(session, principal, code)
    data = await load_year(session, year)
    return {
        "territory": code,
        "year": year,
        "peers": peers_of(data, code, k),
        "percentiles": data.table.percentiles(code),
    }


async def territory_rollup(
    session: AsyncSession, principal: Principal, *, code: str, year: int
) -> dict[str, Any]:
    """Sums over the territory's direct members that have data for the year."""
    await territories.get_readable(session, principal, code)
    data = await load_year(session, year)
    members = await territories.children(session, code)
    return rollup(data, code, members)


async def rollup_over(
    session: AsyncSession, *, label: str, members: list[str], year: int
) -> dict[str, Any]:
    """Sums over ``members`` that have data for the year, reported under ``label``."""
    return rollup(await load_year(session, year), label, members)
