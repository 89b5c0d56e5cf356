"""Every diagnostic of a year, computed at once and persisted in bulk.

Reports are computed on request from the cached year (``service/report.py``); persisting
them is for what needs every territory at once: open data, exports, and the France bench
(``bench/diagnostics/pipeline.py``), which times import, compute and persist of the whole
map against a plain COPY. One document per territory-year holds what the report derives
(indicators with percentiles and flags, peers, engine bases and shares, typology,
findings and levers), without the French labels and sentences, which the report adds
from ``rules/labels.py`` when it is read.
"""

from __future__ import annotations

import math
import time
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators import repository
from services.diagnostics.indicators.rules.report import DiagnosticReport, build_report
from services.diagnostics.indicators.service.year import YearData, compute_year


def diagnostic_document(report: DiagnosticReport) -> dict[str, Any]:
    """What is persisted of a report (JSON-ready; enums by value)."""
    typology = report.typology
    return {
        "name": report.name,
        "population": report.population,
        "engine_bases_eur": {e.value: v for e, v in report.engine_bases.items()},
        "engine_shares": (
            {e.value: v for e, v in report.engine_shares.items()} if report.engine_shares else None
        ),
        "typology": None
        if typology is None
        else {"model": typology.model.value, "rule": typology.rule},
        "indicators": {r.name: [r.value, r.percentile, r.flag] for r in report.indicators},
        "peers": [[p.territory, p.distance] for p in report.peers],
        "strengths": [f.rule for f in report.strengths],
        "fragilities": [f.rule for f in report.fragilities],
        "levers": [lever.value for lever in report.levers],
    }


def _finite(document: dict[str, Any]) -> bool:
    """True when every float of the document is finite (JSON has no NaN nor infinity)."""
    floats = [v for reading in document["indicators"].values() for v in reading[:2]]
    floats += [distance for _, distance in document["peers"]]
    floats += document["engine_bases_eur"].values()
    floats += (document["engine_shares"] or {}).values()
    return all(map(math.isfinite, (v for v in floats if v is not None)))


def _json(code: str, document: dict[str, Any]) -> str:
    """The document as JSON text, refusing NaN and infinities as ``json.dumps(...,
    allow_nan=False)`` did (orjson would write them as null), about ten times faster:
    France is 36,569 documents a year."""
    if not _finite(document):
        raise ValueError(f"diagnostic of {code}: a figure is not finite")
    return orjson.dumps(document).decode()


def documents_of(data: YearData) -> dict[str, dict[str, Any]]:
    """The document of every territory (and perimeter) of a computed year."""
    return {
        code: diagnostic_document(
            build_report(territory, table=data.table_of(code), indicators=data.indicators[code])
        )
        for code, territory in data.territories.items()
    }


async def compute_and_persist(session: AsyncSession, year: int) -> dict[str, Any]:
    """Compute every diagnostic of ``year`` from the stored figures and replace the
    persisted ones, in the caller's transaction; return counts and seconds per step."""
    started = time.perf_counter()
    version = await repository.data_version(session)
    data = await compute_year(session, year)
    computed = time.perf_counter()
    documents = documents_of(data)
    reported = time.perf_counter()
    records = [
        (
            code,
            year,
            data.levels.get(code, ""),
            data.sources.get(code, ""),
            version,
            _json(code, document),
        )
        for code, document in documents.items()
    ]
    await repository.replace_diagnostics(session, year, records)
    return {
        "year": year,
        "diagnostics": len(records),
        "compute_seconds": round(reported - started, 3),
        "indicators_seconds": round(computed - started, 3),
        "reports_seconds": round(reported - computed, 3),
        "persist_seconds": round(time.perf_counter() - reported, 3),
    }


async def persisted_document(session: AsyncSession, code: str, year: int) -> dict[str, Any] | None:
    """The persisted document of one territory-year (None when not computed)."""
    found = await repository.diagnostic_result(session, code, year)
    return None if found is None else found.document
