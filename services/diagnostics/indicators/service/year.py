"""The computed year every indicator view starts from: each territory's figures, their
indicators and the indexed table, loaded once per database and data version."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators import repository
from services.diagnostics.indicators.errors import NoDataForYear
from services.diagnostics.indicators.models import TerritoryYearRow
from services.diagnostics.indicators.rules.engines import COMPONENT_NAMES, BasicIncome
from services.diagnostics.indicators.rules.indicators import (
    Indicator,
    TerritoryYear,
    compute_indicators,
    table_from_indicators,
)
from services.diagnostics.indicators.rules.peers import IndicatorTable
from services.diagnostics.territories.service import levels as territory_levels
from services.diagnostics.territories.service import names as territory_names

_COLUMNS = tuple((c, f"{c}_eur") for c in COMPONENT_NAMES)


def territory_year(row: TerritoryYearRow, name: str, sectors: Mapping[str, int]) -> TerritoryYear:
    """The domain's view of a stored row."""
    return TerritoryYear(
        code=row.code,
        name=name,
        year=row.year,
        population=row.population,
        income=BasicIncome(**{c: getattr(row, column) for c, column in _COLUMNS}),
        jobs_presentielle=row.jobs_presentielle,
        jobs_productive=row.jobs_productive,
        consumption_potential=row.consumption_potential_eur,
        local_spending=row.local_spending_eur,
        sector_jobs=dict(sectors),
    )


@dataclass(frozen=True)
class YearData:
    """Every territory with data for one year, their indicators and the indexed table."""

    year: int
    levels: dict[str, str]
    territories: dict[str, TerritoryYear]
    reference_sectors: dict[str, int] | None
    indicators: dict[str, dict[str, Indicator]]
    table: IndicatorTable
    sources: dict[str, str]

    def territory(self, code: str) -> TerritoryYear:
        found = self.territories.get(code)
        if found is None:
            raise NoDataForYear(f"no data for territory {code} in {self.year}", year=self.year)
        return found


def reference_sectors(
    levels: Mapping[str, str], jobs: Mapping[str, Mapping[str, int]]
) -> dict[str, int] | None:
    """The regional reference for specialisation: Σ of the départements' jobs by sector."""
    total: dict[str, int] = {}
    for code, sectors in jobs.items():
        if levels.get(code) == "departement":
            for sector, count in sectors.items():
                total[sector] = total.get(sector, 0) + count
    return total or None


def year_data_from(
    year: int,
    *,
    rows: list[TerritoryYearRow],
    names: Mapping[str, str],
    levels: Mapping[str, str],
    jobs: Mapping[str, Mapping[str, int]],
) -> YearData:
    """Compute every indicator of every territory of the year (pure, for tests and bench)."""
    territories = {
        r.code: territory_year(r, names.get(r.code, r.code), jobs.get(r.code, {})) for r in rows
    }
    reference = reference_sectors(levels, jobs)
    indicators = {
        code: compute_indicators(t, reference_sectors=reference) for code, t in territories.items()
    }
    return YearData(
        year=year,
        levels=dict(levels),
        territories=territories,
        reference_sectors=reference,
        indicators=indicators,
        table=table_from_indicators(indicators),
        sources={r.code: r.source for r in rows},
    )


_CACHE: OrderedDict[tuple[str, int, int], YearData] = OrderedDict()
_CACHE_SIZE = 16


async def load_year(session: AsyncSession, year: int) -> YearData:
    """Load and compute a year; NoDataForYear when nothing was imported for it.

    Computed years are cached per database and data version: every import bumps the
    version in the transaction that writes the data, so a cached year is never served
    after a change (the version is read first, so the rows read are at least as new).
    """
    url = getattr(session.bind, "url", None)
    database = url.render_as_string(hide_password=True) if url is not None else ""
    key = (database, year, await repository.data_version(session))
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    data = await _compute_year(session, year)
    _CACHE[key] = data
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return data


async def _compute_year(session: AsyncSession, year: int) -> YearData:
    rows = await repository.territory_years(session, year)
    if not rows:
        raise NoDataForYear(f"no territory has data for {year}", year=year)
    return year_data_from(
        year,
        rows=rows,
        names=await territory_names(session),
        levels=await territory_levels(session),
        jobs=await repository.sector_jobs(session, year),
    )
