"""A relay or a consumer in a process of its own, so fault tests can SIGKILL it at an exact
point: ``python -m tests.support.backbone_process relay|consume``.

Configured by environment: PROBE_DB_URL, PROBE_BOOTSTRAP, PROBE_GROUP, the broker's
credentials as PROXIMA_KAFKA_* variables (``KafkaBroker.client_env``), and the fault:
KILL_AFTER_PUBLISH=1 (relay dies after the broker acked a batch, before marking it sent),
HANG_ON_PROBE=id HANG_ON_SEQUENCE=N (the handler of that event writes MARKER_FILE, then
hangs mid-transaction).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from shared.db import make_engine, make_session_factory
from shared.events.consumer import ConsumerRunner
from shared.events.envelope import Event
from shared.events.outbox import OutboxRelay
from shared.events.transports import make_consumer, make_producer
from tests.support.backbone import bus_settings, probe_subscription, recording_handler


async def relay() -> None:
    settings = bus_settings("kafka", bootstrap=os.environ["PROBE_BOOTSTRAP"])
    engine = make_engine(os.environ["PROBE_DB_URL"])
    producer = make_producer(settings)
    await producer.start()

    async def die(_: list[int]) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    hook = die if os.environ.get("KILL_AFTER_PUBLISH") == "1" else None
    await OutboxRelay(
        service=settings.service_name, engine=engine, producer=producer, after_publish=hook
    ).run()


async def consume() -> None:
    settings = bus_settings("kafka", bootstrap=os.environ["PROBE_BOOTSTRAP"])
    engine = make_engine(os.environ["PROBE_DB_URL"])
    hang_on = int(os.environ.get("HANG_ON_SEQUENCE", "-1"))
    hang_probe = os.environ.get("HANG_ON_PROBE", "")
    marker = Path(os.environ.get("MARKER_FILE", "/dev/null"))

    async def maybe_hang(event: Event) -> None:
        data = event.data
        if (
            getattr(data, "probe_id", None) == hang_probe
            and getattr(data, "sequence", None) == hang_on
        ):
            marker.write_text("in handler")
            await asyncio.Event().wait()

    subscription = probe_subscription(
        os.environ["PROBE_GROUP"], recording_handler(before=maybe_hang)
    )
    consumer = make_consumer(settings, group=subscription.group, topics=subscription.topics)
    await consumer.start()
    producer = make_producer(settings)
    await producer.start()
    await ConsumerRunner(
        service=settings.service_name,
        subscription=subscription,
        consumer=consumer,
        session_factory=make_session_factory(engine),
        dead_letter_producer=producer,
    ).run()


if __name__ == "__main__":
    asyncio.run({"relay": relay, "consume": consume}[sys.argv[1]]())
