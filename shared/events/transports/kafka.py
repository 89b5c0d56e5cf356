"""Apache Kafka through aiokafka: idempotent producer with acks=all, manual offset commits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, TopicAlreadyExistsError

from shared.events.transports.base import OutgoingRecord, Record

log = structlog.get_logger(__name__)


class KafkaProducer:
    def __init__(self, *, bootstrap: str, client_id: str = "proxima") -> None:
        self.bootstrap = bootstrap
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
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
        *,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        partitions: int = 3,
        replication: int = 1,
    ) -> None:
        self.topics = list(topics)
        self.partitions = partitions
        self.replication = replication
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=10000,
            heartbeat_interval_ms=2000,
            max_poll_interval_ms=300000,
        )
        self.bootstrap = bootstrap

    async def start(self) -> None:
        await ensure_topics(
            self.bootstrap, self.topics, partitions=self.partitions, replication=self.replication
        )
        await self._consumer.start()

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
    bootstrap: str, topics: Sequence[str], *, partitions: int = 3, replication: int = 1
) -> None:
    """Create missing topics, so consumers can join a group before the first event is ever
    produced (and so production does not depend on broker auto-creation)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [
                        NewTopic(t, num_partitions=partitions, replication_factor=replication)
                        for t in missing
                    ]
                )
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()
