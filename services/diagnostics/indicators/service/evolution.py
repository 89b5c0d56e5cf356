"""Specialisation (location quotients, Krugman) of a territory-year, and what changed
between two years: each engine's share and the shift-share decomposition of jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.indicators import repository
from services.diagnostics.indicators.rules.employment import (
    krugman_index,
    location_quotients,
    shift_share,
)
from services.diagnostics.indicators.rules.engines import engine_shares
from services.diagnostics.indicators.service.subjects import perimeter_in, territory_year
from services.diagnostics.indicators.service.year import YearData, load_year
from services.diagnostics.territories import service as territories
from shared.auth import Principal


def specialisation_of(data: YearData, code: str) -> dict[str, Any]:
    """Location quotient of every sector against the reference (Σ of the départements),
    and the Krugman index; unknown (None, with the reason) when a cell is secret."""
    territory = data.territory(code)
    reference = data.reference_sectors or {}
    out: dict[str, Any] = {
        "territory": code,
        "year": data.year,
        "level": data.levels.get(code),
        "reference": "somme des départements",
        "secret_sectors": sorted(territory.secret_sectors),
        "krugman": None,
        "location_quotients": [],
        "flag": None,
    }
    if territory.secret_sectors:
        out["flag"] = "cellules secrètes : spécialisation inconnue"
        return out
    try:
        quotients = location_quotients(territory.sector_jobs, reference)
        out["krugman"] = krugman_index(territory.sector_jobs, reference)
    except (UndefinedIndicator, InvalidInput) as undefined:
        out["flag"] = str(undefined)
        return out
    out["location_quotients"] = [
        {"sector": s, "jobs": territory.sector_jobs.get(s, 0), "quotient": q}
        for s, q in sorted(quotients.items())
    ]
    return out


def shift_share_between(start: YearData, end: YearData, code: str) -> dict[str, Any] | None:
    """The shift-share decomposition of the territory's jobs by sector from ``start`` to
    ``end`` (None when a year lacks jobs by sector, or a cell is secret)."""
    first, last = start.territories.get(code), end.territories.get(code)
    if first is None or last is None or first.secret_sectors or last.secret_sectors:
        return None
    if not first.sector_jobs or not start.reference_sectors or not end.reference_sectors:
        return None
    try:
        found = shift_share(
            local_start=first.sector_jobs,
            local_end=last.sector_jobs,
            reference_start=start.reference_sectors,
            reference_end=end.reference_sectors,
        )
    except (UndefinedIndicator, InvalidInput):
        return None
    return {
        "change": float(found.change),
        "reference_growth": float(found.reference_growth),
        "industry_mix": float(found.industry_mix),
        "competitive": float(found.competitive),
        "sectors": [
            {
                "sector": r.sector,
                "change": float(r.change),
                "reference_growth": float(r.reference_growth),
                "industry_mix": float(r.industry_mix),
                "competitive": float(r.competitive),
            }
            for r in found.sectors
        ],
    }


def comparison(start: YearData, end: YearData, code: str) -> dict[str, Any] | None:
    """Each engine's share in both years and its change, and the shift-share of jobs."""
    first, last = start.territories.get(code), end.territories.get(code)
    if first is None or last is None:
        return None
    try:
        before, after = engine_shares(first.income), engine_shares(last.income)
    except (UndefinedIndicator, InvalidInput):
        return None
    return {
        "from_year": start.year,
        "to_year": end.year,
        "engine_shares": {
            e.value: {"start": before[e], "end": after[e], "change": after[e] - before[e]}
            for e in after
        },
        "shift_share": shift_share_between(start, end, code),
    }


async def previous_data(session: AsyncSession, year: int, code: str) -> YearData | None:
    """The computed latest year before ``year`` in which ``code`` has figures."""
    before = await repository.year_before(session, year)
    while before is not None:
        data = await load_year(session, before)
        if code in data.territories:
            return data
        before = await repository.year_before(session, before)
    return None


async def specialisation(
    session: AsyncSession, principal: Principal, *, code: str, year: int | None
) -> dict[str, Any]:
    """Location quotients and Krugman index of a territory (default: latest year)."""
    return specialisation_of(await territory_year(session, principal, code, year), code)


async def perimeter_specialisation(
    session: AsyncSession, principal: Principal, *, kind: str, code: str, year: int | None
) -> dict[str, Any]:
    """Location quotients and Krugman index of a perimeter, from its communes' jobs."""
    data = await load_year(session, year)
    return specialisation_of(
        data, await perimeter_in(session, principal, data, kind=kind, code=code)
    )


async def shift_share_of(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str | None = None,
    perimeter: tuple[str, str] | None = None,
    from_year: int,
    to_year: int | None,
) -> dict[str, Any]:
    """The shift-share decomposition of a territory's (or perimeter's) jobs by sector
    between two years (the second defaults to the latest with figures)."""
    end = await load_year(session, to_year)
    start = await load_year(session, from_year)
    if perimeter is not None:
        key = await perimeter_in(session, principal, end, kind=perimeter[0], code=perimeter[1])
    else:
        assert code is not None
        await territories.get_readable(session, principal, code)
        key = code
    start.territory(key)
    end.territory(key)
    return {
        "territory": key,
        "from_year": start.year,
        "to_year": end.year,
        "shift_share": shift_share_between(start, end, key),
    }
