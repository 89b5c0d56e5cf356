"""Every SQL statement of income sources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.incomes.models import (
    CensusHousing,
    IncomeSources,
    IncomeTax,
    TourismCapacity,
)

Table = type[IncomeSources] | type[IncomeTax] | type[TourismCapacity] | type[CensusHousing]
TABLES: dict[str, Table] = {
    "filosofi": IncomeSources,
    "income_tax": IncomeTax,
    "tourism": TourismCapacity,
    "housing": CensusHousing,
}


async def upsert(
    session: AsyncSession, rows: Sequence[dict[str, Any]], table: Table = IncomeSources
) -> None:
    """Insert or replace the figures of each (territory, vintage)."""
    if not rows:
        return
    stmt = pg_insert(table)
    replaced = {name: stmt.excluded[name] for name in rows[0] if name not in ("code", "year")}
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[table.code, table.year], set_=replaced),
        list(rows),
    )


async def latest_lines(
    session: AsyncSession, table: Table, codes: Sequence[str], year: int | None = None
) -> dict[str, dict[str, Any]]:
    """The lines of ``codes`` for ``year``, or for the latest vintage any of them has,
    by code, as plain dicts (column → value)."""
    if not codes:
        return {}
    key: Any = table  # the four tables share (code, year); mypy sees their common base
    if year is None:
        year = (
            await session.execute(select(func.max(key.year)).where(key.code.in_(codes)))
        ).scalar_one_or_none()
        if year is None:
            return {}
    found = await session.execute(select(key).where(key.code.in_(codes), key.year == year))
    columns = [c.key for c in key.__table__.columns]
    return {row.code: {c: getattr(row, c) for c in columns} for row in found.scalars()}


def _member(key: Any, members: Sequence[str]) -> Any:
    """``code = ANY(:codes)``: one array parameter, not thousands of bound values (an
    ``IN`` of a membership subquery risks a nested loop while the statistics of a table
    just imported are stale)."""
    return key.code == any_(bindparam("codes", list(members), type_=ARRAY(String)))


async def summed(
    session: AsyncSession,
    table: Table,
    members: Sequence[str],
    names: Sequence[str],
    year: int | None = None,
) -> dict[str, Any] | None:
    """The sums over the communes of their lines of ``year`` (default: the latest any
    has), in one statement: how many communes and lines, and per figure how many known
    cells and their sum (SQL's SUM skips NULL: the caller compares the counts)."""
    key: Any = table
    latest = select(func.max(key.year)).where(_member(key, members)).scalar_subquery()
    columns = [getattr(key, n) for n in names]
    row = (
        await session.execute(
            select(
                func.count(),
                func.max(key.year),
                func.max(key.geography_year),
                func.min(key.source),
                *(func.count(c) for c in columns),
                *(func.sum(c) for c in columns),
            ).where(_member(key, members), key.year == (latest if year is None else year))
        )
    ).one()
    lines, found_year, geography, source = row[0], row[1], row[2], row[3]
    if not lines:
        return None
    counts, sums = row[4 : 4 + len(names)], row[4 + len(names) :]
    return {
        "year": found_year,
        "lines": lines,
        "communes": len(members),
        "geography_year": geography,
        "source": source or "",
        "known": dict(zip(names, counts, strict=True)),
        "sums": dict(zip(names, sums, strict=True)),
    }


async def latest(session: AsyncSession, code: str, year: int | None) -> IncomeSources | None:
    """The territory's figures of ``year``, or of its latest vintage."""
    query = select(IncomeSources).where(IncomeSources.code == code)
    if year is not None:
        query = query.where(IncomeSources.year == year)
    query = query.order_by(IncomeSources.year.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()
