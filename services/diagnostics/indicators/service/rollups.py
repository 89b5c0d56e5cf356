"""Roll-ups: sums over a territory's direct members, or over any set of territories."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators.rules.engines import ENGINES, engine_bases
from services.diagnostics.indicators.service.subjects import territory_year
from services.diagnostics.indicators.service.year import YearData, load_year
from services.diagnostics.perimeters import service as perimeters
from services.diagnostics.territories import service as territories
from shared.auth import Principal


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


async def territory_rollup(
    session: AsyncSession, principal: Principal, *, code: str, year: int | None
) -> dict[str, Any]:
    """Sums over the territory's direct members that have data for the year."""
    data = await territory_year(session, principal, code, year)
    members = await territories.children(session, code)
    return rollup(data, code, members)


async def perimeter_rollup(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str,
    code: str,
    year: int | None,
    at: date | None,
) -> dict[str, Any]:
    """Sums over the communes of the version valid on ``at`` (default: 1 July of the
    year), for a client bound to every one of them."""
    data = await load_year(session, year)
    _, communes = await perimeters.communes_on(
        session, principal, kind=kind, code=code, at=at or date(data.year, 7, 1)
    )
    return rollup(data, f"{kind}:{code}", communes)
