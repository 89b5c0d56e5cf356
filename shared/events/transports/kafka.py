"""Apache Kafka through aiokafka: idempotent producer with acks=all, manual offset commits.

Every client authenticates as its service's principal (``PROXIMA_KAFKA_SECURITY_PROTOCOL``,
``…_SASL_MECHANISM``, ``…_USERNAME``, ``…_PASSWORD``, ``…_SSL_CAFILE``) and the broker's
ACLs decide what it may do. Topics are created by their owner only (the service named in
``proxima.<service>.``): the producer creates its own topics before it first writes to
them, a consumer creates the subscribed topics it owns (tests' probes) and waits for the
others to appear: the broker never auto-creates a topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, for_code
from aiokafka.helpers import create_ssl_context

from shared.events.registry import topic_owner
from shared.events.transports.base import OutgoingRecord, Record
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

# How often a consumer refreshes metadata: how soon it notices a subscribed topic that its
# owner created after the consumer started (aiokafka's default is five minutes).
METADATA_MAX_AGE_MS = 3000

_TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True)
class KafkaConnection:
    """Where the brokers are and how this client authenticates to them."""

    bootstrap: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = ""
    ssl_cafile: str = ""

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> KafkaConnection:
        return cls(
            bootstrap=settings.kafka_bootstrap,
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_username,
            password=settings.kafka_password.get_secret_value(),
            ssl_cafile=settings.kafka_ssl_cafile,
        )

    def options(self) -> dict[str, Any]:
        """Keyword arguments every aiokafka client (producer, consumer, admin) takes."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile or None)
        if self.security_protocol.startswith("SASL_"):
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.username,
                sasl_plain_password=self.password,
            )
        return options


@dataclass(frozen=True)
class TopicSpec:
    """How the topics a client creates are shaped."""

    partitions: int = 3
    replication: int = 1

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> TopicSpec:
        return cls(settings.kafka_topic_partitions, settings.kafka_replication_factor)


class KafkaProducer:
    def __init__(
        self,
        connection: KafkaConnection,
        *,
        service: str,
        topics: TopicSpec | None = None,
    ) -> None:
        self.connection = connection
        self.service = service
        self.topics = topics or TopicSpec()
        self._known: set[str] = set()
        self._producer = AIOKafkaProducer(
            **connection.options(),
            client_id=service,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            request_timeout_ms=15000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_many(self, records: Sequence[OutgoingRecord]) -> None:
        new = {r.topic for r in records} - self._known
        if new:
            # Its own topics the producer creates before it first writes to them; anyone
            # else's it just writes to, and the broker's ACLs have the last word.
            await ensure_topics(
                self.connection,
                [t for t in new if topic_owner(t) == self.service],
                spec=self.topics,
            )
            self._known |= new
        # Enqueue all first, then wait: the idempotent producer keeps per-partition order
        # while batching, which is what makes the relay fast.
        pending = [
            await self._producer.send(r.topic, r.value, key=r.key.encode(), headers=list(r.headers))
            for r in records
        ]
        await asyncio.gather(*pending)

    async def ping(self) -> None:
        await self._producer.client.fetch_all_metadata()


class KafkaConsumer:
    def __init__(
        self,
        connection: KafkaConnection,
        *,
        service: str,
        group: str,
        topics: Sequence[str],
        spec: TopicSpec | None = None,
    ) -> None:
        self.connection = connection
        self.service = service
        self.topics = list(topics)
        self.spec = spec or TopicSpec()
        # No topics here: subscribed after start, so a topic whose owner has not created
        # it yet does not fail the start (aiokafka waits for constructor topics to exist).
        self._consumer = AIOKafkaConsumer(
            **connection.options(),
            client_id=service,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=10000,
            heartbeat_interval_ms=2000,
            max_poll_interval_ms=300000,
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )

    async def start(self) -> None:
        await ensure_topics(
            self.connection,
            [t for t in self.topics if topic_owner(t) == self.service],
            spec=self.spec,
        )
        await self._consumer.start()
        self._consumer.subscribe(self.topics)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def fetch(self, *, max_records: int, timeout_s: float) -> list[Record]:
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout_s * 1000), max_records=max_records
        )
        out: list[Record] = []
        for messages in batches.values():
            for m in messages:
                out.append(
                    Record(
                        topic=m.topic,
                        partition=m.partition,
                        offset=m.offset,
                        key=m.key.decode() if m.key is not None else None,
                        value=m.value if m.value is not None else b"",
                        headers=tuple(m.headers or ()),
                    )
                )
        return out

    async def commit(self, record: Record) -> None:
        """Commit, unless the group rebalanced meanwhile (a broker restart, a member joining):
        then the partition's new owner re-reads from the last committed offset and the inbox
        absorbs the repeats. Retrying such a commit could never succeed and would stall the
        consumer forever."""
        partition = TopicPartition(record.topic, record.partition)
        if partition not in self._consumer.assignment():
            return  # revoked since it was fetched
        try:
            await self._consumer.commit({partition: record.offset + 1})
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning(
                "offset_commit_dropped_after_rebalance",
                topic=record.topic,
                partition=record.partition,
                error=repr(exc),
            )


async def ensure_topics(
    connection: KafkaConnection, topics: Iterable[str], *, spec: TopicSpec | None = None
) -> None:
    """Create the missing ones of ``topics``, so consumers can join a group before the first
    event is ever produced; the broker never auto-creates one. Raises the broker's error
    (``TopicAuthorizationFailedError`` for a topic this principal may not create)."""
    wanted = sorted(set(topics))
    if not wanted:
        return
    spec = spec or TopicSpec()
    admin = AIOKafkaAdminClient(**connection.options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [
                NewTopic(t, num_partitions=spec.partitions, replication_factor=spec.replication)
                for t in missing
            ]
        )
        for topic, code, *_ in response.topic_errors:
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise for_code(code)(f"cannot create topic {topic}")
    finally:
        await admin.close()
