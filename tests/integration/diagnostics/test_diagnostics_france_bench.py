"""The France bench (``bench/diagnostics/pipeline.py``), run small: Corsica (360 communes,
2 départements) × 2 years through the same code as ``make bench-diagnostics``, on a real
durable PostgreSQL with the gateway and the diagnostics service. Checks the figures it
reports (no timing assertion) and that the diagnostics it persisted are those computed
directly, in memory, from the files it imported."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.diagnostics import pipeline
from services.diagnostics.demo.region import synthetic_zones
from services.diagnostics.geography.rules.datafrance import Geography
from services.diagnostics.indicators.models import TerritoryYearRow
from services.diagnostics.indicators.rules.indicators import FIGURE_COLUMNS
from services.diagnostics.indicators.rules.report import build_report
from services.diagnostics.indicators.service.persisted import (
    diagnostic_document,
    persisted_document,
)
from services.diagnostics.indicators.service.year import YearData, year_data_from
from tests.support.ports import free_port
from tests.support.stack import free_port_block

KEYS = {
    "territories",
    "years",
    "seconds",
    "copy_seconds",
    "ratio",
    "report_p99_ms",
    "phases_seconds",
    "rows",
    "load_average_at_start",
}


def direct_year(geo: Geography, year: int, step: int, spheres: dict[str, list[str]]) -> YearData:
    """The year computed in memory from the files the bench imports, without PostgreSQL."""
    year_rows, job_rows = pipeline.vintage_files(geo, year, step, spheres)
    rows = [
        TerritoryYearRow(
            code=r["insee_code"],
            year=year,
            **{name: int(r[name]) for name in FIGURE_COLUMNS},
            consumption_potential_eur=None,
            local_spending_eur=None,
            source=r["source"],
        )
        for r in year_rows
    ]
    jobs: dict[str, dict[str, int | None]] = {}
    for r in job_rows:
        jobs.setdefault(r["insee_code"], {})[r["sector"]] = (
            None if r["jobs"] == "s" else int(r["jobs"])
        )
    zones, zone_members = synthetic_zones(geo)
    levels = {str(t["code"]): str(t["level"]) for t in geo.territories()}
    names = {str(t["code"]): str(t["name"]) for t in geo.territories()}
    for zone in zones:
        levels[zone["code"]], names[zone["code"]] = "zone_emploi", zone["name"]
    groups: dict[str, list[str]] = {}
    for m in [*geo.memberships("test"), *zone_members]:
        groups.setdefault(str(m["parent_code"]), []).append(str(m["member_code"]))
    return year_data_from(year, rows=rows, names=names, levels=levels, jobs=jobs, groups=groups)


def test_the_france_bench_persists_the_diagnostics_computed_directly(tmp_path: Path) -> None:
    compared: list[str] = []

    async def check(
        factory: async_sessionmaker[AsyncSession], geo: Geography, years: Sequence[int]
    ) -> None:
        spheres = {
            "productive": ["AZ", "BE", "G46H", "JN"],
            "presentielle": ["FZ", "G47", "IZ", "OQ", "RU"],
        }
        for step, year in enumerate(years):
            data = direct_year(geo, year, step, spheres)
            by_level: dict[str, str] = {}
            for code in sorted(data.territories):
                by_level.setdefault(data.levels[code], code)
            async with factory() as session:
                for code in by_level.values():
                    expected: Any = diagnostic_document(
                        build_report(
                            data.territories[code],
                            table=data.table_of(code),
                            indicators=data.indicators[code],
                        )
                    )
                    stored = await persisted_document(session, code, year)
                    assert stored == json.loads(json.dumps(expected)), (code, year)
                    compared.append(f"{code}:{year}")

    result = pipeline.run(
        years=(2020, 2021),
        regions=("94",),
        reports=20,
        work=tmp_path,
        postgres_port=free_port(),
        base_port=free_port_block(),
        hook=check,
    )

    assert KEYS <= set(result)
    assert result["years"] == 2
    assert result["territories_by_level"] == {
        "commune": 360,
        "departement": 2,
        "epci": 19,
        "region": 1,
        "zone_emploi": 5,
    }
    assert result["rows"]["output"]["diagnostic_results"] == 2 * 387
    assert result["rows"]["input"]["territory_years"] == 2 * 360
    assert result["ratio"] == pytest.approx(result["seconds"] / result["copy_seconds"], rel=0.02)
    assert result["report_errors"] == 0 and result["reports"] >= 10
    assert set(result["phases_seconds"]) == {"geography", "figures", "compute", "persist"}
    # Every level, both years: commune, département, EPCI, région, zone d'emploi.
    assert len(compared) == 10
