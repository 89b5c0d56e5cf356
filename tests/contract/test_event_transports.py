"""One delivery contract, two transports: what the relay and the consumer runner rely on."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

from shared.events.transports import Consumer, OutgoingRecord, Record, make_consumer, make_producer
from shared.settings import ServiceSettings


def _topic() -> str:
    """A fresh topic of the probes' service (on Kafka, its owner creates it)."""
    return f"proxima.platform.t{uuid.uuid4().hex[:12]}"


async def _drain(
    consumer: Consumer, expected: int, *, commit: bool, timeout: float = 30
) -> list[Record]:
    got: list[Record] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(got) < expected and asyncio.get_running_loop().time() < deadline:
        batch = await consumer.fetch(max_records=500, timeout_s=0.5)
        for record in batch:
            got.append(record)
            if commit:
                await consumer.commit(record)
    return got


async def _nothing_more(consumer: Consumer) -> list[Record]:
    return await consumer.fetch(max_records=10, timeout_s=1.5)


async def test_group_receives_every_record_in_order_per_key(bus: ServiceSettings) -> None:
    topic = _topic()
    producer = make_producer(bus)
    await producer.start()
    consumer = make_consumer(bus, group="g1", topics=[topic])
    await consumer.start()
    try:
        records = [
            OutgoingRecord(
                topic=topic, key=f"k{i % 4}", value=f"{i}".encode(), headers=(("h", b"v"),)
            )
            for i in range(200)
        ]
        await producer.send_many(records)
        got = await _drain(consumer, 200, commit=True)
        assert sorted(int(r.value) for r in got) == list(range(200))
        per_key: dict[str | None, list[int]] = defaultdict(list)
        for r in got:
            per_key[r.key].append(int(r.value))
        assert all(values == sorted(values) for values in per_key.values())
        assert got[0].headers == (("h", b"v"),)
    finally:
        await consumer.stop()
        await producer.stop()


async def test_committed_records_are_not_redelivered_to_the_group(bus: ServiceSettings) -> None:
    topic = _topic()
    producer = make_producer(bus)
    await producer.start()
    try:
        await producer.send_many([OutgoingRecord(topic=topic, key="a", value=b"1")])
        first = make_consumer(bus, group="g", topics=[topic])
        await first.start()
        assert len(await _drain(first, 1, commit=True)) == 1
        await first.stop()
        again = make_consumer(bus, group="g", topics=[topic])
        await again.start()
        assert await _nothing_more(again) == []
        await again.stop()
    finally:
        await producer.stop()


async def test_uncommitted_records_are_redelivered_after_restart(bus: ServiceSettings) -> None:
    topic = _topic()
    producer = make_producer(bus)
    await producer.start()
    try:
        await producer.send_many(
            [OutgoingRecord(topic=topic, key="a", value=str(i).encode()) for i in range(3)]
        )
        first = make_consumer(bus, group="g", topics=[topic])
        await first.start()
        got = await _drain(first, 3, commit=False)
        await first.commit(got[0])  # only the first is done
        await first.stop()
        again = make_consumer(bus, group="g", topics=[topic])
        await again.start()
        redelivered = await _drain(again, 2, commit=True)
        assert [int(r.value) for r in redelivered] == [1, 2]
        await again.stop()
    finally:
        await producer.stop()


async def test_each_group_gets_its_own_copy(bus: ServiceSettings) -> None:
    topic = _topic()
    producer = make_producer(bus)
    await producer.start()
    try:
        await producer.send_many([OutgoingRecord(topic=topic, key="a", value=b"x")])
        for group in ("diagnostics", "gateway"):
            consumer = make_consumer(bus, group=group, topics=[topic])
            await consumer.start()
            assert len(await _drain(consumer, 1, commit=True)) == 1
            await consumer.stop()
    finally:
        await producer.stop()


async def test_ping_succeeds_on_a_reachable_bus(bus: ServiceSettings) -> None:
    producer = make_producer(bus)
    await producer.start()
    try:
        await producer.ping()
    finally:
        await producer.stop()
