"""Two instances of one service: they share a Kafka consumer group without applying any
event twice, and only one outbox relay publishes at a time (the other takes over when the
first dies), which keeps per-key order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.events.outbox import OutboxRelay
from shared.events.transports import OutgoingRecord, Producer, make_producer
from tests.contract.test_backbone_delivery import Running, _emit, _probe_db
from tests.support.backbone import bus_settings, effects, outbox_unpublished
from tests.support.waiting import eventually

pytestmark = [pytest.mark.kafka]


class CountingProducer:
    """Wraps a real producer to count what this relay instance published."""

    def __init__(self, inner: Producer) -> None:
        self.inner = inner
        self.sent = 0

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def ping(self) -> None:
        await self.inner.ping()

    async def send_many(self, records: Sequence[OutgoingRecord]) -> None:
        await self.inner.send_many(records)
        self.sent += len(records)


async def test_only_one_relay_publishes_and_the_standby_takes_over(
    kafka: Any, new_database: Callable[[str], str], engine_for: Callable[[str], AsyncEngine]
) -> None:
    engine = await _probe_db(new_database, engine_for)
    bus = bus_settings("kafka", kafka=kafka)
    probe = uuid.uuid4().hex
    producers = [CountingProducer(make_producer(bus)) for _ in range(2)]
    for p in producers:
        await p.start()
    relays = [
        OutboxRelay(service="scaled", engine=engine, producer=p, poll_interval_s=0.1)
        for p in producers
    ]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        await _emit(engine, probe, range(30))
        await eventually(lambda: outbox_unpublished(engine), lambda n: n == 0)
        sent = sorted(p.sent for p in producers)
        assert sent == [0, 30], sent
        leader = next(i for i, p in enumerate(producers) if p.sent)
        tasks[leader].cancel()  # the leader's process dies; its lock connection closes
        await asyncio.gather(tasks[leader], return_exceptions=True)
        await _emit(engine, probe, range(30, 40))
        await eventually(lambda: outbox_unpublished(engine), lambda n: n == 0, timeout=30)
        assert producers[1 - leader].sent == 10
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for p in producers:
            await p.stop()


async def test_two_instances_share_a_consumer_group_and_apply_each_event_once(
    kafka: Any, new_database: Callable[[str], str], engine_for: Callable[[str], AsyncEngine]
) -> None:
    engine = await _probe_db(new_database, engine_for)
    bus = bus_settings("kafka", kafka=kafka)
    group = f"scaled-{uuid.uuid4().hex[:8]}"
    probes = [uuid.uuid4().hex for _ in range(6)]  # six keys spread over the partitions
    async with Running() as run:
        await run.relay(bus, engine)
        first = await run.runner(bus, engine, group=group)
        second = await run.runner(bus, engine, group=group)

        def assignments() -> list[int]:
            return sorted(len(r.consumer._consumer.assignment()) for r in (first, second))  # type: ignore[attr-defined]

        async def settled() -> list[int]:
            return assignments()

        # The second member's join triggers a rebalance; wait until the group has settled
        # so that the events below are really consumed by two members, not by the first alone.
        await eventually(settled, lambda got: got == [1, 2], timeout=60)
        for probe in probes:
            await _emit(engine, probe, range(25))
        for probe in probes:
            await eventually(
                lambda p=probe: effects(engine, p), lambda got: len(got) >= 25, timeout=60
            )
        await asyncio.sleep(1)
        for probe in probes:
            assert await effects(engine, probe) == list(range(25))
        assert assignments() == [1, 2]  # 3 partitions still shared by two members
