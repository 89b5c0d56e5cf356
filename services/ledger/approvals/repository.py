"""Every SQL statement of four-eyes approvals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import operator_approvals


async def insert_approval(session: AsyncSession, **values: Any) -> RowMapping:
    stmt = insert(operator_approvals).values(**values).returning(*operator_approvals.c)
    return (await session.execute(stmt)).mappings().one()


async def get_approval(
    session: AsyncSession, currency: str, approval_id: UUID, *, lock: bool = False
) -> RowMapping | None:
    stmt = select(operator_approvals).where(
        operator_approvals.c.id == approval_id, operator_approvals.c.currency == currency
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def list_approvals(
    session: AsyncSession, currency: str, *, status: str | None, after: UUID | None, limit: int
) -> Sequence[RowMapping]:
    stmt = (
        select(operator_approvals)
        .where(operator_approvals.c.currency == currency)
        .order_by(operator_approvals.c.id)
        .limit(limit)
    )
    if status is not None:
        stmt = stmt.where(operator_approvals.c.status == status)
    if after is not None:
        stmt = stmt.where(operator_approvals.c.id > after)
    return (await session.execute(stmt)).mappings().all()


async def decide(
    session: AsyncSession,
    approval_id: UUID,
    *,
    status: str,
    decided_by: str,
    transaction_id: UUID | None,
) -> RowMapping:
    stmt = (
        update(operator_approvals)
        .where(operator_approvals.c.id == approval_id)
        .values(
            status=status,
            decided_by=decided_by,
            decided_at=func.clock_timestamp(),
            transaction_id=transaction_id,
        )
        .returning(*operator_approvals.c)
    )
    return (await session.execute(stmt)).mappings().one()
