"""The diagnostic report of one territory-year, as JSON or as a printable page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.geography import service as geography
from services.diagnostics.geography.rules.sources import geography_note
from services.diagnostics.grants import service as grants
from services.diagnostics.incomes import service as incomes
from services.diagnostics.indicators.report_page import render_report
from services.diagnostics.indicators.rules.labels import flag_label, label_of
from services.diagnostics.indicators.rules.report import LEVER_TEXT, DiagnosticReport, build_report
from services.diagnostics.indicators.service import figures
from services.diagnostics.indicators.service.evolution import comparison, previous_data
from services.diagnostics.indicators.service.indicators import indicators_of
from services.diagnostics.indicators.service.subjects import perimeter_in, territory_year
from services.diagnostics.indicators.service.year import YearData, load_year
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
                "label": label_of(r.name).label,
                "unit_label": label_of(r.name).unit,
                "meaning": label_of(r.name).meaning,
                "flag_label": flag_label(r.flag),
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
    """The report of one territory of a computed year, compared with territories of its
    level (a perimeter: of its kind), and with the previous year that has figures."""
    territory = data.territory(code)
    indicators = await indicators_of(session, data, code, currency)
    diagnostic = build_report(territory, table=data.table_of(code), indicators=indicators)
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
    out["level"] = data.levels.get(code)
    out["synthetic"] = "synth" in out["source"].lower()
    vintage = await geography.vintage(session)
    out["geography"] = (
        geography_note(vintage.year)
        if vintage is not None
        else "Source : données importées, géographie non officielle"
    )
    out["residential_base"] = await incomes.residential_base(
        session,
        code=code,
        level=out["level"],
        population=out["population"],
        year=data.year,
        version=await figures.data_version(session),
    )
    before = await previous_data(session, data.year, code)
    out["comparison"] = None if before is None else comparison(before, data, code)
    return out


async def report(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str,
    year: int | None,
    currency: str | None,
) -> dict[str, Any]:
    """The diagnostic: indicators with peers, engine shares, typology, strengths, fragilities
    and suggested levers (with ``currency``, one the client is bound to, its circulation),
    and the loans and guarantees funding published for it (today's, whatever the year);
    the year defaults to the latest with figures."""
    data = await territory_year(session, principal, code, year, currency)
    found = await report_of(session, data, code, currency)
    return {**found, "instruments": await grants.instruments_of(session, code)}


async def perimeter_report(
    session: AsyncSession, principal: Principal, *, kind: str, code: str, year: int | None
) -> dict[str, Any]:
    """The diagnostic of a perimeter, from the sums of its communes."""
    data = await load_year(session, year)
    key = await perimeter_in(session, principal, data, kind=kind, code=code)
    return await report_of(session, data, key, None)


def page(report: dict[str, Any]) -> str:
    """The diagnostic as a printable HTML page with charts, in French."""
    return render_report(report)
