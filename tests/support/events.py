"""Publishing events in tests the way their producer would: from the service that owns the
event's topic, under its source. Consumers dead-letter anything else (see
``shared/events/trust.py``), so a test that injects an event must say who produced it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from shared.events.envelope import Event, encode, new_event
from shared.events.registry import EventPayload, producer_of, source_for, topic_for
from shared.events.transports import OutgoingRecord, Producer, make_producer
from shared.settings import ServiceSettings


def owned_event(payload: EventPayload, *, subject: str) -> Event:
    """An envelope whose source is the service that produces ``payload``'s type."""
    return new_event(payload, source=source_for(producer_of(payload.event_type)), subject=subject)


def record_of(event: Event) -> OutgoingRecord:
    return OutgoingRecord(topic=topic_for(event.type), key=event.subject, value=encode(event))


def producer_as(settings: ServiceSettings, service: str, *, kafka: Any | None = None) -> Producer:
    """A producer (not started) writing as ``service`` on the bus ``settings`` names: the
    embedded log records the name; on Kafka it authenticates as that service's principal of
    the test broker ``kafka``."""
    values: dict[str, Any] = {
        "service_name": service,
        "event_bus": settings.event_bus,
        "events_database_url": settings.events_database_url,
    }
    if settings.event_bus == "kafka":
        if kafka is None:
            raise ValueError("publishing on Kafka needs the broker, for the owner's credentials")
        values.update(kafka.client_settings(service))
    return make_producer(ServiceSettings(**values))


async def publish_as_owner(
    settings: ServiceSettings, events: Sequence[Event], *, kafka: Any | None = None
) -> None:
    """Publish ``events`` on their family topics, each by the service that owns it."""
    by_owner: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_owner[producer_of(event.type)].append(event)
    for owner, owned in by_owner.items():
        producer = producer_as(settings, owner, kafka=kafka)
        await producer.start()
        try:
            await producer.send_many([record_of(e) for e in owned])
        finally:
            await producer.stop()
