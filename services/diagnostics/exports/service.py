"""The tables the diagnostics export, built from the same use cases as the JSON views."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.exports.rules import Dialect, Format, to_csv, to_xlsx
from services.diagnostics.geography import service as geography
from services.diagnostics.geography.rules.sources import geography_note
from services.diagnostics.indicators.rules.labels import LEVEL_LABELS, MODEL_LABELS
from services.diagnostics.indicators.service import evolution, indicators, peers, typology
from services.diagnostics.indicators.service.year import load_year
from shared.auth import Principal


async def indicators_csv(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str,
    year: int | None,
    dialect: Dialect,
    format: Format = "csv",
) -> bytes:
    """Every indicator of a territory: label, value, unit, percentile, meaning, and the
    source and geography of its figures (« Source : Insee, géographie au 1er janvier N »)."""
    found = await indicators.indicators(session, principal, code=code, year=year, currency=None)
    source = _source_line(found["source"], await _geography_line(session))
    return _encode(
        [
            "Territoire",
            "Année",
            "Indicateur",
            "Valeur",
            "Unité",
            "Rang centile",
            "Signification",
            "Source",
        ],
        (
            [
                code,
                found["year"],
                i["label"],
                i["value"],
                i["unit_label"],
                i["percentile"],
                i["meaning"],
                source,
            ]
            for i in found["indicators"]
        ),
        dialect,
        format,
    )


async def peers_csv(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str,
    year: int | None,
    k: int,
    dialect: Dialect,
    format: Format = "csv",
) -> bytes:
    """The nearest territories of the same level, with their distance and where each
    peer's figures come from (a peer may be imported where the territory is synthetic)."""
    found = await peers.peers(session, principal, code=code, year=year, k=k)
    sources = (await load_year(session, found["year"])).sources
    where = await _geography_line(session)
    return _encode(
        ["Territoire", "Année", "Pair", "Distance", "Source"],
        (
            [
                code,
                found["year"],
                p["territory"],
                p["distance"],
                _source_line(sources.get(p["territory"], ""), where),
            ]
            for p in found["peers"]
        ),
        dialect,
        format,
    )


async def typology_csv(
    session: AsyncSession,
    principal: Principal,
    *,
    year: int | None,
    level: str | None,
    dialect: Dialect,
    format: Format = "csv",
) -> bytes:
    """The rule model and k-means group of every territory the client may see."""
    page = await typology.typology_page(
        session, principal, year=year, k=5, after=None, limit=1_000_000, level=level
    )
    sources = (await load_year(session, page["year"])).sources
    where = await _geography_line(session)
    return _encode(
        [
            "Code",
            "Territoire",
            "Niveau",
            "Modèle (règles)",
            "Groupe k-means",
            "Modèle du groupe",
            "Source",
        ],
        (
            [
                r["territory"],
                r["name"],
                LEVEL_LABELS.get(r["level"] or "", ""),
                MODEL_LABELS.get(r["rule_model"], ""),
                r["cluster"],
                MODEL_LABELS.get(r["cluster_model"], ""),
                _source_line(sources.get(r["territory"], ""), where),
            ]
            for r in page["items"]
        ),
        dialect,
        format,
    )


async def shift_share_csv(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str,
    from_year: int,
    to_year: int | None,
    dialect: Dialect,
    format: Format = "csv",
) -> bytes:
    """The shift-share decomposition by sector, and the total."""
    found: dict[str, Any] = await evolution.shift_share_of(
        session, principal, code=code, from_year=from_year, to_year=to_year
    )
    shift = found["shift_share"]
    key = found["territory"]
    years = (found["from_year"], found["to_year"])
    kept = [(await load_year(session, y)).sources.get(key, "") for y in years]
    source = _source_line(
        " / ".join(dict.fromkeys(s for s in kept if s)), await _geography_line(session)
    )
    rows: list[list[Any]] = []
    if shift is not None:
        rows = [
            [
                s["sector"],
                s["change"],
                s["reference_growth"],
                s["industry_mix"],
                s["competitive"],
                source,
            ]
            for s in shift["sectors"]
        ]
        rows.append(
            [
                "Total",
                shift["change"],
                shift["reference_growth"],
                shift["industry_mix"],
                shift["competitive"],
                source,
            ]
        )
    return _encode(
        [
            "Secteur",
            f"Variation {found['from_year']}-{found['to_year']}",
            "Effet national-régional",
            "Effet de structure",
            "Effet local",
            "Source",
        ],
        rows,
        dialect,
        format,
    )


async def _geography_line(session: AsyncSession) -> str:
    vintage = await geography.vintage(session)
    return geography_note(vintage.year) if vintage else "géographie non officielle"


def _source_line(source: str, where: str) -> str:
    """The Source cell every exported line carries, as the report's figures do: what the
    figures are (imported file, synthetic model, sum of communes) and on which geography."""
    return f"Données : {source or 'importées'} — {where}"


def _encode(
    header: list[str], rows: Any, dialect: Dialect, format: Format, title: str = "Proxima"
) -> bytes:
    """CSV (in ``dialect``) or XLSX of a table."""
    if format == "xlsx":
        return to_xlsx(header, list(rows), title=title)
    return to_csv(header, rows, dialect)
