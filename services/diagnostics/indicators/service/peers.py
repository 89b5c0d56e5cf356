"""The nearest peers of a territory-year and its percentile among territories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators.rules.report import PEER_INDICATORS
from services.diagnostics.indicators.service.subjects import perimeter_in, territory_year
from services.diagnostics.indicators.service.year import YearData, load_year
from shared.auth import Principal


def peers_of(data: YearData, code: str, k: int) -> list[dict[str, Any]]:
    """The k nearest territories on the peer indicators (NoDataForYear without data)."""
    data.territory(code)
    return [
        {"territory": p.territory, "distance": p.distance}
        for p in data.table_of(code).nearest_peers(code, k=k, indicators=PEER_INDICATORS)
    ]


def _peers(data: YearData, code: str, k: int) -> dict[str, Any]:
    return {
        "territory": code,
        "year": data.year,
        "level": data.levels.get(code),
        "peers": peers_of(data, code, k),
        "percentiles": data.table_of(code).percentiles(code),
    }


async def peers(
    session: AsyncSession, principal: Principal, *, code: str, year: int | None, k: int
) -> dict[str, Any]:
    """The k nearest territories of the same level on structural indicators, and every
    indicator's percentile among them."""
    return _peers(await territory_year(session, principal, code, year), code, k)


async def perimeter_peers(
    session: AsyncSession, principal: Principal, *, kind: str, code: str, year: int | None, k: int
) -> dict[str, Any]:
    """The k nearest perimeters of the same kind, and percentiles among them."""
    data = await load_year(session, year)
    key = await perimeter_in(session, principal, data, kind=kind, code=code)
    return _peers(data, key, k)
