"""The typology of a year: rule-based model and k-means cluster of each territory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators.errors import NoDataForYear
from services.diagnostics.indicators.rules.engines import ENGINES, Engine
from services.diagnostics.indicators.rules.indicators import SHARE_INDICATORS
from services.diagnostics.indicators.rules.typology import (
    Model,
    classify_all,
    cluster_engine_shares,
    compare_typologies,
)
from services.diagnostics.indicators.service.year import YearData, load_year
from shared.auth import Principal


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


async def typology_page(
    session: AsyncSession,
    principal: Principal,
    *,
    year: int | None,
    k: int,
    after: str | None,
    limit: int,
    level: str | None = None,
) -> dict[str, Any]:
    """A page of the year's typology rows of the territories the client may see, with the
    clusters and how far the two typologies agree (computed over every territory)."""
    data = await load_year(session, year)
    result = typology(data, k=k)
    visible = principal.visible("territories")
    rows = [
        r
        for r in result["rows"]
        if (visible is None or r["territory"] in visible)
        and (after is None or r["territory"] > after)
        and (level is None or r["level"] == level)
    ][:limit]
    return {
        "year": data.year,
        "items": rows,
        "clusters": result["clusters"],
        "agreement": result["agreement"],
        "adjusted_rand_index": result["adjusted_rand_index"],
        "disagreements": [c for c in result["disagreements"] if visible is None or c in visible],
    }
