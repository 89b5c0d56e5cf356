"""Every SQL statement of cards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import cards


async def insert_card(session: AsyncSession, **values: Any) -> RowMapping | None:
    """Insert a card; None when its fingerprint is already issued."""
    stmt = pg_insert(cards).values(**values).on_conflict_do_nothing().returning(cards)
    row: RowMapping | None = (await session.execute(stmt)).mappings().first()
    return row


async def get_card(
    session: AsyncSession, card_id: UUID, *, lock: bool = False
) -> RowMapping | None:
    stmt = select(cards).where(cards.c.id == card_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def card_by_fingerprint(session: AsyncSession, fingerprint: str) -> RowMapping | None:
    """The card, share-locked: a concurrent block waits for this payment, and a payment
    that starts after a block committed sees it."""
    stmt = select(cards).where(cards.c.fingerprint == fingerprint).with_for_update(read=True)
    return (await session.execute(stmt)).mappings().first()


async def list_cards(
    session: AsyncSession, *, account_id: UUID, after: UUID | None, limit: int
) -> Sequence[RowMapping]:
    stmt = select(cards).where(cards.c.account_id == account_id).order_by(cards.c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(cards.c.id > after)
    return (await session.execute(stmt)).mappings().all()


async def block_card(
    session: AsyncSession, card_id: UUID, *, reason: str, blocked_by: str
) -> RowMapping:
    stmt = (
        update(cards)
        .where(cards.c.id == card_id)
        .values(
            status="blocked",
            block_reason=reason,
            blocked_by=blocked_by,
            blocked_at=func.clock_timestamp(),
        )
        .returning(cards)
    )
    row: RowMapping = (await session.execute(stmt)).mappings().one()
    return row
