"""Two transports behind one interface: ``kafka`` (aiokafka) and ``embedded`` (a
PostgreSQL-backed log). The same contract tests run against both."""

from __future__ import annotations

from collections.abc import Sequence

from shared.events.transports.base import Consumer, OutgoingRecord, Producer, Record
from shared.settings import ServiceSettings

__all__ = ["Consumer", "OutgoingRecord", "Producer", "Record", "make_consumer", "make_producer"]


def make_producer(settings: ServiceSettings) -> Producer:
    if settings.event_bus == "kafka":
        from shared.events.transports.kafka import KafkaProducer

        return KafkaProducer(bootstrap=settings.kafka_bootstrap, client_id=settings.service_name)
    from shared.events.transports.embedded import EmbeddedProducer

    return EmbeddedProducer(settings.events_database_url)


def make_consumer(settings: ServiceSettings, *, group: str, topics: Sequence[str]) -> Consumer:
    if settings.event_bus == "kafka":
        from shared.events.transports.kafka import KafkaConsumer

        return KafkaConsumer(
            bootstrap=settings.kafka_bootstrap,
            group=group,
            topics=topics,
            partitions=settings.kafka_topic_partitions,
            replication=settings.kafka_replication_factor,
        )
    from shared.events.transports.embedded import EmbeddedConsumer

    return EmbeddedConsumer(settings.events_database_url, group=group, topics=topics)
