"""The indicators of one territory-year, with a local currency's circulation on request."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates import service as aggregates
from services.diagnostics.indicators.rules.indicators import (
    INDICATORS,
    Indicator,
    compute_indicators,
)
from services.diagnostics.indicators.rules.labels import flag_label, label_of
from services.diagnostics.indicators.service.subjects import perimeter_in, territory_year
from services.diagnostics.indicators.service.year import YearData, load_year
from shared.auth import Principal


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of ``year`` in UTC."""
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
    percentiles = data.table_of(code).percentiles(code)
    return [
        {
            "name": name,
            "value": ind.value,
            "unit": INDICATORS[name].unit,
            "description": INDICATORS[name].description,
            "label": label_of(name).label,
            "unit_label": label_of(name).unit,
            "meaning": label_of(name).meaning,
            "flag_label": flag_label(ind.flag),
            "flag": ind.flag,
            "percentile": percentiles.get(name) if ind.value is not None else None,
        }
        for name, ind in indicators.items()
    ]


async def indicators(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str,
    year: int | None,
    currency: str | None,
) -> dict[str, Any]:
    """Every indicator of the territory for the year (default: the latest with figures),
    with its percentile among territories of its level (with ``currency``, one the client
    is bound to, its circulation indicators too)."""
    data = await territory_year(session, principal, code, year, currency)
    return await _rows(session, data, code, currency)


async def _rows(
    session: AsyncSession, data: YearData, code: str, currency: str | None
) -> dict[str, Any]:
    found = await indicators_of(session, data, code, currency)
    return {
        "territory": code,
        "year": data.year,
        "level": data.levels.get(code),
        "source": data.sources.get(code, ""),
        "currency": currency,
        "indicators": indicator_rows(data, code, found),
    }


async def perimeter_indicators(
    session: AsyncSession, principal: Principal, *, kind: str, code: str, year: int | None
) -> dict[str, Any]:
    """Every indicator of a perimeter (as it stood on 1 July of the year), from the sums of
    its communes, with its percentile among perimeters of its kind."""
    data = await load_year(session, year)
    key = await perimeter_in(session, principal, data, kind=kind, code=code)
    return await _rows(session, data, key, None)
