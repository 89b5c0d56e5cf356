"""Every SQL statement of payment requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import payment_requests


async def insert_request(session: AsyncSession, **values: Any) -> RowMapping:
    stmt = insert(payment_requests).values(**values).returning(*payment_requests.c)
    return (await session.execute(stmt)).mappings().one()


async def get_request(
    session: AsyncSession, request_id: UUID, *, lock: bool = False
) -> RowMapping | None:
    """The request; ``lock`` holds its row until the end of the unit of work, so two
    decisions on it run one after the other and the second sees the first."""
    stmt = select(payment_requests).where(payment_requests.c.id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def list_requests(
    session: AsyncSession,
    account_id: UUID,
    *,
    status: str | None,
    now: datetime,
    after: UUID | None,
    limit: int,
) -> Sequence[RowMapping]:
    """Requests where ``account_id`` is the payer or the payee, oldest first; ``status`` as
    readers see it (a pending request past its expiry is expired)."""
    t = payment_requests.c
    stmt = (
        select(payment_requests)
        .where(or_(t.payer_account == account_id, t.payee_account == account_id))
        .order_by(t.id)
        .limit(limit)
    )
    if status == "pending":
        stmt = stmt.where(t.status == "pending", t.expires_at > now)
    elif status == "expired":
        stmt = stmt.where(
            or_(t.status == "expired", (t.status == "pending") & (t.expires_at <= now))
        )
    elif status is not None:
        stmt = stmt.where(t.status == status)
    if after is not None:
        stmt = stmt.where(t.id > after)
    return (await session.execute(stmt)).mappings().all()


async def decide(
    session: AsyncSession,
    request_id: UUID,
    *,
    status: str,
    decided_by: str,
    transaction_id: UUID | None,
) -> RowMapping:
    stmt = (
        update(payment_requests)
        .where(payment_requests.c.id == request_id)
        .values(
            status=status,
            decided_by=decided_by,
            decided_at=func.clock_timestamp(),
            transaction_id=transaction_id,
        )
        .returning(*payment_requests.c)
    )
    return (await session.execute(stmt)).mappings().one()
