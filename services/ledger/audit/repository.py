"""Every SQL statement of the audit: what the sealer appends to the chains, what
verification reads back, and the sealed journal the exports stream."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.ledger.audit.rules.chain import GENESIS, Sealable, StoredLink
from services.ledger.database.tables import (
    accounts,
    audit_chain,
    audit_sealer_state,
    postings,
    transactions,
)

_sealed = (
    select(audit_chain.c.transaction_id)
    .where(audit_chain.c.transaction_id == transactions.c.id)
    .exists()
)


async def try_lead(conn: AsyncConnection, lock_key: int) -> bool:
    """Take the sealer's advisory lock on ``conn`` if no other sealer holds it."""
    stmt = text("SELECT pg_try_advisory_lock(:key)")
    return bool((await conn.execute(stmt, {"key": lock_key})).scalar())


async def release_leads(conn: AsyncConnection) -> None:
    """Release every advisory lock ``conn`` holds."""
    await conn.execute(text("SELECT pg_advisory_unlock_all()"))


async def horizon(session: AsyncSession) -> datetime:
    """Start of the oldest other transaction open in this database right now (or now).

    A transaction still uncommitted now was begun at or after this instant, so every row
    it inserts carries ``inserted_at`` at or after it (``clock_timestamp()`` at insert).
    Needs the ledger's sessions to be visible: one database role, or ``pg_read_all_stats``.
    Only client backends write transactions: an autovacuum worker's long run would
    otherwise hold the watermark back.
    """
    stmt = text(
        "SELECT coalesce(min(xact_start), clock_timestamp()) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )
    value: datetime = (await session.execute(stmt)).scalar_one()
    return value


async def lock_watermark(session: AsyncSession) -> int:
    """The sealer's watermark, row-locked: a second sealer waits here, then fails its round."""
    stmt = select(audit_sealer_state.c.watermark_seq).where(audit_sealer_state.c.id == 1)
    return int((await session.execute(stmt.with_for_update())).scalar_one())


async def set_watermark(session: AsyncSession, seq: int) -> None:
    await session.execute(
        update(audit_sealer_state)
        .where(audit_sealer_state.c.id == 1)
        .values(watermark_seq=seq, updated_at=func.now())
    )


async def unsealed(
    session: AsyncSession, *, after_seq: int, limit: int, upto_seq: int | None = None
) -> Sequence[RowMapping]:
    """Committed transactions in ``(after_seq, upto_seq]`` with no link yet, by ``seq``."""
    stmt = (
        select(
            transactions.c.id,
            transactions.c.seq,
            transactions.c.kind,
            transactions.c.effective_date,
            transactions.c.inserted_at,
            transactions.c.reverses,
        )
        .where(transactions.c.seq > after_seq, ~_sealed)
        .order_by(transactions.c.seq)
        .limit(limit)
    )
    if upto_seq is not None:
        stmt = stmt.where(transactions.c.seq <= upto_seq)
    return (await session.execute(stmt)).mappings().all()


async def settled_seq(session: AsyncSession, *, after_seq: int, before: datetime) -> int | None:
    """Highest ``seq`` above ``after_seq`` of a transaction inserted before ``before``."""
    stmt = (
        select(transactions.c.seq)
        .where(transactions.c.seq > after_seq, transactions.c.inserted_at < before)
        .order_by(transactions.c.seq.desc())
        .limit(1)
    )
    value: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return value


async def legs_by_currency(
    session: AsyncSession, transaction_ids: Sequence[UUID], *, currency: str | None = None
) -> dict[tuple[UUID, str], list[tuple[UUID, int]]]:
    """Postings of ``transaction_ids`` grouped by (transaction, currency)."""
    found: dict[tuple[UUID, str], list[tuple[UUID, int]]] = defaultdict(list)
    if not transaction_ids:
        return found
    stmt = select(
        postings.c.transaction_id, postings.c.currency, postings.c.account_id, postings.c.amount
    ).where(postings.c.transaction_id.in_(transaction_ids))
    if currency is not None:
        stmt = stmt.where(postings.c.currency == currency)
    for row in (await session.execute(stmt)).all():
        found[(row.transaction_id, row.currency)].append((row.account_id, row.amount))
    return found


async def chain_head(session: AsyncSession, currency: str) -> tuple[int, str]:
    """(position, hash) of the currency's last link; (0, genesis) for an empty chain."""
    stmt = (
        select(audit_chain.c.position, audit_chain.c.hash)
        .where(audit_chain.c.currency == currency)
        .order_by(audit_chain.c.position.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    return (0, GENESIS) if row is None else (int(row.position), str(row.hash))


_APPEND_LINKS = text(
    """
    INSERT INTO audit_chain (currency, position, transaction_id, prev_hash, hash)
    SELECT * FROM unnest(
        CAST(:currency AS text[]), CAST(:position AS bigint[]), CAST(:transaction_id AS uuid[]),
        CAST(:prev_hash AS text[]), CAST(:hash AS text[])
    )
    """
)


async def append_links(session: AsyncSession, links: Sequence[dict[str, Any]]) -> None:
    """One statement for a whole page of links (a row per statement cost PostgreSQL more
    than the postings the links describe)."""
    if links:
        columns = ("currency", "position", "transaction_id", "prev_hash", "hash")
        await session.execute(_APPEND_LINKS, {c: [link[c] for link in links] for c in columns})


async def chain_page(
    session: AsyncSession, *, currency: str, after_position: int, limit: int
) -> list[StoredLink]:
    stmt = (
        select(audit_chain)
        .where(audit_chain.c.currency == currency, audit_chain.c.position > after_position)
        .order_by(audit_chain.c.position)
        .limit(limit)
    )
    return [
        StoredLink(r.position, r.transaction_id, r.prev_hash, r.hash)
        for r in (await session.execute(stmt)).all()
    ]


async def sealables(
    session: AsyncSession, *, currency: str, transaction_ids: Sequence[UUID]
) -> dict[UUID, Sealable]:
    """The transactions as a link of ``currency`` commits to them (only those that exist
    and have postings in that currency)."""
    if not transaction_ids:
        return {}
    stmt = select(transactions).where(transactions.c.id.in_(transaction_ids))
    rows = (await session.execute(stmt)).mappings().all()
    legs = await legs_by_currency(session, transaction_ids, currency=currency)
    return {
        r["id"]: sealable(r, currency=currency, legs=legs[(r["id"], currency)])
        for r in rows
        if legs.get((r["id"], currency))
    }


def sealable(row: RowMapping, *, currency: str, legs: Sequence[tuple[UUID, int]]) -> Sealable:
    return Sealable(
        currency=currency,
        transaction_id=row["id"],
        kind=row["kind"],
        effective_date=row["effective_date"],
        inserted_at=row["inserted_at"],
        reverses=row["reverses"],
        postings=tuple(legs),
    )


async def count_unsealed(
    session: AsyncSession, *, currency: str, effective_through: date | None = None
) -> int:
    """Committed transactions touching ``currency`` not yet in its chain (all of them lie
    above the sealer's watermark, which keeps this cheap); with ``effective_through``,
    only those dated on or before it."""
    watermark = select(audit_sealer_state.c.watermark_seq).where(audit_sealer_state.c.id == 1)
    touches = (
        select(postings.c.transaction_id)
        .where(postings.c.transaction_id == transactions.c.id, postings.c.currency == currency)
        .exists()
    )
    stmt = select(func.count()).where(
        transactions.c.seq > watermark.scalar_subquery(), touches, ~_sealed
    )
    if effective_through is not None:
        stmt = stmt.where(transactions.c.effective_date <= effective_through)
    return int((await session.execute(stmt)).scalar_one())


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
