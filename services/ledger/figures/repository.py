"""Every SQL statement of the dashboard figures: circulation at an instant and flows over a
window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import account_balances, accounts, postings, transactions
from services.ledger.figures.rules import HOLDER_TYPES, TRANSFER_KINDS, WindowFlows


async def now(session: AsyncSession) -> datetime:
    value: datetime = (await session.execute(select(func.now()))).scalar_one()
    return value


async def circulation(session: AsyncSession, *, currency: str, at: datetime | None) -> int:
    """Sum of positive holder balances now, or as they stood at ``at`` (current balance
    minus what was posted since, read in the same statement so both agree)."""
    balance: Any = account_balances.c.posted
    source: Any = accounts.join(account_balances, account_balances.c.account_id == accounts.c.id)
    if at is not None:
        later = (
            select(postings.c.account_id, func.sum(postings.c.amount).label("amount"))
            .join(transactions, transactions.c.id == postings.c.transaction_id)
            .where(postings.c.currency == currency, transactions.c.inserted_at >= at)
            .group_by(postings.c.account_id)
            .subquery()
        )
        balance = balance - func.coalesce(later.c.amount, 0)
        source = source.outerjoin(later, later.c.account_id == accounts.c.id)
    stmt = (
        select(func.coalesce(func.sum(func.greatest(balance, 0)), 0))
        .select_from(source)
        .where(accounts.c.currency == currency, accounts.c.type.in_(HOLDER_TYPES))
    )
    return int((await session.execute(stmt)).scalar_one())


async def window_flows(session: AsyncSession, *, currency: str, since: datetime) -> WindowFlows:
    kind = transactions.c.kind
    amount = postings.c.amount
    holder = accounts.c.type.in_(HOLDER_TYPES)

    def total(condition: Any, value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    is_transfer = kind.in_(TRANSFER_KINDS)
    stmt = (
        select(
            func.count(func.distinct(case((is_transfer, transactions.c.id)))),
            total(and_(is_transfer, amount > 0), amount),
            total(and_(kind == "issuance", holder, amount > 0), amount),
            total(and_(kind == "reconversion", holder, amount < 0), -amount),
        )
        .select_from(postings)
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .join(accounts, accounts.c.id == postings.c.account_id)
        .where(postings.c.currency == currency, transactions.c.inserted_at >= since)
    )
    count, volume, issued, reconverted = (await session.execute(stmt)).one()
    return WindowFlows(int(count), int(volume), int(issued), int(reconverted))
