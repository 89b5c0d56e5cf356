"""Events every process of a service must see, not one member of its consumer group.

A consumer group shares its topics' events between its members: right for work (one
replica applies a payment once), wrong for knowledge every replica needs in memory (which
tokens to refuse). A `BroadcastFollower` reads its topics under a group name unique to this
process, from the oldest retained event, so each replica sees every event and a restarted
one rebuilds its state from the topic. Effects are in memory only, hence no inbox: the
handlers must be idempotent (applying an event twice changes nothing).

Each process start leaves one consumer group behind: Kafka expires its offsets after
``offsets.retention.minutes`` (7 days by default); the embedded bus keeps one
``consumer_offsets`` row per topic. The topics followed this way carry rare events
(client revocations, key rotations), so replaying them at start-up is cheap.

Events are not trusted because they arrived: one whose ``source`` is not the topic's
owner is ignored and logged.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import structlog

from shared.events.envelope import EnvelopeError, Event, decode
from shared.events.registry import topic_for
from shared.events.transports import Consumer, Record, make_consumer
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

BatchHandler = Callable[[list[Event]], Awaitable[None]]


class BroadcastFollower:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        name: str,
        event_types: set[str],
        source: str,
        handle: BatchHandler,
        batch_size: int = 200,
    ) -> None:
        self.settings = settings
        self.group = f"{settings.service_name}-{name}-{uuid.uuid4().hex[:12]}"
        self.event_types = set(event_types)
        self.topics = sorted({topic_for(t) for t in self.event_types})
        self.source = source
        self.handle = handle
        self.batch_size = batch_size
        self.applied = 0
        self.caught_up = asyncio.Event()  # set after the first fetch that found nothing new

    async def run(self) -> None:
        """Follow until cancelled; reconnect after transport failures."""
        while True:
            consumer: Consumer | None = None
            try:
                consumer = make_consumer(self.settings, group=self.group, topics=self.topics)
                await consumer.start()
                while True:
                    records = await consumer.fetch(max_records=self.batch_size, timeout_s=1.0)
                    if not records:
                        self.caught_up.set()
                        continue
                    events = [e for e in map(self._decode, records) if e is not None]
                    if events:
                        await self.handle(events)
                        self.applied += len(events)
                    last_per_partition = {(r.topic, r.partition): r for r in records}
                    for record in last_per_partition.values():
                        await consumer.commit(record)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broadcast_follower_failed", group=self.group, error=repr(exc))
                await asyncio.sleep(1.0)
            finally:
                if consumer is not None:
                    try:
                        await consumer.stop()
                    except Exception as exc:
                        log.warning("broadcast_follower_stop_failed", error=repr(exc))

    def _decode(self, record: Record) -> Event | None:
        try:
            event = decode(record.value)
        except EnvelopeError as exc:
            log.warning("broadcast_event_undecodable", group=self.group, reason=exc.reason)
            return None
        if event.type not in self.event_types:
            return None
        if event.source != self.source:
            log.error(
                "broadcast_event_from_wrong_source",
                group=self.group,
                type=event.type,
                source=event.source,
                expected=self.source,
            )
            return None
        return event
