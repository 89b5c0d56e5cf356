"""Transactional outbox: events are rows written in the same transaction as the state change
that causes them, then a relay publishes them.

One relay per service publishes at a time: it holds a PostgreSQL advisory lock on a
dedicated connection, so with two replicas the second stands by and per-key order is kept
(rows go out in ``position`` order). A relay killed between publishing and marking rows
sent publishes them again on restart; consumers de-duplicate through their inbox.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.db import plain_dsn
from shared.events.envelope import CONTENT_TYPE, Event, encode, new_event
from shared.events.metrics import EVENTS_PUBLISHED, EVENTS_RECORDED, OUTBOX_BACKLOG, RELAY_IS_LEADER
from shared.events.registry import EventPayload, topic_for
from shared.events.tables import OUTBOX_CHANNEL, outbox
from shared.events.transports.base import OutgoingRecord, Producer
from shared.observability import correlation_id_var
from shared.tracing import publish_spans

log = structlog.get_logger(__name__)


async def record_event(
    session: AsyncSession,
    payload: EventPayload,
    *,
    source: str,
    subject: str,
    correlation_id: str | None = None,
) -> Event:
    """Add an event to the outbox inside the caller's transaction; ``subject`` is the
    aggregate id and becomes the Kafka key."""
    event = new_event(
        payload,
        source=source,
        subject=subject,
        correlation_id=correlation_id or correlation_id_var.get(),
    )
    await session.execute(
        insert(outbox).values(
            event_id=event.id,
            event_type=event.type,
            topic=topic_for(event.type),
            key=subject,
            payload=encode(event),
        )
    )
    EVENTS_RECORDED.labels(event.type).inc()
    return event


def _relay_lock_key(service: str) -> int:
    return zlib.crc32(f"outbox-relay:{service}".encode())


# Called after a batch is published and before it is marked sent; fault tests use it to
# kill the relay in exactly that window.
AfterPublishHook = Callable[[list[int]], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        producer: Producer,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        coalesce_s: float = 0.02,
        after_publish: AfterPublishHook | None = None,
    ) -> None:
        self.service = service
        self.engine = engine
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.coalesce_s = coalesce_s
        self.after_publish = after_publish
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Run until cancelled: wait for leadership, then publish whenever woken."""
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception:
                RELAY_IS_LEADER.set(0)
                log.exception("outbox_relay_failed", service=self.service)
                await asyncio.sleep(self.poll_interval_s * 2)

    async def _lead(self) -> None:
        dsn = plain_dsn(self.engine.url.render_as_string(hide_password=False))
        conn: asyncpg.Connection = await asyncpg.connect(dsn)
        try:
            while not await conn.fetchval(
                "SELECT pg_try_advisory_lock($1)", _relay_lock_key(self.service)
            ):
                RELAY_IS_LEADER.set(0)
                await asyncio.sleep(self.poll_interval_s)
            RELAY_IS_LEADER.set(1)
            await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
            log.info("outbox_relay_leading", service=self.service)
            while True:
                self._wake.clear()
                while await self.publish_pending() == self.batch_size:
                    pass
                try:
                    async with asyncio.timeout(self.poll_interval_s):  # not wait_for: 3.11
                        await self._wake.wait()  # wait_for can swallow a cancellation
                except TimeoutError:
                    # The lock lives on this connection: check it is still alive.
                    await conn.fetchval("SELECT 1")
                else:
                    # Let the commits right behind this one join its batch: a round costs
                    # about the same for 1 event as for 50, and one round per commit took
                    # a tenth of a core at a few hundred commits a second.
                    await asyncio.sleep(self.coalesce_s)
        finally:
            RELAY_IS_LEADER.set(0)
            await conn.close(timeout=2)

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows in position order; return how many."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.position, outbox.c.topic, outbox.c.key, outbox.c.payload)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.position)
                    .limit(self.batch_size)
                )
            ).all()
            await conn.rollback()
        if not rows:
            OUTBOX_BACKLOG.set(0)
            return 0
        OUTBOX_BACKLOG.set(len(rows))
        headers = (("content-type", CONTENT_TYPE.encode()),)
        with publish_spans((r.topic, r.payload) for r in rows):
            await self.producer.send_many(
                [
                    OutgoingRecord(topic=r.topic, key=r.key, value=r.payload, headers=headers)
                    for r in rows
                ]
            )
        positions = [r.position for r in rows]
        if self.after_publish is not None:
            await self.after_publish(positions)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.position.in_(positions))
                .values(published_at=func.now())
            )
        for r in rows:
            EVENTS_PUBLISHED.labels(r.topic).inc()
        return len(rows)
