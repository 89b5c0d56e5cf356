"""The computed year every indicator view starts from: each territory's figures, their
indicators and the indexed table, loaded once per database and data version."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.geography.service import member_communes
from services.diagnostics.indicators import repository
from services.diagnostics.indicators.errors import NoDataForYear
from services.diagnostics.indicators.rules.aggregation import aggregate_all
from services.diagnostics.indicators.rules.engines import COMPONENT_NAMES, BasicIncome
from services.diagnostics.indicators.rules.indicators import (
    Indicator,
    TerritoryYear,
    compute_indicators,
    table_from_indicators,
)
from services.diagnostics.indicators.rules.peers import IndicatorTable
from services.diagnostics.perimeters.service import versions_on as perimeters_on
from services.diagnostics.territories.service import levels as territory_levels
from services.diagnostics.territories.service import names as territory_names

_COLUMNS = tuple((c, f"{c}_eur") for c in COMPONENT_NAMES)


def territory_year(row: Any, name: str, sectors: Mapping[str, int | None]) -> TerritoryYear:
    """The domain's view of a stored row (a sector with NULL jobs is a secret cell);
    ``row`` has the columns of ``territory_years`` as attributes (a Core row as
    ``repository.territory_years`` reads it, or a ``TerritoryYearRow``)."""
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
        sector_jobs={s: jobs for s, jobs in sectors.items() if jobs is not None},
        secret_sectors=frozenset(s for s, jobs in sectors.items() if jobs is None),
    )


@dataclass(frozen=True)
class YearData:
    """Every territory with data for one year (its own figures, or its communes' summed),
    their indicators, and one indexed table per level: peers and percentiles compare a
    territory with territories of its level (a perimeter: of its kind) only."""

    year: int
    levels: dict[str, str]
    territories: dict[str, TerritoryYear]
    reference_sectors: dict[str, int] | None
    indicators: dict[str, dict[str, Indicator]]
    tables: dict[str, IndicatorTable]
    sources: dict[str, str]

    def table_of(self, code: str) -> IndicatorTable:
        """The table of the territories of ``code``'s level."""
        return self.tables[self.levels.get(code, "")]

    @property
    def table(self) -> IndicatorTable:
        """Every territory of the year in one table (the bench's whole-year view)."""
        return table_from_indicators(self.indicators)

    def territory(self, code: str) -> TerritoryYear:
        found = self.territories.get(code)
        if found is None:
            raise NoDataForYear(f"no data for territory {code} in {self.year}", year=self.year)
        return found


def reference_sectors(
    levels: Mapping[str, str], territories: Mapping[str, TerritoryYear]
) -> dict[str, int] | None:
    """The regional reference for specialisation: Σ of the départements' jobs by sector
    (a sector secret in one département is left out of the reference)."""
    total: dict[str, int] = {}
    secret: set[str] = set()
    for code, territory in territories.items():
        if levels.get(code) == "departement":
            secret |= territory.secret_sectors
            for sector, count in territory.sector_jobs.items():
                total[sector] = total.get(sector, 0) + count
    return {s: n for s, n in total.items() if s not in secret} or None


def year_data_from(
    year: int,
    *,
    rows: Sequence[Any],
    names: Mapping[str, str],
    levels: Mapping[str, str],
    jobs: Mapping[str, Mapping[str, int | None]],
    groups: Mapping[str, Sequence[str]] | None = None,
) -> YearData:
    """Compute every indicator of every territory of the year (pure, for tests and bench):
    those with figures of their own, and every group (territory or perimeter → its
    communes) summed from its communes (``rules/aggregation.py``)."""
    own = {r.code: territory_year(r, names.get(r.code, r.code), jobs.get(r.code, {})) for r in rows}
    communes = {c: t for c, t in own.items() if levels.get(c) == "commune"}
    summed = aggregate_all(year, communes, groups or {}, names, own, official_sectors=jobs)
    territories = {**own, **summed}
    reference = reference_sectors(levels, territories)
    indicators = {
        code: compute_indicators(t, reference_sectors=reference) for code, t in territories.items()
    }
    by_level: dict[str, dict[str, dict[str, Indicator]]] = {}
    for code, computed in indicators.items():
        by_level.setdefault(levels.get(code, ""), {})[code] = computed
    sources = {r.code: r.source for r in rows}
    for code in summed:
        kept = sorted({sources.get(c, "") for c in groups.get(code, ()) if c in communes})  # type: ignore[union-attr]
        sources[code] = "somme des communes : " + " ; ".join(s for s in kept if s)
    return YearData(
        year=year,
        levels=dict(levels),
        territories=territories,
        reference_sectors=reference,
        indicators=indicators,
        tables={level: table_from_indicators(rows) for level, rows in by_level.items()},
        sources=sources,
    )


_CACHE: OrderedDict[tuple[str, int, int], YearData] = OrderedDict()
_CACHE_SIZE = 16


async def latest_year(session: AsyncSession, year: int | None) -> int:
    """``year``, or the latest year with figures when the client names none."""
    if year is not None:
        return year
    latest = await repository.latest_year(session)
    if latest is None:
        raise NoDataForYear("aucune donnée importée : aucune année disponible")
    return latest


async def load_year(session: AsyncSession, year: int | None) -> YearData:
    """Load and compute a year (default: the latest with figures); NoDataForYear when
    nothing was imported for it.

    Computed years are cached per database and data version: every import bumps the
    version in the transaction that writes the data, so a cached year is never served
    after a change (the version is read first, so the rows read are at least as new).
    """
    year = await latest_year(session, year)
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
    names = await territory_names(session)
    levels = await territory_levels(session)
    groups = await member_communes(session)
    for key, (kind, name, communes) in (await perimeters_on(session, date(year, 7, 1))).items():
        groups[key], names[key], levels[key] = communes, name, kind
    return year_data_from(
        year,
        rows=rows,
        names=names,
        levels=levels,
        jobs=await repository.sector_jobs(session, year),
        groups=groups,
    )


async def compute_year(session: AsyncSession, year: int) -> YearData:
    """Compute a year from the database, bypassing (and not filling) the cache: for a
    caller that computes every year once, such as persisting every diagnostic."""
    return await _compute_year(session, year)
