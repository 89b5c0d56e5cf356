"""Every SQL statement of territories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.territories.models import Territory
from shared.auth import Principal


async def levels(session: AsyncSession) -> dict[str, str]:
    """Every known territory code with its level."""
    rows = await session.execute(select(Territory.code, Territory.level))
    return dict(rows.all())


async def names(session: AsyncSession) -> dict[str, str]:
    """Every known territory code with its name."""
    rows = await session.execute(select(Territory.code, Territory.name))
    return dict(rows.all())


async def get(session: AsyncSession, code: str) -> Territory | None:
    return await session.get(Territory, code)


async def list_readable(
    session: AsyncSession,
    principal: Principal,
    *,
    after: str | None,
    limit: int,
    level: str | None,
    parent: str | None,
) -> list[Territory]:
    """A page of the territories the client is bound to, by code."""
    query = select(Territory).order_by(Territory.code).limit(limit)
    if after is not None:
        query = query.where(Territory.code > after)
    if level is not None:
        query = query.where(Territory.level == level)
    if parent is not None:
        query = query.where(Territory.parent_code == parent)
    visible = principal.visible("territories")
    if visible is not None:
        query = query.where(Territory.code.in_(list(visible)))
    return list((await session.scalars(query)).all())


async def children(session: AsyncSession, code: str) -> list[str]:
    """Codes of the territories whose parent is ``code``."""
    rows = await session.scalars(select(Territory.code).where(Territory.parent_code == code))
    return list(rows.all())


async def upsert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the territories, or replace the level, name, parent and synthetic flag of
    known codes (a legal population is kept unless the row brings one)."""
    if not rows:
        return
    full = [{"legal_population": None, "synthetic": False, **row} for row in rows]
    stmt = pg_insert(Territory)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Territory.code],
            set_={
                "level": stmt.excluded.level,
                "name": stmt.excluded.name,
                "parent_code": stmt.excluded.parent_code,
                "synthetic": stmt.excluded.synthetic,
                "legal_population": func.coalesce(
                    stmt.excluded.legal_population, Territory.legal_population
                ),
            },
        ),
        full,
    )
