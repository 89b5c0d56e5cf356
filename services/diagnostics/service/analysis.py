"""Structural diagnostics of stored data: indicators, peers, typology, report, roll-ups."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates import service as aggregates
from services.diagnostics.indicators.rules.engines import (
    COMPONENT_NAMES,
    ENGINES,
    BasicIncome,
    Engine,
    engine_bases,
)
from services.diagnostics.indicators.rules.indicators import (
    INDICATORS,
    SHARE_INDICATORS,
    Indicator,
    TerritoryYear,
    compute_indicators,
    table_from_indicators,
)
from services.diagnostics.indicators.rules.peers import IndicatorTable
from services.diagnostics.indicators.rules.report import (
    LEVER_TEXT,
    PEER_INDICATORS,
    DiagnosticReport,
    build_report,
)
from services.diagnostics.indicators.rules.typology import (
    Model,
    classify_all,
    cluster_engine_shares,
    compare_typologies,
)
from services.diagnostics.service.errors import NoDataForYear
from services.diagnostics.store import repository as repo
from services.diagnostics.store.models import TerritoryYearRow

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
    key = (database, year, await repo.data_version(session))
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
    rows = await repo.territory_years(session, year)
    if not rows:
        raise NoDataForYear(f"no territory has data for {year}", year=year)
    return year_data_from(
        year,
        rows=rows,
        names=await repo.territory_names(session),
        levels=await repo.territory_codes(session),
        jobs=await repo.sector_jobs(session, year),
    )


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


def engine_share_table(data: YearData) -> dict[str, dict[Engine, float]]:
    """Engine shares of every territory whose basic income is positive."""
    out: dict[str, dict[Engine, float]] = {}
    for code, indicators in data.indicators.items():
        shares = {e: indicators[name].value for e, name in SHARE_INDICATORS.items()}
        if all(v is not None for v in shares.values()):
            out[code] = {e: float(v) for e, v in shares.items() if v is not None}
    return out


_VALUES: Mapping[Engine | Model, str] = {member: member.value for member in (*ENGINES, *Model)}
"""Enum ``.value`` is a property lookup; a typology row needs five per territory."""


def typology(data: YearData, *, k: int) -> dict[str, Any]:
    """Rule-based models, k-means clusters and their comparison for the year."""
    shares = engine_share_table(data)
    if not shares:
        raise NoDataForYear(f"no territory has a positive basic income in {data.year}")
    rules = classify_all(shares)
    clustering = cluster_engine_shares(shares, k=k)
    comparison = compare_typologies({c: r.model for c, r in rules.items()}, clustering)
    rows = [
        {
            "territory": code,
            "name": data.territories[code].name,
            "level": data.levels.get(code),
            "engine_shares": {_VALUES[e]: s for e, s in shares[code].items()},
            "rule_model": _VALUES[rules[code].model],
            "rule": rules[code].rule,
            "explanation": rules[code].explanation,
            "cluster": clustering.assignments[code],
            "cluster_model": _VALUES[clustering.cluster_models[clustering.assignments[code]]],
        }
        for code in sorted(shares)
    ]
    return {
        "rows": rows,
        "clusters": [
            {
                "cluster": i,
                "model": m.value,
                "mean_shares": {e.value: s for e, s in clustering.cluster_shares[i].items()},
            }
            for i, m in enumerate(clustering.cluster_models)
        ],
        "agreement": comparison.agreement,
        "adjusted_rand_index": comparison.adjusted_rand_index,
        "disagreements": list(comparison.disagreements),
    }


def report_dict(report: DiagnosticReport, *, source: str) -> dict[str, Any]:
    """The report as plain JSON."""

    def finding(f: Any) -> dict[str, Any]:
        return {
            "kind": f.kind.value,
            "rule": f.rule,
            "indicator": f.indicator,
            "value": f.value,
            "threshold": f.threshold,
            "message": f.message,
            "levers": [lever.value for lever in f.levers],
        }

    typ = report.typology
    return {
        "territory": report.code,
        "name": report.name,
        "year": report.year,
        "population": report.population,
        "source": source,
        "engine_bases_eur": {e.value: v for e, v in report.engine_bases.items()},
        "engine_shares": (
            {e.value: v for e, v in report.engine_shares.items()} if report.engine_shares else None
        ),
        "typology": None
        if typ is None
        else {
            "model": typ.model.value,
            "rule": typ.rule,
            "explanation": typ.explanation,
            "quotients": {e.value: q for e, q in typ.quotients.items()},
            "threshold": typ.threshold,
        },
        "indicators": [
            {
                "name": r.name,
                "value": r.value,
                "unit": r.unit,
                "description": r.description,
                "flag": r.flag,
                "percentile": r.percentile,
            }
            for r in report.indicators
        ],
        "peers": [{"territory": p.territory, "distance": p.distance} for p in report.peers],
        "strengths": [finding(f) for f in report.strengths],
        "fragilities": [finding(f) for f in report.fragilities],
        "levers": [{"lever": lv.value, "text": LEVER_TEXT[lv]} for lv in report.levers],
    }


async def report_of(
    session: AsyncSession, data: YearData, code: str, currency: str | None
) -> dict[str, Any]:
    territory = data.territory(code)
    indicators = await indicators_of(session, data, code, currency)
    report = build_report(territory, table=data.table, indicators=indicators)
    out = report_dict(report, source=data.sources.get(code, ""))
    out["peers"] = [
        {
            **p,
            "name": data.territories[p["territory"]].name,
            "income_per_proximity_job": data.indicators[p["territory"]][
                "income_per_proximity_job"
            ].value,
            "basic_income_per_inhabitant": data.indicators[p["territory"]][
                "basic_income_per_inhabitant"
            ].value,
        }
        for p in out["peers"]
    ]
    return out


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
