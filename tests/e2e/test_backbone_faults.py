"""Fault tests of the event backbone on a real Apache Kafka broker: processes are killed
with SIGKILL at the worst moment and the broker is restarted mid-stream; every event must
still be applied exactly once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.postgres import REPO
from shared.events.metrics import EVENTS_CONSUMED
from tests.contract.test_backbone_delivery import Running, _emit, _probe_db
from tests.support.backbone import PROBE_TYPE, bus_settings, effects, outbox_unpublished
from tests.support.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def _spawn(kafka: Any, mode: str, **env: str) -> subprocess.Popen[bytes]:
    """A relay or consumer process, authenticated as the broker's ``admin`` principal."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.backbone_process", mode],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **kafka.client_env("admin"), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_relay_killed_between_publish_and_mark_sent_event_applied_once(
    kafka: Any, new_database: Callable[[str], str], engine_for: Callable[[str], AsyncEngine]
) -> None:
    engine = await _probe_db(new_database, engine_for)
    url = engine.url.render_as_string(hide_password=False)
    probe = uuid.uuid4().hex
    await _emit(engine, probe, range(20))

    doomed = _spawn(
        kafka, "relay", PROBE_DB_URL=url, PROBE_BOOTSTRAP=kafka.bootstrap, KILL_AFTER_PUBLISH="1"
    )
    assert await asyncio.to_thread(doomed.wait, 60) == -9
    assert await outbox_unpublished(engine) == 20  # published, never marked sent

    bus = bus_settings("kafka", kafka=kafka)
    group = f"g-{probe}"
    duplicates_before = EVENTS_CONSUMED.labels(group, PROBE_TYPE, "duplicate")._value.get()
    async with Running() as run:
        await run.relay(bus, engine)  # a healthy relay publishes the same 20 again
        await run.runner(bus, engine, group=group)
        await eventually(lambda: outbox_unpublished(engine), lambda n: n == 0)
        await eventually(lambda: effects(engine, probe), lambda got: len(got) >= 20)
        await eventually(
            lambda: asyncio.sleep(
                0, EVENTS_CONSUMED.labels(group, PROBE_TYPE, "duplicate")._value.get()
            ),
            lambda n: n - duplicates_before >= 20,
        )
    assert await effects(engine, probe) == list(range(20))


async def test_broker_restart_while_events_flow_loses_and_doubles_nothing(
    kafka: Any, new_database: Callable[[str], str], engine_for: Callable[[str], AsyncEngine]
) -> None:
    engine = await _probe_db(new_database, engine_for)
    probe = uuid.uuid4().hex
    bus = bus_settings("kafka", kafka=kafka)
    total = 400
    async with Running() as run:
        await run.relay(bus, engine)
        await run.runner(bus, engine, group=f"g-{probe}")

        async def produce() -> None:
            for start in range(0, total, 20):
                await _emit(engine, probe, range(start, start + 20))
                await asyncio.sleep(0.05)

        producing = asyncio.create_task(produce())
        await eventually(lambda: effects(engine, probe), lambda got: len(got) >= 40)
        await asyncio.to_thread(kafka.restart)
        await producing
        await eventually(lambda: effects(engine, probe), lambda got: len(got) >= total, timeout=120)
        await asyncio.sleep(1)
    assert await effects(engine, probe) == list(range(total))
    assert await outbox_unpublished(engine) == 0


async def test_consumer_killed_mid_handler_redelivery_applied_once(
    kafka: Any,
    new_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
    tmp_path: Path,
) -> None:
    engine = await _probe_db(new_database, engine_for)
    url = engine.url.render_as_string(hide_password=False)
    probe = uuid.uuid4().hex
    group = f"g-{probe}"
    marker = tmp_path / "in-handler"
    bus = bus_settings("kafka", kafka=kafka)
    async with Running() as run:
        await run.relay(bus, engine)
        await _emit(engine, probe, range(10))
        victim = _spawn(
            kafka,
            "consume",
            PROBE_DB_URL=url,
            PROBE_BOOTSTRAP=kafka.bootstrap,
            PROBE_GROUP=group,
            HANG_ON_PROBE=probe,
            HANG_ON_SEQUENCE="5",
            MARKER_FILE=str(marker),
        )
        try:
            await eventually(lambda: asyncio.sleep(0, marker.exists()), bool, timeout=60)
            # Events before 5 are committed, or still in the hung batch's open transaction.
            assert await effects(engine, probe) in ([], [0, 1, 2, 3, 4])
        finally:
            victim.kill()  # SIGKILL mid-handler (and never a leaked process)
            await asyncio.to_thread(victim.wait)
        await run.runner(
            bus, engine, group=group
        )  # takes the partitions over after the session timeout
        await eventually(lambda: effects(engine, probe), lambda got: len(got) >= 10, timeout=90)
        await asyncio.sleep(1)
    assert await effects(engine, probe) == list(range(10))
