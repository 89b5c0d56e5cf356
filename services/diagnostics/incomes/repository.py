"""Every SQL statement of income sources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.incomes.models import IncomeSources
from services.diagnostics.incomes.rules import FIGURES


async def upsert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace the figures of each (territory, vintage)."""
    if not rows:
        return
    stmt = pg_insert(IncomeSources)
    replaced = {name: stmt.excluded[name] for name in (*FIGURES, "source", "import_id")}
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[IncomeSources.code, IncomeSources.year], set_=replaced
        ),
        list(rows),
    )


async def latest(session: AsyncSession, code: str, year: int | None) -> IncomeSources | None:
    """The territory's figures of ``year``, or of its latest vintage."""
    query = select(IncomeSources).where(IncomeSources.code == code)
    if year is not None:
        query = query.where(IncomeSources.year == year)
    query = query.order_by(IncomeSources.year.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()
