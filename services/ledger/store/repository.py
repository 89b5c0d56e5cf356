"""All SQL of the ledger: plain functions taking the request's session; they only flush.

Locking discipline (why concurrent transfers never deadlock): a writer locks the
``account_balances`` rows it will touch with one ``SELECT … FOR UPDATE`` ordered by account
id, before any write. Hold rows, when needed, are locked first, one at a time.

The statements on the posting and balance-read paths (`lock_accounts`, `insert_transaction`,
`insert_transaction_columns`, idempotency keys, reserves, balances) go straight to the request's
asyncpg connection (`pg`), inside the session's transaction, as fixed SQL strings: asyncpg
prepares each once per connection and reuses it, where building, compiling and processing
a SQLAlchemy statement cost several times the round trip on a profile of the ledger under
load. Errors are re-raised as SQLAlchemy's, so callers and the unit of work see no change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.ledger.database.driver import (
    columns,
    fetch,
    fetchrow,
    fetchval,
    jsonb_param,
    read_one,
)
from services.ledger.database.tables import (
    account_balances,
    account_limit_changes,
    accounts,
    currencies,
    currency_reserves,
    demurrage_runs,
    holds,
    postings,
    transactions,
)
from services.ledger.outbox_rows import OutboxRow
from shared.ids import uuid7

new_id = uuid7


Row = Mapping[str, Any]


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


_LOCK_ACCOUNTS = """
SELECT a.id, a.currency, a.type, a.status, a.name, a.credit_limit, a.territory,
       a.merchant_category, a.metadata, a.created_at, a.holder,
       b.posted, b.held, b.lower_bound, b.upper_bound
FROM account_balances b JOIN accounts a ON a.id = b.account_id
WHERE b.account_id = ANY($1::uuid[])
ORDER BY b.account_id
FOR UPDATE OF b
"""


async def lock_accounts(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Row]:
    """Lock the balance rows of ``ids`` in id order; the accounts found, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await fetch(session, _LOCK_ACCOUNTS, wanted)
    return {row["id"]: dict(row) for row in rows}


_BALANCE = """
SELECT currency, posted, held, (SELECT holder FROM accounts WHERE id = $1) AS holder
FROM account_balances WHERE account_id = $1
"""


async def current_balance(engine: AsyncEngine, account_id: UUID) -> Row | None:
    """Currency, posted, held and holder of one account: two primary-key reads in one
    statement."""
    return await read_one(engine, _BALANCE, account_id)


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


# A posting as the posting paths carry it: (account id, currency, amount in minor units).
Leg = tuple[UUID, str, int]
AuthorityRow = tuple[UUID, str, str, UUID | None, int]
"""One debit leg's authority: account, basis, principal, mandate (or None), amount."""

_TX_COLUMNS = (
    "id, seq, kind, effective_date, inserted_at, description, metadata, client_id, "
    "idempotency_key, reverses"
)
_INSERT_TRANSACTION = f"""
WITH tx AS (
    INSERT INTO transactions
        (id, kind, effective_date, description, metadata, client_id, idempotency_key, reverses)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)
    RETURNING {_TX_COLUMNS}
), legs AS (
    INSERT INTO postings (transaction_id, account_id, currency, amount)
    SELECT tx.id, leg.account_id, leg.currency, leg.amount
    FROM tx, unnest($9::uuid[], $10::text[], $11::bigint[])
        AS leg (account_id, currency, amount)
), events AS (
    INSERT INTO outbox (event_id, event_type, topic, key, payload)
    SELECT * FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::bytea[])
), authorities AS (
    INSERT INTO posting_authorities
        (transaction_id, account_id, basis, principal, mandate_id, amount)
    SELECT tx.id, g.account_id, g.basis, g.principal, g.mandate_id, g.amount
    FROM tx, unnest($17::uuid[], $18::text[], $19::text[], $20::uuid[], $21::bigint[])
        AS g (account_id, basis, principal, mandate_id, amount)
), remembered AS (
    UPDATE idempotency_keys k
    SET response = jsonb_build_object('replay', 'transaction', 'id', tx.id)
    FROM tx WHERE k.client_id = $6 AND k.key = $7 AND k.response IS NULL
)
SELECT tx.*, EXISTS (
    SELECT 1 FROM currency_reserves
    WHERE issuer_account = ANY($9::uuid[]) OR reserve_account = ANY($9::uuid[])
) AS touches_reserve
FROM tx
"""


async def insert_transaction(
    session: AsyncSession,
    *,
    legs: Sequence[Leg],
    authorities: Sequence[AuthorityRow],
    outbox: Sequence[OutboxRow] = (),
    **values: Any,
) -> Row:
    """A transaction, its postings, the authority of each debit leg (`services.ledger.authority`)
    and its outbox rows in one statement (one round trip).

    The postings' trigger reads the transaction row written by the same statement: a
    data-modifying CTE's rows reach the main query (and so the trigger) before it inserts.

    The row also says whether a leg touches a reserve configuration's issuer or reserve
    account (``touches_reserve``), so a plain transfer skips `check_reserves`' query: a
    round trip saved on every transfer. Exact because this statement runs after the caller
    locked the accounts' balance rows, and configuring a reserve locks the rows of the
    accounts it names: no configuration naming one of them can commit before ours.

    With an ``idempotency_key`` whose row this client claimed and has not answered yet,
    the same statement records the answer as this transaction (``{"replay":
    "transaction", "id": …}``, what `POST /transactions` replays); a caller that stores
    another answer overwrites it later in the same database transaction.
    """
    row = await fetchrow(
        session,
        _INSERT_TRANSACTION,
        values["id"],
        values["kind"],
        values["effective_date"],
        values.get("description", ""),
        jsonb_param(values.get("metadata") or {}),
        values["client_id"],
        values.get("idempotency_key"),
        values.get("reverses"),
        *columns(legs, 3),
        *columns(outbox, 5),
        *columns(authorities, 5),
    )
    assert row is not None
    return dict(row)


_TRANSACTIONS_BY_ID = f"SELECT {_TX_COLUMNS} FROM transactions WHERE id = ANY($1::uuid[])"
_POSTINGS_BY_TRANSACTION = """
SELECT transaction_id, account_id, currency, amount FROM postings
WHERE transaction_id = ANY($1::uuid[])
ORDER BY transaction_id, currency, account_id
"""


async def legs_of(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, list[Leg]]:
    """The legs (account, currency, amount) of each transaction, in canonical order (by
    currency, then account); one statement whatever the count."""
    legs: dict[UUID, list[Leg]] = {tx: [] for tx in ids}
    if ids:
        for leg in await fetch(session, _POSTINGS_BY_TRANSACTION, list(ids)):
            legs[leg["transaction_id"]].append((leg["account_id"], leg["currency"], leg["amount"]))
    return legs


async def transactions_with_legs(
    session: AsyncSession, ids: Sequence[UUID]
) -> dict[UUID, tuple[Row, list[Leg]]]:
    """Transactions by id (those that exist) with their legs; two statements whatever the
    count (one transaction read, or an idempotent replay of a batch)."""
    rows = await fetch(session, _TRANSACTIONS_BY_ID, list(ids))
    legs = await legs_of(session, [row["id"] for row in rows])
    return {row["id"]: (dict(row), legs[row["id"]]) for row in rows}


async def reversal_of(session: AsyncSession, transaction_id: UUID) -> UUID | None:
    stmt = select(transactions.c.id).where(transactions.c.reverses == transaction_id)
    return (await session.execute(stmt)).scalar_one_or_none()


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

    ``posted_at`` never decreases along an account's postings (ledger_0006), so the last
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


_RESERVES_TOUCHING = """
SELECT currency, issuer_account, reserve_account, external_account, fund_account
FROM currency_reserves
WHERE issuer_account = ANY($1::uuid[]) OR reserve_account = ANY($1::uuid[])
"""


async def reserves_touching(session: AsyncSession, ids: Sequence[UUID]) -> Sequence[Row]:
    """Reserve configurations whose issuer or reserve account is among ``ids``."""
    return await fetch(session, _RESERVES_TOUCHING, list(ids))


_POSTED = "SELECT account_id, posted FROM account_balances WHERE account_id = ANY($1::uuid[])"


async def posted_balances(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, int]:
    return {row["account_id"]: row["posted"] for row in await fetch(session, _POSTED, list(ids))}


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


_INSERT_TRANSACTIONS = f"""
INSERT INTO transactions (id, kind, effective_date, description, metadata, client_id)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::text[], $5::jsonb[], $6::text[])
RETURNING {_TX_COLUMNS}
"""
_INSERT_POSTINGS = """
WITH authorities AS (
    INSERT INTO posting_authorities
        (transaction_id, account_id, basis, principal, mandate_id, amount)
    SELECT * FROM unnest($5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::uuid[], $10::bigint[])
)
INSERT INTO postings (transaction_id, account_id, currency, amount)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[])
"""


async def insert_transaction_columns(
    session: AsyncSession,
    *,
    ids: Sequence[UUID],
    kinds: Sequence[str],
    effective_dates: Sequence[date],
    descriptions: Sequence[str],
    metadata: Sequence[str],
    client_id: str,
    legs: tuple[Sequence[UUID], Sequence[UUID], Sequence[str], Sequence[int]],
    authorities: Sequence[tuple[UUID, UUID, str, str, UUID | None, int]],
) -> list[asyncpg.Record]:
    """Many transactions (one column array per field; ``metadata`` as JSON text), their
    postings (transaction id, account id, currency, amount arrays) and the authority of
    their debit legs (transaction id, then an `AuthorityRow`) in two statements."""
    inserted = await fetch(
        session,
        _INSERT_TRANSACTIONS,
        ids,
        kinds,
        effective_dates,
        descriptions,
        metadata,
        [client_id] * len(ids),
    )
    await fetch(session, _INSERT_POSTINGS, *legs, *columns(authorities, 6))
    return inserted


_INSERT_OUTBOX = """
INSERT INTO outbox (event_id, event_type, topic, key, payload)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[])
"""


async def insert_outbox(session: AsyncSession, rows: Sequence[OutboxRow]) -> None:
    """Outbox rows, in order, in one statement."""
    if rows:
        await fetch(session, _INSERT_OUTBOX, *columns(rows, 5))
