"""Every SQL statement of period closings and of the effective-date bounds."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import currencies, period_closings

LOCK_CLASS = 924695646
"""The advisory lock class of closings (migration ``ledger_0013``): a closing takes its
currency's key exclusively, every posting statement shared."""


async def lock_periods(session: AsyncSession, currency: str) -> None:
    """Wait for the transactions posting in ``currency`` now, and hold later ones until
    commit: the closing's check and insert then see every transaction it closes on."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:class, hashtext(:currency))"),
        {"class": LOCK_CLASS, "currency": currency},
    )


async def latest_closing(session: AsyncSession, currency: str) -> date | None:
    stmt = select(func.max(period_closings.c.through)).where(period_closings.c.currency == currency)
    value: date | None = (await session.execute(stmt)).scalar_one()
    return value


async def insert_closing(
    session: AsyncSession, *, currency: str, through: date, closed_by: str
) -> RowMapping:
    stmt = (
        insert(period_closings)
        .values(currency=currency, through=through, closed_by=closed_by)
        .returning(*period_closings.c)
    )
    return (await session.execute(stmt)).mappings().one()


async def list_closings(
    session: AsyncSession, currency: str, *, after: date | None, limit: int
) -> Sequence[RowMapping]:
    stmt = (
        select(period_closings)
        .where(period_closings.c.currency == currency)
        .order_by(period_closings.c.through)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(period_closings.c.through > after)
    return (await session.execute(stmt)).mappings().all()


async def dating_rules(session: AsyncSession, codes: Collection[str]) -> Sequence[RowMapping]:
    """Each currency of ``codes`` (those that exist) with its rules and the date it is
    closed through (None if never closed), in one statement."""
    closed_through = (
        select(func.max(period_closings.c.through))
        .where(period_closings.c.currency == currencies.c.code)
        .scalar_subquery()
    )
    stmt = select(
        currencies.c.code,
        currencies.c.kind,
        currencies.c.scale,
        currencies.c.rules,
        closed_through.label("closed_through"),
    ).where(currencies.c.code.in_(sorted(codes)))
    return (await session.execute(stmt)).mappings().all()
