"""Outbox → transport → consumer runner → inbox, on both transports: each event applied
once, bad input dead-lettered with its reason, later events still flowing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_session_factory
from shared.events.catalog.platform import ProbeEmitted
from shared.events.consumer import ConsumerRunner
from shared.events.envelope import encode, new_event
from shared.events.metrics import EVENTS_DEAD_LETTERED
from shared.events.outbox import OutboxRelay, record_event
from shared.events.registry import dead_letter_topic, topic_for
from shared.events.replay import replay_dead_letters
from shared.events.tables import dead_letters
from shared.events.transports import OutgoingRecord, Record, make_consumer, make_producer
from shared.settings import ServiceSettings
from tests.support.backbone import (
    PROBE_SOURCE,
    PROBE_TYPE,
    effects,
    outbox_unpublished,
    prepare_probe_database,
    probe_subscription,
    recording_handler,
)
from tests.support.waiting import eventually

TOPIC = topic_for(PROBE_TYPE)


async def _probe_db(
    new_database: Callable[[str], str], engine_for: Callable[[str], AsyncEngine]
) -> AsyncEngine:
    engine = engine_for(new_database("probe"))
    await prepare_probe_database(engine)
    return engine


async def _emit(engine: AsyncEngine, probe_id: str, sequences: range) -> None:
    factory = make_session_factory(engine)
    async with factory() as session, session.begin():
        for n in sequences:
            await record_event(
                session,
                ProbeEmitted(probe_id=probe_id, sequence=n),
                source=PROBE_SOURCE,
                subject=probe_id,
            )


class Running:
    """Relay and consumer runner as background tasks, stopped at the end of the test."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []
        self.closers: list[Callable[[], object]] = []

    async def __aenter__(self) -> Running:
        return self

    async def __aexit__(self, *_: object) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for close in reversed(self.closers):
            await close()  # type: ignore[misc]

    async def relay(self, bus: ServiceSettings, engine: AsyncEngine) -> None:
        producer = make_producer(bus)
        await producer.start()
        self.closers.append(producer.stop)
        relay = OutboxRelay(
            service=f"probe-{uuid.uuid4().hex[:6]}",
            engine=engine,
            producer=producer,
            poll_interval_s=0.2,
        )
        self.tasks.append(asyncio.create_task(relay.run()))

    async def runner(
        self, bus: ServiceSettings, engine: AsyncEngine, group: str, **kw: object
    ) -> ConsumerRunner:
        subscription = probe_subscription(group, kw.pop("handler", None))  # type: ignore[arg-type]
        consumer = make_consumer(bus, group=group, topics=subscription.topics)
        await consumer.start()
        self.closers.append(consumer.stop)
        producer = make_producer(bus)
        await producer.start()
        self.closers.append(producer.stop)
        runner = ConsumerRunner(
            service=bus.service_name,
            subscription=subscription,
            consumer=consumer,
            session_factory=make_session_factory(engine),
            dead_letter_producer=producer,
            max_attempts=3,
            retry_base_s=0.01,
        )
        self.tasks.append(asyncio.create_task(runner.run()))
        return runner


async def test_committed_events_are_published_and_applied_once(
    bus: ServiceSettings,
    new_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    engine = await _probe_db(new_database, engine_for)
    probe = uuid.uuid4().hex
    async with Running() as run:
        await run.relay(bus, engine)
        await run.runner(bus, engine, group=f"g-{probe}")
        await _emit(engine, probe, range(50))
        await eventually(lambda: effects(engine, probe), lambda got: len(got) >= 50)
        await asyncio.sleep(0.5)
        assert await effects(engine, probe) == list(range(50))
        assert await outbox_unpublished(engine) == 0


async def test_rolled_back_transaction_publishes_nothing(
    bus: ServiceSettings,
    new_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    engine = await _probe_db(new_database, engine_for)
    factory = make_session_factory(engine)
    probe = uuid.uuid4().hex
    async with factory() as session:
        async with session.begin():
            await record_event(
                session,
                ProbeEmitted(probe_id=probe, sequence=1),
                source=PROBE_SOURCE,
                subject=probe,
            )
            await session.rollback()
    async with Running() as run:
        await run.relay(bus, engine)
        await run.runner(bus, engine, group=f"g-{probe}")
        await _emit(engine, probe, range(2, 3))  # a later, committed one proves the pipe works
        await eventually(lambda: effects(engine, probe), lambda got: got == [2])


async def test_a_redelivered_event_is_applied_once(
    bus: ServiceSettings,
    new_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    engine = await _probe_db(new_database, engine_for)
    probe = uuid.uuid4().hex
    raw = encode(
        new_event(ProbeEmitted(probe_id=probe, sequence=7), source=PROBE_SOURCE, subject=probe)
    )
    producer = make_producer(bus)
    await producer.start()
    try:
        await producer.send_many([OutgoingRecord(topic=TOPIC, key=probe, value=raw)] * 3)
        await _emit(engine, probe, range(8, 9))
    finally:
        await producer.stop()
    async with Running() as run:
        await run.relay(bus, engine)
        await run.runner(bus, engine, group=f"g-{probe}")
        await eventually(lambda: effects(engine, probe), lambda got: 8 in got)
        assert await effects(engine, probe) == [7, 8]


async def test_poison_event_is_dead_lettered_while_later_events_flow_then_replayed(
    bus: ServiceSettings,
    new_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    engine = await _probe_db(new_database, engine_for)
    probe = uuid.uuid4().hex
    broken = {"on": True}
    attempts: list[int] = []

    async def fail_on_three(event: object) -> None:
        assert isinstance(event.data, ProbeEmitted)  # type: ignore[attr-defined]
        data = event.data  # type: ignore[attr-defined]
        if data.probe_id == probe and data.sequence == 3 and broken["on"]:
            attempts.append(1)
            raise RuntimeError("cannot apply sequence 3")

    async with Running() as run:
        await run.relay(bus, engine)
        await run.runner(
            bus, engine, group=f"g-{probe}", handler=recording_handler(before=fail_on_three)
        )
        await _emit(engine, probe, range(1, 6))
        await eventually(lambda: effects(engine, probe), lambda got: got == [1, 2, 4, 5])
        assert len(attempts) == 3
        async with engine.connect() as conn:
            row = (await conn.execute(select(dead_letters))).one()
        assert row.attempts == 3 and "cannot apply sequence 3" in row.reason
        assert row.event_type == PROBE_TYPE

        # The copy on the dead-letter topic is the consumer's own: proxima.platform.dlq.…
        dlq = dead_letter_topic(bus.service_name, TOPIC)
        assert dlq == "proxima.platform.dlq.platform.probe"
        copies = await _read_keyed(bus, dlq, key=probe)
        assert len(copies) == 1
        headers = dict(copies[0].headers)
        assert b"cannot apply sequence 3" in headers["dlq-reason"]
        assert headers["dlq-consumer"] == f"g-{probe}".encode()

        # Replay re-applies it here, in the consumer's database, republishing nothing.
        broken["on"] = False
        subscription = probe_subscription(f"g-{probe}", recording_handler(before=fail_on_three))
        factory = make_session_factory(engine)
        report = await replay_dead_letters(factory, [subscription])
        assert report.applied == [row.id] and not report.refused
        assert await effects(engine, probe) == [1, 2, 3, 4, 5]
        again = await replay_dead_letters(factory, [subscription])
        assert again.replayed == 0 and not again.refused
        assert await effects(engine, probe) == [1, 2, 3, 4, 5]


async def _read_keyed(bus: ServiceSettings, topic: str, *, key: str) -> list[Record]:
    """The records of ``topic`` under ``key``, read by a fresh group."""
    consumer = make_consumer(bus, group=f"g-read-{uuid.uuid4().hex[:8]}", topics=[topic])
    await consumer.start()
    try:
        found: list[Record] = []
        deadline = asyncio.get_running_loop().time() + 30
        while not found and asyncio.get_running_loop().time() < deadline:
            found = [
                r for r in await consumer.fetch(max_records=500, timeout_s=0.5) if r.key == key
            ]
        return found
    finally:
        await consumer.stop()


async def test_bad_input_is_dead_lettered_with_its_reason_and_counted(
    bus: ServiceSettings,
    new_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    engine = await _probe_db(new_database, engine_for)
    probe = uuid.uuid4().hex
    group = f"g-{probe}"
    good = ProbeEmitted(probe_id=probe, sequence=1)
    valid = encode(new_event(good, source=PROBE_SOURCE, subject=probe))
    unknown = valid.replace(PROBE_TYPE.encode(), b"proxima.platform.probe.vanished.v1")
    invalid_payload = valid.replace(b'"sequence":1', b'"sequence":-4').replace(
        b'"sequence": 1', b'"sequence": -4'
    )
    bad = [b"not json at all", b'{"specversion": "1.0"}', unknown, invalid_payload]
    before = EVENTS_DEAD_LETTERED.labels(group, "malformed envelope")._value.get()
    producer = make_producer(bus)
    await producer.start()
    try:
        await producer.send_many([OutgoingRecord(topic=TOPIC, key=probe, value=v) for v in bad])
    finally:
        await producer.stop()
    async with Running() as run:
        await run.relay(bus, engine)
        await run.runner(bus, engine, group=group)
        await _emit(engine, probe, range(9, 10))
        await eventually(lambda: effects(engine, probe), lambda got: got == [9])
        async with engine.connect() as conn:
            reasons = [
                r.reason
                for r in (await conn.execute(select(dead_letters).order_by(dead_letters.c.id)))
            ]
    assert len(reasons) == 4
    assert reasons[0].startswith("malformed envelope") and reasons[1].startswith(
        "malformed envelope"
    )
    assert reasons[2].startswith("unknown event type")
    assert reasons[3].startswith("payload fails")
    assert EVENTS_DEAD_LETTERED.labels(group, "malformed envelope")._value.get() == before + 2


async def test_an_event_whose_source_does_not_own_its_topic_is_dead_lettered_unapplied(
    bus: ServiceSettings,
    new_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    engine = await _probe_db(new_database, engine_for)
    probe = uuid.uuid4().hex
    group = f"g-{probe}"
    ran: list[int] = []

    async def count(event: object) -> None:
        data = event.data  # type: ignore[attr-defined]
        if data.probe_id == probe:  # the topic also holds other tests' probes
            ran.append(data.sequence)

    foreign = encode(
        new_event(ProbeEmitted(probe_id=probe, sequence=1), source="/proxima/ledger", subject=probe)
    )
    records = [OutgoingRecord(topic=TOPIC, key=probe, value=foreign)]
    if bus.event_bus == "embedded":
        # The envelope says platform, but the log recorded who appended it: the ledger.
        forged = encode(
            new_event(ProbeEmitted(probe_id=probe, sequence=2), source=PROBE_SOURCE, subject=probe)
        )
        ledger = make_producer(bus.model_copy(update={"service_name": "ledger"}))
        await ledger.start()
        try:
            await ledger.send_many([OutgoingRecord(topic=TOPIC, key=probe, value=forged)])
        finally:
            await ledger.stop()
    producer = make_producer(bus)
    await producer.start()
    try:
        await producer.send_many(records)
    finally:
        await producer.stop()
    expected = 2 if bus.event_bus == "embedded" else 1
    async with Running() as run:
        await run.relay(bus, engine)
        await run.runner(bus, engine, group=group, handler=recording_handler(before=count))
        await _emit(engine, probe, range(9, 10))
        await eventually(lambda: effects(engine, probe), lambda got: got == [9])
        async with engine.connect() as conn:
            # (on Kafka the group also reads earlier tests' bad records from the topic)
            rows = (
                await conn.execute(
                    select(dead_letters)
                    .where(dead_letters.c.key == probe)
                    .order_by(dead_letters.c.id)
                )
            ).all()
    assert ran == [9]  # the handler never saw the untrusted ones
    assert len(rows) == expected
    reasons = {r.reason.split(":")[0] for r in rows}
    assert "untrusted source" in reasons
    source_row = next(r for r in rows if r.reason.startswith("untrusted source"))
    assert "/proxima/ledger does not own proxima.platform.probe" in source_row.reason
    if bus.event_bus == "embedded":
        assert "untrusted producer" in reasons
    assert EVENTS_DEAD_LETTERED.labels(group, "untrusted source")._value.get() == 1
    report = await replay_dead_letters(
        make_session_factory(engine),
        [probe_subscription(group, recording_handler())],
        ids=[r.id for r in rows],
    )
    assert report.replayed == 0 and set(report.refused) == {r.id for r in rows}
    assert await effects(engine, probe) == [9]
