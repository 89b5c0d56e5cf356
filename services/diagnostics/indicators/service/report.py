"""The diagnostic report of one territory-year, as JSON or as a printable page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators.report_page import render_report
from services.diagnostics.indicators.rules.report import LEVER_TEXT, DiagnosticReport, build_report
from services.diagnostics.indicators.service.indicators import indicators_of
from services.diagnostics.indicators.service.year import YearData, load_year
from services.diagnostics.territories import service as territories
from shared.auth import Principal


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
    """The report of one territory of a computed year, its peers named and compared."""
    territory = data.territory(code)
    indicators = await indicators_of(session, data, code, currency)
    diagnostic = build_report(territory, table=data.table, indicators=indicators)
    out = report_dict(diagnostic, source=data.sources.get(code, ""))
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


async def report(
    session: AsyncSession, principal: Principal, *, code: str, year: int, currency: str | None
) -> dict[str, Any]:
    """The diagnostic: indicators with peers, engine shares, typology, strengths, fragilities
    and suggested levers (with ``currency``, one the client is bound to, its circulation)."""
    await territories.get_readable(session, principal, code, currency)
    data = await load_year(session, year)
    return await report_of(session, data, code, currency)


async def report_page(
    session: AsyncSession, principal: Principal, *, code: str, year: int, currency: str | None
) -> str:
    """The diagnostic as a printable HTML page with charts."""
    return render_report(await report(session, principal, code=code, year=year, currency=currency))
