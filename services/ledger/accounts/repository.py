"""Every SQL statement of accounts: opening, status, limits, holders, balances and history.

Balance reads are the hottest reads of the ledger: `current_balance` and
`balance_at_with_currency` run one statement on a pooled connection, without a session
(`services.ledger.database.driver.read_one`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.ledger.database.driver import fetchval, read_one
from services.ledger.database.tables import (
    account_balances,
    account_limit_changes,
    accounts,
    postings,
    transactions,
)

Row = Mapping[str, Any]


_ACCOUNT_COLUMNS = (
    *accounts.c,
    account_balances.c.posted,
    account_balances.c.held,
    account_balances.c.lower_bound,
    account_balances.c.upper_bound,
)


def _accounts_with_balances() -> Any:
    return select(*_ACCOUNT_COLUMNS).join(
        account_balances, account_balances.c.account_id == accounts.c.id
    )


async def insert_account(
    session: AsyncSession, *, lower: int | None, upper: int | None, **values: Any
) -> None:
    await session.execute(insert(accounts).values(**values))
    await session.execute(
        insert(account_balances).values(
            account_id=values["id"],
            currency=values["currency"],
            lower_bound=lower,
            upper_bound=upper,
        )
    )


async def get_account(
    session: AsyncSession, account_id: UUID, *, lock: bool = False
) -> RowMapping | None:
    stmt = _accounts_with_balances().where(accounts.c.id == account_id)
    if lock:
        stmt = stmt.with_for_update(of=account_balances)
    return (await session.execute(stmt)).mappings().first()


async def list_accounts(
    session: AsyncSession,
    *,
    currency: str,
    after: UUID | None,
    limit: int,
    holder: str | None = None,
) -> Sequence[RowMapping]:
    stmt = (
        _accounts_with_balances()
        .where(accounts.c.currency == currency)
        .order_by(accounts.c.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(accounts.c.id > after)
    if holder is not None:
        stmt = stmt.where(accounts.c.holder == holder)
    return (await session.execute(stmt)).mappings().all()


async def set_account_status(session: AsyncSession, account_id: UUID, status: str) -> None:
    await session.execute(update(accounts).where(accounts.c.id == account_id).values(status=status))


async def set_credit_limit(
    session: AsyncSession,
    *,
    account_id: UUID,
    old_limit: int,
    new_limit: int,
    lower: int | None,
    reason: str,
    changed_by: str,
) -> None:
    await session.execute(
        update(accounts).where(accounts.c.id == account_id).values(credit_limit=new_limit)
    )
    await session.execute(
        update(account_balances)
        .where(account_balances.c.account_id == account_id)
        .values(lower_bound=lower)
    )
    await session.execute(
        insert(account_limit_changes).values(
            account_id=account_id,
            old_limit=old_limit,
            new_limit=new_limit,
            reason=reason,
            changed_by=changed_by,
        )
    )


async def limit_history(
    session: AsyncSession, *, account_id: UUID, after: int | None, limit: int
) -> Sequence[RowMapping]:
    stmt = (
        select(account_limit_changes)
        .where(account_limit_changes.c.account_id == account_id)
        .order_by(account_limit_changes.c.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(account_limit_changes.c.id > after)
    return (await session.execute(stmt)).mappings().all()


async def set_holder(session: AsyncSession, account_id: UUID, holder: str) -> None:
    await session.execute(update(accounts).where(accounts.c.id == account_id).values(holder=holder))


_BALANCE = """
SELECT currency, posted, held, (SELECT holder FROM accounts WHERE id = $1) AS holder
FROM account_balances WHERE account_id = $1
"""


async def current_balance(engine: AsyncEngine, account_id: UUID) -> Row | None:
    """Currency, posted, held and holder of one account: two primary-key reads in one
    statement."""
    return await read_one(engine, _BALANCE, account_id)


def _balance_as_of(op: str) -> str:
    """The balance after the account's last posting at (``<=``) or before (``<``) ``$2``,
    0 before its first: one index descent on ``ix_postings_account_posted_at``."""
    return f"""coalesce((SELECT balance_after FROM postings
                 WHERE account_id = $1 AND posted_at {op} $2
                 ORDER BY posted_at DESC, account_seq DESC LIMIT 1), 0)"""


_BALANCE_AT = {
    inclusive: f"SELECT {_balance_as_of(op)}" for inclusive, op in ((True, "<="), (False, "<"))
}


_CURRENCY_AND_BALANCE_AT = f"""
SELECT currency, {_balance_as_of("<=")} AS posted,
       (SELECT holder FROM accounts WHERE id = $1) AS holder
FROM account_balances WHERE account_id = $1
"""


async def balance_at(
    session: AsyncSession, *, account_id: UUID, moment: datetime, inclusive: bool = True
) -> int:
    """Posted balance as it stood at ``moment``: postings at or before it (strictly before
    with ``inclusive=False``, the opening of a period starting at ``moment``).

    ``posted_at`` never decreases along an account's postings (tr_postings_apply), so the last
    posting not after ``moment`` carries the balance in its ``balance_after``.
    """
    sql = _BALANCE_AT[inclusive]
    return int(await fetchval(session, sql, account_id, moment))


async def balance_at_with_currency(
    engine: AsyncEngine, *, account_id: UUID, moment: datetime
) -> Row | None:
    """The account's currency and its posted balance at ``moment`` (see `balance_at`) in
    one statement; None for an unknown account."""
    return await read_one(engine, _CURRENCY_AND_BALANCE_AT, account_id, moment)


async def account_history(
    session: AsyncSession,
    *,
    account_id: UUID,
    after: int | None,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[RowMapping]:
    """Postings of one account with their transaction, oldest first, keyset on ``seq``."""
    stmt = (
        select(
            postings.c.seq,
            postings.c.transaction_id,
            postings.c.amount,
            transactions.c.kind,
            transactions.c.effective_date,
            transactions.c.inserted_at,
            transactions.c.description,
        )
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .where(postings.c.account_id == account_id)
        .order_by(postings.c.seq)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(postings.c.seq > after)
    if since is not None:
        stmt = stmt.where(postings.c.posted_at >= since)
    if until is not None:
        stmt = stmt.where(postings.c.posted_at < until)
    return (await session.execute(stmt)).mappings().all()
