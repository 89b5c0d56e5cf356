"""Income sources: the import's writes and a territory's figures for a client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.incomes import repository
from services.diagnostics.incomes.errors import IncomeSourcesNotFound
from services.diagnostics.incomes.rules import FIGURES, LABELS
from services.diagnostics.territories import service as territories
from shared.auth import Principal


async def save(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace validated Filosofi rows (re-importing a vintage is safe)."""
    await repository.upsert(session, rows)


async def income_sources(
    session: AsyncSession, principal: Principal, code: str, year: int | None
) -> dict[str, Any]:
    """The territory's Filosofi figures (403 before 404), each with its French label; a
    secret cell is null and listed in ``secret``."""
    territory = await territories.get_readable(session, principal, code)
    found = await repository.latest(session, code, year)
    if found is None:
        when = f" en {year}" if year is not None else ""
        raise IncomeSourcesNotFound(f"aucune donnée Filosofi importée pour {code}{when}")
    figures = [
        {
            "name": name,
            "label": LABELS[name],
            "value": None if getattr(found, name) is None else float(getattr(found, name)),
        }
        for name in FIGURES
    ]
    return {
        "territory": code,
        "name": territory.name,
        "level": territory.level,
        "year": found.year,
        "source": f"Source : {found.source}",
        "figures": figures,
        "secret": [f["name"] for f in figures if f["value"] is None],
    }
