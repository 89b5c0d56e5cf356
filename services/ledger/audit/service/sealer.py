"""The sealer: appends committed transactions to their currencies' audit chains, after
commit, in its own short transactions, so posting never waits for the chain.

One sealer leads (a PostgreSQL advisory lock); a watermark keeps each round to the
transactions that may still be unsealed, and each new leader first seals any straggler
below it. Why, and what the watermark rests on: docs/decisions/ledger-audit-sealer.md.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.ledger.audit import repository as repo
from services.ledger.audit.rules.chain import link_hash
from shared.background import Hook, background_task, pause

log = structlog.get_logger(__name__)

LOCK_KEY = zlib.crc32(b"ledger-audit-sealer")
PAGE = 500
YIELD_EVERY = 25


async def seal_pending(
    factory: async_sessionmaker[AsyncSession], *, limit: int = PAGE, margin_s: float = 1.0
) -> int:
    """Seal one page of unsealed transactions; how many were sealed. Two transactions: the
    horizon is read before the sealing snapshot is taken (the watermark rule of the module
    docstring), then the page is sealed in that snapshot."""
    async with factory() as session, session.begin():
        cutoff = await repo.horizon(session) - timedelta(seconds=margin_s)
    async with factory() as session, session.begin():
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        watermark = await repo.lock_watermark(session)
        page = await repo.unsealed(session, after_seq=watermark, limit=limit)
        await repo.append_links(session, await _links(session, page))
        settled = await repo.settled_seq(session, after_seq=watermark, before=cutoff)
        upto = settled if settled is not None else watermark
        if len(page) == limit:
            upto = min(upto, page[-1]["seq"])
        # Written even when unchanged: a concurrent sealer waiting on this row then fails
        # at once on the update conflict instead of racing on stale reads.
        await repo.set_watermark(session, max(upto, watermark))
        return len(page)


async def seal_stragglers(factory: async_sessionmaker[AsyncSession], *, limit: int = PAGE) -> int:
    """Seal committed transactions at or below the watermark that have no link (none, if
    the watermark's assumptions hold); how many. Costs a full anti-join: leaders run it once."""
    total = 0
    while True:
        async with factory() as session, session.begin():
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            watermark = await repo.lock_watermark(session)
            page = await repo.unsealed(session, after_seq=0, upto_seq=watermark, limit=limit)
            await repo.append_links(session, await _links(session, page))
            await repo.set_watermark(session, watermark)
        total += len(page)
        if len(page) < limit:
            if total:
                log.warning("audit_stragglers_sealed", count=total)
            return total


async def _links(session: AsyncSession, page: Sequence[RowMapping]) -> list[dict[str, Any]]:
    legs = await repo.legs_by_currency(session, [r["id"] for r in page])
    currencies_of: dict[Any, set[str]] = {}
    for tx, currency in legs:
        currencies_of.setdefault(tx, set()).add(currency)
    heads: dict[str, tuple[int, str]] = {}
    links: list[dict[str, Any]] = []
    for n, row in enumerate(page, 1):
        if n % YIELD_EVERY == 0:
            # Hashing a full page in one go would hold the event loop long enough to delay
            # the requests this worker serves.
            await asyncio.sleep(0)
        for currency in sorted(currencies_of.get(row["id"], ())):
            if currency not in heads:
                heads[currency] = await repo.chain_head(session, currency)
            position, prev = heads[currency]
            item = repo.sealable(row, currency=currency, legs=legs[(row["id"], currency)])
            digest = link_hash(item, position=position + 1, prev_hash=prev)
            heads[currency] = (position + 1, digest)
            links.append(
                {
                    "currency": currency,
                    "position": position + 1,
                    "transaction_id": row["id"],
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
    return links


async def seal_all(factory: async_sessionmaker[AsyncSession], **options: Any) -> int:
    """Seal until a round finds less than a full page; the total sealed."""
    limit = options.get("limit", PAGE)
    total = 0
    while True:
        sealed = await seal_pending(factory, **options)
        total += sealed
        if sealed < limit:
            return total


async def run_sealer(
    engine: AsyncEngine,
    factory: async_sessionmaker[AsyncSession],
    *,
    interval_s: float,
    margin_s: float,
    stop: asyncio.Event,
) -> None:
    """Lead (advisory lock held on one connection) and seal every ``interval_s`` until
    ``stop``; replicas wait for the lock. A stop event, not cancellation, ends it, for the
    same reason as the hold sweeper: a cancelled query can stall the pool's disposal."""
    while not stop.is_set():
        try:
            async with engine.connect() as conn:
                try:
                    await _lead(conn, factory, interval_s=interval_s, margin_s=margin_s, stop=stop)
                finally:
                    await repo.release_leads(conn)
                    await conn.commit()
        except Exception:
            log.exception("audit_sealer_failed")
            await pause(stop, interval_s)


async def _lead(
    conn: Any,
    factory: async_sessionmaker[AsyncSession],
    *,
    interval_s: float,
    margin_s: float,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        got = await repo.try_lead(conn, LOCK_KEY)
        await conn.commit()
        if got:
            break
        await pause(stop, interval_s)
    if not stop.is_set():
        await seal_stragglers(factory)
    while not stop.is_set():
        try:
            sealed = await seal_all(factory, margin_s=margin_s)
            if sealed:
                log.debug("audit_sealed", count=sealed)
        except Exception:
            # A serialisation failure or a lost race is retried at the next round.
            log.warning("audit_seal_round_failed", exc_info=True)
        await pause(stop, interval_s)


def lifecycle(settings: Any) -> tuple[Hook, Hook]:
    """(on_startup, on_shutdown) hooks that run the sealer beside the app."""

    async def run(app: Any, stop: asyncio.Event) -> None:
        await run_sealer(
            app.state.engine,
            app.state.session_factory,
            interval_s=settings.audit_seal_interval_s,
            margin_s=settings.audit_seal_margin_s,
            stop=stop,
        )

    return background_task("audit-sealer", run, enabled=settings.run_background_tasks)
