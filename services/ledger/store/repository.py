"""All SQL of the ledger: plain functions taking the request's session; they only flush.

Locking discipline (why concurrent transfers never deadlock): a writer locks the
``account_balances`` rows it will touch with one ``SELECT … FOR UPDATE`` ordered by account
id, before any write. Hold rows, when needed, are locked first, one at a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.store.models import (
    account_balances,
    account_limit_changes,
    accounts,
    currencies,
    currency_reserves,
    demurrage_runs,
    holds,
    idempotency_keys,
    postings,
    transactions,
)


def new_id() -> UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so keyset pages follow creation order."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return UUID(int=value)


# --- currencies -------------------------------------------------------------------------


async def insert_currency(session: AsyncSession, **values: Any) -> RowMapping | None:
    """Insert a currency; None if the code is taken."""
    stmt = pg_insert(currencies).values(**values).on_conflict_do_nothing().returning(currencies)
    row: RowMapping | None = (await session.execute(stmt)).mappings().first()
    return row


async def get_currency(session: AsyncSession, code: str) -> RowMapping | None:
    stmt = select(currencies).where(currencies.c.code == code)
    return (await session.execute(stmt)).mappings().first()


async def list_currencies(
    session: AsyncSession, *, visible: frozenset[str] | None, after: str | None, limit: int
) -> Sequence[RowMapping]:
    stmt = select(currencies).order_by(currencies.c.code).limit(limit)
    if visible is not None:
        stmt = stmt.where(currencies.c.code.in_(sorted(visible)))
    if after is not None:
        stmt = stmt.where(currencies.c.code > after)
    return (await session.execute(stmt)).mappings().all()


# --- accounts ---------------------------------------------------------------------------

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
    session: AsyncSession, *, currency: str, after: UUID | None, limit: int
) -> Sequence[RowMapping]:
    stmt = (
        _accounts_with_balances()
        .where(accounts.c.currency == currency)
        .order_by(accounts.c.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(accounts.c.id > after)
    return (await session.execute(stmt)).mappings().all()


async def lock_accounts(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, RowMapping]:
    """Lock the balance rows of ``ids`` in id order; the accounts found, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = (
        _accounts_with_balances()
        .where(accounts.c.id.in_(wanted))
        .order_by(accounts.c.id)
        .with_for_update(of=account_balances)
    )
    return {row["id"]: row for row in (await session.execute(stmt)).mappings().all()}


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


# --- transactions -----------------------------------------------------------------------


async def insert_transaction(
    session: AsyncSession, *, legs: Sequence[dict[str, Any]], **values: Any
) -> RowMapping:
    row: RowMapping = (
        (await session.execute(insert(transactions).values(**values).returning(transactions)))
        .mappings()
        .one()
    )
    await session.execute(
        insert(postings), [{"transaction_id": values["id"], **leg} for leg in legs]
    )
    return row


async def get_transaction(session: AsyncSession, transaction_id: UUID) -> RowMapping | None:
    stmt = select(transactions).where(transactions.c.id == transaction_id)
    return (await session.execute(stmt)).mappings().first()


async def reversal_of(session: AsyncSession, transaction_id: UUID) -> UUID | None:
    stmt = select(transactions.c.id).where(transactions.c.reverses == transaction_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def postings_of(
    session: AsyncSession, transaction_ids: Sequence[UUID]
) -> dict[UUID, list[RowMapping]]:
    found: dict[UUID, list[RowMapping]] = {tx: [] for tx in transaction_ids}
    if not transaction_ids:
        return found
    stmt = (
        select(postings)
        .where(postings.c.transaction_id.in_(transaction_ids))
        .order_by(postings.c.currency, postings.c.account_id)
    )
    for row in (await session.execute(stmt)).mappings().all():
        found[row["transaction_id"]].append(row)
    return found


async def list_transactions(
    session: AsyncSession, *, currency: str, after: int | None, limit: int
) -> Sequence[RowMapping]:
    """Transactions with at least one posting in ``currency``, oldest first."""
    touches = (
        select(postings.c.transaction_id)
        .where(postings.c.currency == currency, postings.c.transaction_id == transactions.c.id)
        .exists()
    )
    stmt = select(transactions).where(touches).order_by(transactions.c.seq).limit(limit)
    if after is not None:
        stmt = stmt.where(transactions.c.seq > after)
    return (await session.execute(stmt)).mappings().all()


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


async def balance_at(
    session: AsyncSession, *, account_id: UUID, moment: datetime, inclusive: bool = True
) -> int:
    """Posted balance as it stood at ``moment``: postings at or before it (strictly before
    with ``inclusive=False``, the opening of a period starting at ``moment``).

    One index descent on ``ix_postings_account_posted_at``: ``posted_at`` never decreases
    along an account's postings (ledger_0006), so the last posting not after ``moment``
    carries the balance in its ``balance_after``.
    """
    when = postings.c.posted_at <= moment if inclusive else postings.c.posted_at < moment
    stmt = (
        select(postings.c.balance_after)
        .where(postings.c.account_id == account_id, when)
        .order_by(postings.c.posted_at.desc(), postings.c.account_seq.desc())
        .limit(1)
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    return int(found or 0)


# --- holds --------------------------------------------------------------------------------


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


async def due_holds(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[RowMapping]:
    """Authorized holds past their deadline, locked; ones another sweeper holds are skipped."""
    stmt = (
        select(holds)
        .where(holds.c.status == "authorized", holds.c.expires_at <= now)
        .order_by(holds.c.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(stmt)).mappings().all()


# --- idempotency ------------------------------------------------------------------------


async def claim_idempotency_key(
    session: AsyncSession, *, client_id: str, key: str, request_hash: str
) -> RowMapping | None:
    """Claim ``key``; None when claimed now, else the earlier claim (waits for it to commit)."""
    stmt = (
        pg_insert(idempotency_keys)
        .values(client_id=client_id, key=key, request_hash=request_hash)
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    )
    if (await session.execute(stmt)).first() is not None:
        return None
    existing = select(idempotency_keys).where(
        idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key
    )
    return (await session.execute(existing)).mappings().one()


async def remember_response(
    session: AsyncSession, *, client_id: str, key: str, response: Any
) -> None:
    await session.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key)
        .values(response=response)
    )


# --- reserves -------------------------------------------------------------------------------


async def upsert_reserve(session: AsyncSession, **values: Any) -> None:
    stmt = pg_insert(currency_reserves).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[currency_reserves.c.currency],
        set_={k: stmt.excluded[k] for k in values if k != "currency"},
    )
    await session.execute(stmt)


async def get_reserve(session: AsyncSession, currency: str) -> RowMapping | None:
    stmt = select(currency_reserves).where(currency_reserves.c.currency == currency)
    return (await session.execute(stmt)).mappings().first()


async def reserves_touching(session: AsyncSession, ids: Sequence[UUID]) -> Sequence[RowMapping]:
    """Reserve configurations whose issuer or reserve account is among ``ids``."""
    stmt = select(currency_reserves).where(
        currency_reserves.c.issuer_account.in_(ids) | currency_reserves.c.reserve_account.in_(ids)
    )
    return (await session.execute(stmt)).mappings().all()


async def posted_balances(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, int]:
    stmt = select(account_balances.c.account_id, account_balances.c.posted).where(
        account_balances.c.account_id.in_(ids)
    )
    return {row.account_id: row.posted for row in (await session.execute(stmt)).all()}


# --- demurrage --------------------------------------------------------------------------------


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


async def insert_transactions(
    session: AsyncSession, *, rows: Sequence[dict[str, Any]], legs: Sequence[dict[str, Any]]
) -> list[RowMapping]:
    """Many transactions and their postings in two multi-row statements."""
    result = await session.execute(insert(transactions).returning(transactions), list(rows))
    inserted = list(result.mappings().all())
    await session.execute(insert(postings), list(legs))
    return inserted
