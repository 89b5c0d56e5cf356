"""Fan-out of stream rows to the SSE clients of this gateway process.

Each replica LISTENs on the gateway database and reads new ``stream_events`` rows in
position order, whichever replica's consumer wrote them. Each client has a bounded queue:
the hub never waits for a client; when a queue is full that client is dropped (its stream
ends with a ``dropped`` event, and EventSource reconnects with ``Last-Event-ID`` and
resumes from the table). A slow client therefore costs itself a reconnection and never
slows anyone else. A client has at most ``max_per_client`` streams open on a replica.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from prometheus_client import Counter, Gauge

from services.gateway.stream import repository
from services.gateway.stream.errors import TooManyStreams
from services.gateway.stream.rules import Tags, is_visible
from shared.auth import Principal

log = structlog.get_logger(__name__)

CHANNEL = "proxima_gateway_stream"
BATCH = 500
STREAM_CLIENTS = Gauge("proxima_gateway_stream_clients", "Connected SSE clients")
STREAM_DROPPED = Counter("proxima_gateway_stream_dropped_total", "SSE clients dropped (slow)")
STREAM_SENT = Counter("proxima_gateway_stream_items_total", "Stream items queued to clients")
STREAM_REFUSED = Counter(
    "proxima_gateway_stream_refused_total", "SSE connections refused (per-client limit)"
)
STREAM_CLOSED = Counter(
    "proxima_gateway_stream_closed_total",
    "SSE streams closed by the gateway because their token expired or was revoked",
    ["reason"],
)


@dataclass(frozen=True, slots=True)
class StreamItem:
    position: int
    tags: Tags
    payload: str

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> StreamItem:
        occurred = row["occurred_at"]
        body = {
            "position": row["position"],
            "type": row["event_type"],
            "territory": row["territory"],
            "currency": row["currency"],
            "programme": row["programme"],
            "occurred_at": occurred.isoformat() if isinstance(occurred, datetime) else occurred,
            "data": row["data"] if isinstance(row["data"], dict) else json.loads(row["data"]),
        }
        tags = Tags(
            territory=row["territory"], currency=row["currency"], programme=row["programme"]
        )
        return cls(row["position"], tags, json.dumps(body, separators=(",", ":")))


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    queue: asyncio.Queue[StreamItem | None]
    dropped: bool = field(default=False)


class StreamHub:
    def __init__(self, *, queue_size: int, max_per_client: int = 5) -> None:
        self.queue_size = queue_size
        self.max_per_client = max_per_client
        self.subscribers: set[Subscriber] = set()
        self.per_client: dict[str, int] = {}
        self.last_position = 0

    def subscribe(self, principal: Principal) -> Subscriber:
        """A new client queue; `TooManyStreams` if this client has its maximum open."""
        client_id = principal.client_id
        if self.per_client.get(client_id, 0) >= self.max_per_client:
            STREAM_REFUSED.inc()
            raise TooManyStreams(client_id, self.max_per_client)
        subscriber = Subscriber(principal, asyncio.Queue(maxsize=self.queue_size))
        self.subscribers.add(subscriber)
        self.per_client[client_id] = self.per_client.get(client_id, 0) + 1
        STREAM_CLIENTS.set(len(self.subscribers))
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber not in self.subscribers:
            return
        self.subscribers.discard(subscriber)
        client_id = subscriber.principal.client_id
        left = self.per_client.get(client_id, 1) - 1
        if left > 0:
            self.per_client[client_id] = left
        else:
            self.per_client.pop(client_id, None)
        STREAM_CLIENTS.set(len(self.subscribers))

    def dispatch(self, items: Iterable[StreamItem]) -> None:
        """Queue each item for every client allowed to see it; never waits."""
        for item in items:
            self.last_position = max(self.last_position, item.position)
            for subscriber in list(self.subscribers):
                if not is_visible(subscriber.principal, item.tags):
                    continue
                try:
                    subscriber.queue.put_nowait(item)
                    STREAM_SENT.inc()
                except asyncio.QueueFull:
                    self._drop(subscriber)

    def _drop(self, subscriber: Subscriber) -> None:
        subscriber.dropped = True
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        subscriber.queue.put_nowait(None)  # wakes the client's generator, which ends
        self.unsubscribe(subscriber)
        STREAM_DROPPED.inc()
        log.warning("stream_client_dropped", client=subscriber.principal.client_id)

    async def run(self, dsn: str, *, poll_interval_s: float) -> None:
        """Follow the table until cancelled; reconnect after database failures without
        losing rows (reading resumes after the last position dispatched)."""
        first = True
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(dsn)
                wake = asyncio.Event()
                await conn.add_listener(CHANNEL, lambda *_, w=wake: w.set())
                if first:
                    self.last_position = await repository.latest_position(conn)
                    first = False
                while True:
                    wake.clear()
                    while await self._pump(conn) == BATCH:
                        pass
                    try:
                        async with asyncio.timeout(poll_interval_s):  # not wait_for (3.11)
                            await wake.wait()
                    except TimeoutError:
                        pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("stream_hub_reconnecting", error=repr(exc))
                await asyncio.sleep(1.0)
            finally:
                if conn is not None:
                    await conn.close(timeout=2)

    async def _pump(self, conn: asyncpg.Connection) -> int:
        rows = await repository.fetch_after(conn, position=self.last_position, limit=BATCH)
        self.dispatch(StreamItem.of(row) for row in rows)
        return len(rows)
