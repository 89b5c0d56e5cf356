"""The embedded bus: an append-only log in a PostgreSQL database, for ``make run`` with no
broker. Hand-rolled on purpose: it is ~150 lines, needs no infrastructure beyond the
PostgreSQL we already run, and gives the same delivery contract as Kafka (ordered per
topic, consumer-group offsets, at-least-once), which the shared contract tests check.

Each row records the service that appended it (the producer's ``PROXIMA_SERVICE_NAME``),
and consumers apply the rule Kafka's ACLs apply on the broker: only a topic's owner writes
to it (``shared/events/trust.py``). The log has no authentication of its own: it lives in a
database only the services reach, like the rest of ``make run``.

One member of a consumer group reads at a time (a PostgreSQL advisory lock per group);
other members stand by and take over if it dies, like a single-partition Kafka topic.
LISTEN/NOTIFY wakes readers as soon as a record is appended.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Sequence

import asyncpg

from shared.db import plain_dsn
from shared.events.transports.base import OutgoingRecord, Record

CHANNEL = "proxima_event_log"

# The log is a broker stand-in, not a service's schema, so it creates its own tables the
# way Kafka creates its own topics; a lock makes concurrent first starts safe.
SCHEMA = f"""
SELECT pg_advisory_xact_lock(727001);
CREATE TABLE IF NOT EXISTS event_log (
    position bigserial PRIMARY KEY,
    topic text NOT NULL,
    key text NOT NULL,
    value bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '[]',
    appended_at timestamptz NOT NULL DEFAULT now(),
    producer text
);
DO $$ BEGIN
    -- A log created before rows recorded their producer (checked first: ALTER TABLE would
    -- lock the log on every start even when there is nothing to add).
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'event_log'::regclass
                   AND attname = 'producer' AND NOT attisdropped) THEN
        ALTER TABLE event_log ADD COLUMN producer text;
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS event_log_topic_position ON event_log (topic, position);
CREATE TABLE IF NOT EXISTS consumer_offsets (
    group_id text NOT NULL,
    topic text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (group_id, topic)
);
CREATE OR REPLACE FUNCTION event_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$;
DROP TRIGGER IF EXISTS event_log_appended ON event_log;
CREATE TRIGGER event_log_appended AFTER INSERT ON event_log
    FOR EACH STATEMENT EXECUTE FUNCTION event_log_notify();
"""


async def ensure_schema(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        await conn.execute(SCHEMA)


def _group_lock_key(group: str) -> int:
    return zlib.crc32(f"embedded-group:{group}".encode())


class EmbeddedProducer:
    def __init__(self, database_url: str, *, service: str) -> None:
        self.dsn = plain_dsn(database_url)
        self.service = service
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=4)
        async with self._pool.acquire() as conn:
            await ensure_schema(conn)

    async def stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                async with asyncio.timeout(5):
                    await pool.close()
            except TimeoutError:
                pool.terminate()  # a connection still held by a cancelled task

    async def send_many(self, records: Sequence[OutgoingRecord]) -> None:
        assert self._pool is not None, "producer not started"
        if not records:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            # Appends are serialised so positions become visible in order: a reader that
            # has seen position N can never later find a committed position below N.
            await conn.execute("SELECT pg_advisory_xact_lock(727002)")
            # One statement for the whole batch: a row per statement cost more than the
            # rows themselves under load.
            await conn.execute(
                "INSERT INTO event_log (topic, key, value, headers, producer)"
                " SELECT t, k, v, h::jsonb, $5 FROM unnest($1::text[], $2::text[], $3::bytea[],"
                " $4::text[]) AS r(t, k, v, h)",
                [r.topic for r in records],
                [r.key for r in records],
                [r.value for r in records],
                [json.dumps([[k, v.decode("latin-1")] for k, v in r.headers]) for r in records],
                self.service,
            )

    async def ping(self) -> None:
        assert self._pool is not None, "producer not started"
        async with self._pool.acquire() as conn:
            await conn.fetchval("SELECT 1")


class EmbeddedConsumer:
    def __init__(self, database_url: str, *, group: str, topics: Sequence[str]) -> None:
        self.dsn = plain_dsn(database_url)
        self.group = group
        self.topics = list(topics)
        self._conn: asyncpg.Connection | None = None
        self._wake = asyncio.Event()
        self._leader = False

    async def start(self) -> None:
        self._conn = await asyncpg.connect(self.dsn)
        await ensure_schema(self._conn)
        await self._conn.add_listener(CHANNEL, self._on_notify)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._leader = False
            await conn.close(timeout=5)

    async def _ensure_leader(self) -> bool:
        assert self._conn is not None
        if not self._leader:
            self._leader = bool(
                await self._conn.fetchval(
                    "SELECT pg_try_advisory_lock($1)", _group_lock_key(self.group)
                )
            )
        return self._leader

    async def fetch(self, *, max_records: int, timeout_s: float) -> list[Record]:
        assert self._conn is not None, "consumer not started"
        if await self._ensure_leader():
            rows = await self._read(max_records)
            if rows:
                return rows
        self._wake.clear()
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that lands as the wait completes, and the task never stops.
            async with asyncio.timeout(timeout_s):
                await self._wake.wait()
        except TimeoutError:
            pass
        if not await self._ensure_leader():
            return []
        return await self._read(max_records)

    async def _read(self, max_records: int) -> list[Record]:
        assert self._conn is not None
        # One index range per subscribed topic, from the group's offset: the log holds
        # every service's events, and a join on the offsets made PostgreSQL scan all of it
        # on each wake-up (1.2 ms a read at 13,000 records, a quarter of a core under load).
        rows = await self._conn.fetch(
            """
            SELECT l.position, l.topic, l.key, l.value, l.headers, l.producer
            FROM unnest($2::text[]) AS s(topic)
            CROSS JOIN LATERAL (
                SELECT e.position, e.topic, e.key, e.value, e.headers, e.producer
                FROM event_log e
                WHERE e.topic = s.topic
                  AND e.position > COALESCE(
                      (SELECT o.position FROM consumer_offsets o
                       WHERE o.group_id = $1 AND o.topic = s.topic), 0)
                ORDER BY e.position
                LIMIT $3
            ) AS l
            ORDER BY l.position
            LIMIT $3
            """,
            self.group,
            self.topics,
            max_records,
        )
        return [
            Record(
                topic=r["topic"],
                partition=0,
                offset=r["position"],
                key=r["key"],
                value=bytes(r["value"]),
                headers=tuple((k, v.encode("latin-1")) for k, v in json.loads(r["headers"])),
                producer=r["producer"] or "",
            )
            for r in rows
        ]

    async def commit(self, record: Record) -> None:
        assert self._conn is not None, "consumer not started"
        await self._conn.execute(
            """
            INSERT INTO consumer_offsets (group_id, topic, position) VALUES ($1, $2, $3)
            ON CONFLICT (group_id, topic) DO UPDATE SET position = GREATEST(
                consumer_offsets.position, EXCLUDED.position)
            """,
            self.group,
            record.topic,
            record.offset,
        )
