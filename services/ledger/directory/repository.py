"""Every SQL statement of the public directory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func, null, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import directory_listings as listings

PERSONAL_DATA = (
    "account_id",
    "name",
    "address",
    "latitude",
    "longitude",
    "opening_hours",
    "consent_given_by",
)
"""What a withdrawal erases: every field that may identify a person (a sole trader)."""


async def insert_listing(session: AsyncSession, **values: Any) -> RowMapping | None:
    """The new listing; None when the account already has a listed profile."""
    stmt = (
        pg_insert(listings)
        .values(status="listed", **values)
        .on_conflict_do_nothing(
            index_elements=[listings.c.account_id], index_where=listings.c.status == "listed"
        )
        .returning(listings)
    )
    row: RowMapping | None = (await session.execute(stmt)).mappings().first()
    return row


async def get_listing(session: AsyncSession, listing_id: UUID) -> RowMapping | None:
    stmt = select(listings).where(listings.c.id == listing_id).with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def update_profile(session: AsyncSession, listing_id: UUID, **values: Any) -> RowMapping:
    stmt = (
        update(listings)
        .where(listings.c.id == listing_id)
        .values(updated_at=func.clock_timestamp(), **values)
        .returning(listings)
    )
    row: RowMapping = (await session.execute(stmt)).mappings().one()
    return row


async def withdraw(session: AsyncSession, listing_id: UUID, *, recorded_by: str) -> RowMapping:
    """Keep a tombstone, erase the personal data."""
    stmt = (
        update(listings)
        .where(listings.c.id == listing_id)
        .values(
            status="withdrawn",
            withdrawn_at=func.clock_timestamp(),
            updated_at=func.clock_timestamp(),
            withdrawal_recorded_by=recorded_by,
            **{field: null() for field in PERSONAL_DATA},  # SQL NULL, not JSON null
        )
        .returning(listings)
    )
    row: RowMapping = (await session.execute(stmt)).mappings().one()
    return row


async def listed(
    session: AsyncSession,
    *,
    currency: str | None,
    category: str | None,
    after: UUID | None,
    limit: int,
) -> Sequence[RowMapping]:
    """Listed profiles by id, optionally of one currency or category."""
    stmt = select(listings).where(listings.c.status == "listed").order_by(listings.c.id)
    if currency is not None:
        stmt = stmt.where(listings.c.currencies.contains([currency]))
    if category is not None:
        stmt = stmt.where(listings.c.category == category)
    if after is not None:
        stmt = stmt.where(listings.c.id > after)
    stmt = stmt.limit(limit)
    return (await session.execute(stmt)).mappings().all()
