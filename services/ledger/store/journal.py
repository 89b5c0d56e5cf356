"""SQL of the journal exports: sealed transactions of a currency, page by page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import accounts, audit_chain, postings, transactions


async def journal_page(
    session: AsyncSession,
    *,
    currency: str,
    after_position: int,
    limit: int,
    date_from: date | None,
    date_to: date | None,
) -> Sequence[RowMapping]:
    """Postings in ``currency`` of the next ``limit`` chained transactions whose effective
    date lies in ``[date_from, date_to]``, by chain position then account id."""
    links = (
        select(
            audit_chain.c.position,
            audit_chain.c.transaction_id,
            audit_chain.c.sealed_at,
            transactions.c.kind,
            transactions.c.description,
            transactions.c.effective_date,
        )
        .join(transactions, transactions.c.id == audit_chain.c.transaction_id)
        .where(audit_chain.c.currency == currency, audit_chain.c.position > after_position)
        .order_by(audit_chain.c.position)
        .limit(limit)
    )
    if date_from is not None:
        links = links.where(transactions.c.effective_date >= date_from)
    if date_to is not None:
        links = links.where(transactions.c.effective_date <= date_to)
    page = links.subquery()
    stmt = (
        select(
            page,
            postings.c.account_id,
            postings.c.amount,
            accounts.c.type.label("account_type"),
            accounts.c.name.label("account_name"),
        )
        .join(
            postings,
            (postings.c.transaction_id == page.c.transaction_id)
            & (postings.c.currency == currency),
        )
        .join(accounts, accounts.c.id == postings.c.account_id)
        .order_by(page.c.position, postings.c.account_id)
    )
    return (await session.execute(stmt)).mappings().all()
