"""Apache Kafka through aiokafka: idempotent producer with acks=all, manual offset commits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.events.transports.base import OutgoingRecord, Record


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
        await self._consumer.commit(
            {TopicPartition(record.topic, record.partition): record.offset + 1}
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
