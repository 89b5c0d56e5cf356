"""Two transports behind one interface: ``kafka`` (aiokafka) and ``embedded`` (a
PostgreSQL-backed log). The same contract tests run against both."""

from __future__ import annotations

from collections.abc import Sequence

from shared.events.transports.base import Consumer, OutgoingRecord, Producer, Record
from shared.settings import ServiceSettings

__all__ = ["Consumer", "OutgoingRecord", "Producer", "Record", "make_consumer", "make_producer"]


def make_producer(settings: ServiceSettings) -> Producer:
    """A producer writing as ``settings.service_name`` (its Kafka principal authenticates
    it; the embedded log records the name on every row)."""
    if settings.event_bus == "kafka":
        from shared.events.transports.kafka import KafkaConnection, KafkaProducer, TopicSpec

        return KafkaProducer(
            KafkaConnection.from_settings(settings),
            service=settings.service_name,
            topics=TopicSpec.from_settings(settings),
        )
    from shared.events.transports.embedded import EmbeddedProducer

    return EmbeddedProducer(settings.events_database_url, service=settings.service_name)


def make_consumer(settings: ServiceSettings, *, group: str, topics: Sequence[str]) -> Consumer:
    if settings.event_bus == "kafka":
        from shared.events.transports.kafka import KafkaConnection, KafkaConsumer, TopicSpec

        return KafkaConsumer(
            KafkaConnection.from_settings(settings),
            service=settings.service_name,
            group=group,
            topics=topics,
            spec=TopicSpec.from_settings(settings),
        )
    from shared.events.transports.embedded import EmbeddedConsumer

    return EmbeddedConsumer(settings.events_database_url, group=group, topics=topics)
