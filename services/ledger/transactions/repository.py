"""Every SQL statement of the posting path: lock the balance rows, insert transactions with
their postings, authority rows and outbox rows, read them back.

Locking discipline (why concurrent transfers never deadlock): a writer locks the
``account_balances`` rows it will touch with one ``SELECT … FOR UPDATE`` ordered by account
id, before any write. Hold rows and credit lots, when needed, are locked first.

The statements are fixed SQL strings run on the request's asyncpg connection
(`services.ledger.database.driver`; why: docs/decisions/ledger-asyncpg-fast-path.md).
``bench/ledger/db_floor.py`` replays the constants with pgbench.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.driver import columns, fetch, fetchrow, jsonb_param
from services.ledger.database.tables import credit_lots, lot_draws, postings, transactions
from services.ledger.transactions.events import OutboxRow

Row = Mapping[str, Any]


def _lock(ids: str, *, after: str = "true") -> str:
    """Lock the balance rows of the accounts in the array ``ids``, in id order, once the
    condition ``after`` holds (evaluated once, before the first row is locked)."""
    return f"""
SELECT a.id, a.currency, a.type, a.status, a.name, a.credit_limit, a.territory,
       a.merchant_category, a.metadata, a.created_at, a.holder,
       b.posted, b.held, b.lower_bound, b.upper_bound
FROM account_balances b JOIN accounts a ON a.id = b.account_id
WHERE b.account_id = ANY({ids}) AND {after}
ORDER BY b.account_id
FOR UPDATE OF b
"""


_LOCK_ACCOUNTS = _lock("$1::uuid[]")


async def lock_accounts(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Row]:
    """Lock the balance rows of ``ids`` in id order; the accounts found, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await fetch(session, _LOCK_ACCOUNTS, wanted)
    return {row["id"]: dict(row) for row in rows}


_CLAIM_AND_LOCK = f"""
WITH claimed AS (
    INSERT INTO idempotency_keys (client_id, key, request_hash)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ORDER BY 1, 2
    ON CONFLICT DO NOTHING RETURNING client_id, key
), claims AS (
    SELECT array_agg(client_id) AS claimed_clients, array_agg(key) AS claimed_keys FROM claimed
), locked AS (
    {_lock("$4::uuid[]", after="(SELECT true FROM claims)")}
)
SELECT claims.claimed_clients, claims.claimed_keys, locked.*
FROM claims LEFT JOIN locked ON true
"""
"""The group's claim (the statement of `idempotency.repository.claim_idempotency_keys`,
in (client, key) order) then `_LOCK_ACCOUNTS`, in one statement. The lock's one-time filter on
``claims`` makes PostgreSQL finish the claim (and any wait on a concurrent claim of the
same key) before it locks the first balance row: keys before balances, the order every
posting path takes, so this statement deadlocks no one. One row per account locked (or a
single row of NULL account columns), each carrying the pairs claimed now. The accounts'
columns are read in the statement's snapshot, the balance rows' once locked, as in
`_LOCK_ACCOUNTS`; the snapshot is older only when the claim waited, for a key another
transaction was claiming, which is then a replay or a refusal, not posted."""


async def claim_and_lock(
    session: AsyncSession, claims: list[tuple[str, str, str]], ids: Iterable[UUID]
) -> tuple[set[tuple[str, str]], dict[UUID, Row]]:
    """Claim ``claims`` (client, key, request hash; distinct pairs) and lock the balance
    rows of ``ids`` in id order, in one round trip: the pairs claimed now (the others were
    claimed before: `idempotency.service.settle_claims` reads them) and the accounts found, by
    id, as `lock_accounts` gives them."""
    columns = [list(c) for c in zip(*claims, strict=True)] if claims else [[], [], []]
    rows = await fetch(session, _CLAIM_AND_LOCK, *columns, sorted(set(ids)))
    first = rows[0]
    claimed: set[tuple[str, str]] = set(
        zip(first["claimed_clients"] or (), first["claimed_keys"] or (), strict=True)
    )
    locked: dict[UUID, Row] = {
        row["id"]: {k: v for k, v in row.items() if not k.startswith("claimed_")}
        for row in rows
        if row["id"] is not None
    }
    return claimed, locked


# A posting as the posting paths carry it: (account id, currency, amount in minor units).
Leg = tuple[UUID, str, int]
AuthorityRow = tuple[UUID, str, str, UUID | None, int]
"""One debit leg's authority: account, basis, principal, mandate (or None), amount."""


_TX_COLUMNS = (
    "id, seq, kind, effective_date, inserted_at, description, metadata, client_id, "
    "idempotency_key, reverses"
)


_EVENTS_THEN_AUTHORITIES = """events AS (
    INSERT INTO outbox (event_id, event_type, topic, key, payload)
    SELECT * FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::bytea[])
), authorities AS (
    INSERT INTO posting_authorities
        (transaction_id, account_id, basis, principal, mandate_id, amount)"""
"""The outbox rows ($12-$16, one per event) and the head of the authorities insert, alike in
the single and the grouped statement (they number their parameters the same way)."""


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
), {_EVENTS_THEN_AUTHORITIES}
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


_INSERT_GROUP = f"""
WITH tx AS (
    INSERT INTO transactions
        (id, kind, effective_date, description, metadata, client_id, idempotency_key)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::text[], $5::jsonb[],
                         $6::text[], $7::text[])
    RETURNING {_TX_COLUMNS}
), legs AS (
    INSERT INTO postings (transaction_id, account_id, currency, amount)
    SELECT leg.transaction_id, leg.account_id, leg.currency, leg.amount
    FROM unnest($8::uuid[], $9::uuid[], $10::text[], $11::bigint[])
        AS leg (transaction_id, account_id, currency, amount)
    JOIN tx ON tx.id = leg.transaction_id
), {_EVENTS_THEN_AUTHORITIES}
    SELECT g.*
    FROM unnest($17::uuid[], $18::uuid[], $19::text[], $20::text[], $21::uuid[], $22::bigint[])
        AS g (transaction_id, account_id, basis, principal, mandate_id, amount)
    JOIN tx ON tx.id = g.transaction_id
), remembered AS (
    UPDATE idempotency_keys k
    SET response = jsonb_build_object('replay', 'transaction', 'id', tx.id)
    FROM tx WHERE k.client_id = tx.client_id AND k.key = tx.idempotency_key
      AND k.response IS NULL
), released AS (
    DELETE FROM idempotency_keys k
    USING unnest($23::text[], $24::text[]) AS r (client_id, key)
    WHERE k.client_id = r.client_id AND k.key = r.key AND k.response IS NULL
)
SELECT tx.*, EXISTS (
    SELECT 1 FROM currency_reserves
    WHERE issuer_account = ANY($9::uuid[]) OR reserve_account = ANY($9::uuid[])
) AS touches_reserve
FROM tx
"""


async def insert_group(
    session: AsyncSession,
    *,
    transactions: Sequence[tuple[UUID, str, date, str, Mapping[str, Any], str, str | None]],
    legs: Sequence[tuple[UUID, UUID, str, int]],
    outbox: Sequence[OutboxRow],
    authorities: Sequence[tuple[UUID, UUID, str, str, UUID | None, int]],
    released: Sequence[tuple[str, str]],
) -> list[asyncpg.Record]:
    """A group of independent requests' transactions in one statement (one round trip):
    ``transactions`` as (id, kind, effective date, description, metadata, client id,
    idempotency key), their ``legs`` (transaction id, account, currency, amount), outbox
    rows and debit authorities (transaction id, then an `AuthorityRow`); each key the
    group claimed is answered with its transaction, and the claims of the group's refused
    requests (``released``: client, key) are given back, as a refused request's rollback
    gives its claim back. The rows say whether a leg touches a reserve configuration
    (see `insert_transaction`).

    ``transactions`` rows and the postings' trigger: a row of ``tx`` reaches the join
    (and so the trigger, which reads it) only once inserted."""
    tx_columns = columns(transactions, 7)
    tx_columns[4] = [jsonb_param(metadata) for metadata in tx_columns[4]]
    return await fetch(
        session,
        _INSERT_GROUP,
        *tx_columns,
        *columns(legs, 4),
        *columns(outbox, 5),
        *columns(authorities, 6),
        *columns(released, 2),
    )


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
    metadata: Sequence[Mapping[str, Any]],
    client_id: str,
    legs: tuple[Sequence[UUID], Sequence[UUID], Sequence[str], Sequence[int]],
    authorities: Sequence[tuple[UUID, UUID, str, str, UUID | None, int]],
) -> list[asyncpg.Record]:
    """Many transactions (one column array per field), their postings (transaction id,
    account id, currency, amount arrays) and the authority of their debit legs (transaction
    id, then an `AuthorityRow`) in two statements."""
    inserted = await fetch(
        session,
        _INSERT_TRANSACTIONS,
        ids,
        kinds,
        effective_dates,
        descriptions,
        [jsonb_param(m) for m in metadata],
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


async def check_debt_caps_now(session: AsyncSession) -> None:
    """Run the deferred debt-cap check on what this transaction wrote so far, then defer it
    again so postings written later are checked as a whole too."""
    await session.execute(text("SET CONSTRAINTS tr_currency_debt_cap IMMEDIATE"))
    await session.execute(text("SET CONSTRAINTS tr_currency_debt_cap DEFERRED"))


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


async def reversed_by(session: AsyncSession, transaction_id: UUID) -> UUID | None:
    """The id of the transaction reversing ``transaction_id``, if any."""
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


async def is_programme_movement(session: AsyncSession, transaction_id: UUID) -> bool:
    """True if the transaction granted a lot or drew on one."""
    granted = select(credit_lots.c.id).where(credit_lots.c.grant_transaction == transaction_id)
    drawn = select(lot_draws.c.lot_id).where(lot_draws.c.transaction_id == transaction_id)
    stmt = select(granted.exists() | drawn.exists())
    return bool((await session.execute(stmt)).scalar_one())
