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
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.ledger.database.driver import columns, fetch, fetch_alone, fetchrow, jsonb_param
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
"""The outbox rows ($12-$16, one per event) and the head of the authorities insert of the
single transaction's statement (a group's are written by ``ledger_post_group``)."""


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


_POST_GROUP = """
SELECT * FROM ledger_post_group(
    $1::text[], $2::text[], $3::text[], $4::boolean[], $5::boolean[], $6::uuid[], $7::text[],
    $8::date[], $9::text[], $10::jsonb[], $11::int[], $12::int[], $13::int[], $14::uuid[],
    $15::text[], $16::bigint[], $17::int[], $18::text[], $19::int[], $20::text[], $21::text[],
    $22::text[], $23::text[], $24::text[], $25::timestamptz)
"""
"""A posting group in one statement, run as its own transaction: the function of
migration ``ledger_0021`` (its docstring says what each argument and outcome is)."""


@dataclass(slots=True)
class GroupArrays:
    """The arguments of ``ledger_post_group``, one list per column: per item (numbered from
    1 in the function), per leg, per operated currency, per event template."""

    client: list[str] = field(default_factory=list)
    key: list[str | None] = field(default_factory=list)
    digest: list[str] = field(default_factory=list)
    valid: list[bool] = field(default_factory=list)
    operates_all: list[bool] = field(default_factory=list)
    tx: list[UUID] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    effective: list[date] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    metadata: list[Mapping[str, Any]] = field(default_factory=list)
    leg_from: list[int] = field(default_factory=list)
    leg_to: list[int] = field(default_factory=list)
    leg_item: list[int] = field(default_factory=list)
    leg_account: list[UUID] = field(default_factory=list)
    leg_currency: list[str] = field(default_factory=list)
    leg_amount: list[int] = field(default_factory=list)
    op_item: list[int] = field(default_factory=list)
    op_currency: list[str] = field(default_factory=list)
    ev_item: list[int] = field(default_factory=list)
    ev_id: list[str] = field(default_factory=list)
    ev_type: list[str] = field(default_factory=list)
    ev_topic: list[str] = field(default_factory=list)
    ev_currency: list[str] = field(default_factory=list)
    ev_template: list[str] = field(default_factory=list)


FIELDS = fields(GroupArrays)


async def post_group(
    engine: AsyncEngine, arrays: GroupArrays, now: datetime
) -> list[asyncpg.Record]:
    """Post a group (``arrays``) in one round trip: one row per item, in order, with its
    outcome (and its transaction's columns when posted, its key's stored hash and answer
    when a replay). A database refusal (a constraint at commit) raises, nothing written."""
    metadata = [jsonb_param(m) for m in arrays.metadata]
    columns_ = [metadata if f.name == "metadata" else getattr(arrays, f.name) for f in FIELDS]
    return await fetch_alone(engine, _POST_GROUP, *columns_, now)


_POST_BATCH = """
SELECT * FROM ledger_post_batch(
    $1::text, $2::text, $3::text, $4::text[], $5::text[], $6::text[], $7::boolean[],
    $8::boolean[], $9::uuid[], $10::text[], $11::date[], $12::text[], $13::jsonb[], $14::int[],
    $15::int[], $16::int[], $17::uuid[], $18::text[], $19::bigint[], $20::int[], $21::text[],
    $22::int[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[],
    $28::timestamptz)
"""
"""An atomic batch in one statement, run as its own transaction: the function of migration
``ledger_0022`` (its docstring says what each argument and outcome is)."""


async def post_batch(
    engine: AsyncEngine,
    claim: tuple[str, str | None, str],
    arrays: GroupArrays,
    now: datetime,
) -> list[asyncpg.Record]:
    """Post an atomic batch (``arrays``, items without keys) and claim its key (``claim``:
    client, key or None, digest) in one round trip: one row per item when every item was
    posted, else one row, ``replay`` (the key's stored hash and answer) or ``fallback``
    (nothing written). A database refusal at commit raises, nothing written."""
    metadata = [jsonb_param(m) for m in arrays.metadata]
    columns_ = [metadata if f.name == "metadata" else getattr(arrays, f.name) for f in FIELDS]
    return await fetch_alone(engine, _POST_BATCH, *claim, *columns_, now)


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
