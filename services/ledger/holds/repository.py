"""Every SQL statement of holds. A hold row is locked before the balance rows the
posting path locks, so captures and transfers never wait on each other in a cycle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import holds


async def insert_hold(session: AsyncSession, **values: Any) -> RowMapping:
    stmt = insert(holds).values(**values).returning(holds)
    row: RowMapping = (await session.execute(stmt)).mappings().one()
    return row


async def get_hold(
    session: AsyncSession, hold_id: UUID, *, lock: bool = False
) -> RowMapping | None:
    stmt = select(holds).where(holds.c.id == hold_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def finish_hold(
    session: AsyncSession,
    hold_id: UUID,
    *,
    status: str,
    captured: int = 0,
    transaction_id: UUID | None = None,
) -> RowMapping:
    stmt = (
        update(holds)
        .where(holds.c.id == hold_id)
        .values(
            status=status,
            captured=captured,
            transaction_id=transaction_id,
            updated_at=func.clock_timestamp(),
        )
        .returning(holds)
    )
    row: RowMapping = (await session.execute(stmt)).mappings().one()
    return row


async def list_holds(
    session: AsyncSession, *, currency: str, after: UUID | None, limit: int
) -> Sequence[RowMapping]:
    stmt = select(holds).where(holds.c.currency == currency).order_by(holds.c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(holds.c.id > after)
    return (await session.execute(stmt)).mappings().all()


async def due_holds(
    session: AsyncSession, *, now: datetime, limit: int, currency: str | None = None
) -> Sequence[RowMapping]:
    """Authorized holds past their deadline (of ``currency`` if given), locked; ones another
    sweeper holds are skipped."""
    stmt = (
        select(holds)
        .where(holds.c.status == "authorized", holds.c.expires_at <= now)
        .order_by(holds.c.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if currency is not None:
        stmt = stmt.where(holds.c.currency == currency)
    return (await session.execute(stmt)).mappings().all()
