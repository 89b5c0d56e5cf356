"""Every SQL statement of demurrage runs: the run's row, the accounts it charges, and the
balances it charges them on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import accounts, demurrage_runs, postings, transactions


async def start_demurrage_run(session: AsyncSession, **values: Any) -> RowMapping:
    """The run of this period: created now, or the existing one (same key, same period)."""
    stmt = pg_insert(demurrage_runs).values(**values).on_conflict_do_nothing()
    await session.execute(stmt)
    return await get_demurrage_run(session, values["run_key"], lock=True)  # type: ignore[return-value]


async def get_demurrage_run(
    session: AsyncSession, run_key: str, *, lock: bool = False
) -> RowMapping | None:
    stmt = select(demurrage_runs).where(demurrage_runs.c.run_key == run_key)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def update_demurrage_run(session: AsyncSession, run_key: str, **values: Any) -> None:
    await session.execute(
        update(demurrage_runs).where(demurrage_runs.c.run_key == run_key).values(**values)
    )


async def charged_account_ids(
    session: AsyncSession, *, currency: str, types: Sequence[str], after: UUID | None, limit: int
) -> list[UUID]:
    stmt = (
        select(accounts.c.id)
        .where(accounts.c.currency == currency, accounts.c.type.in_(types))
        .order_by(accounts.c.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(accounts.c.id > after)
    return list((await session.execute(stmt)).scalars().all())


async def count_accounts(session: AsyncSession, *, currency: str, types: Sequence[str]) -> int:
    stmt = select(func.count()).where(accounts.c.currency == currency, accounts.c.type.in_(types))
    return int((await session.execute(stmt)).scalar_one())


async def balance_before(session: AsyncSession, *, account_id: UUID, day: date) -> int:
    """Sum of the account's postings with an effective date before ``day``."""
    stmt = (
        select(func.coalesce(func.sum(postings.c.amount), 0))
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .where(postings.c.account_id == account_id, transactions.c.effective_date < day)
    )
    return int((await session.execute(stmt)).scalar_one())


async def movements_between(
    session: AsyncSession, *, account_id: UUID, start: date, end: date
) -> list[tuple[date, int]]:
    stmt = (
        select(transactions.c.effective_date, postings.c.amount)
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .where(
            postings.c.account_id == account_id,
            transactions.c.effective_date >= start,
            transactions.c.effective_date < end,
        )
    )
    return [(row.effective_date, row.amount) for row in (await session.execute(stmt)).all()]
