"""The nearest peers of a territory-year and its percentile among territories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators.rules.report import PEER_INDICATORS
from services.diagnostics.indicators.service.year import YearData, load_year
from services.diagnostics.territories import service as territories
from shared.auth import Principal


def peers_of(data: YearData, code: str, k: int) -> list[dict[str, Any]]:
    """The k nearest territories on the peer indicators (NoDataForYear without data)."""
    data.territory(code)
    return [
        {"territory": p.territory, "distance": p.distance}
        for p in data.table.nearest_peers(code, k=k, indicators=PEER_INDICATORS)
    ]


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
