"""The local Kafka tooling runs genuine Apache Kafka, durable across restarts, leak-free.

Idempotent producers with acks=all are the litmus test: the in-memory look-alike we
tried rejected them, Apache Kafka accepts them. Every other Kafka test in the project
relies on what is proven here: topics and committed offsets survive a restart (clean or
SIGKILL) on the same data dir, and stopping leaves no JVM behind.

Tests are sync and drive aiokafka through ``asyncio.run`` so they do not depend on the
pytest-asyncio mode, and so the blocking broker restarts never stall a running loop.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from deploy.local.kafka_broker import REPO_ROOT, KafkaBroker, free_port

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

TOPIC = "tooling-check"
GROUP = "tooling-group"


def _broker_processes(broker: KafkaBroker) -> list[str]:
    """Command lines of any JVM still running this broker's config (should be none)."""
    out = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,stat=,args="], capture_output=True, text=True, check=True
    ).stdout
    return [
        line for line in out.splitlines() if "kafka.Kafka" in line and str(broker.config) in line
    ]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    kafka = KafkaBroker(port=free_port(), data_dir=tmp_path / "kafka")
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()
    assert _broker_processes(kafka) == []


async def _produce(bootstrap: str, values: list[bytes]) -> int:
    """Send with an idempotent, acks=all producer; returns the topic's partition count."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(TOPIC, value, key=b"same-key")
        return len(await producer.partitions_for(TOPIC))
    finally:
        await producer.stop()


async def _consume(bootstrap: str, group: str, expected: int) -> tuple[list[bytes], int]:
    """Read ``expected`` records as ``group``, commit, return (values, committed total)."""
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        deadline = time.monotonic() + 60
        while len(values) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            values += [rec.value for recs in batches.values() for rec in recs if rec.value]
        await consumer.commit()
        return values, await _committed_total(consumer)
    finally:
        await consumer.stop()


async def _committed_total(consumer: AIOKafkaConsumer) -> int:
    parts = consumer.partitions_for_topic(TOPIC) or set()
    offsets = [await consumer.committed(TopicPartition(TOPIC, p)) for p in parts]
    return sum(o for o in offsets if o is not None)


def test_idempotent_round_trip_survives_clean_restart(broker: KafkaBroker) -> None:
    partitions = asyncio.run(_produce(broker.bootstrap, [b"m1", b"m2", b"m3"]))
    assert partitions == 3  # auto-created with num.partitions=3
    values, committed = asyncio.run(_consume(broker.bootstrap, GROUP, expected=3))
    assert values == [b"m1", b"m2", b"m3"]  # one key -> one partition -> ordered
    assert committed == 3

    broker.restart()
    assert broker.is_running()

    asyncio.run(_produce(broker.bootstrap, [b"m4"]))
    values, committed = asyncio.run(_consume(broker.bootstrap, GROUP, expected=1))
    assert values == [b"m4"]  # resumed from the committed offset, nothing replayed
    assert committed == 4
    values, _ = asyncio.run(_consume(broker.bootstrap, "fresh-group", expected=4))
    assert values == [b"m1", b"m2", b"m3", b"m4"]  # the log itself survived


def test_data_survives_sigkill(broker: KafkaBroker) -> None:
    asyncio.run(_produce(broker.bootstrap, [b"before-crash"]))
    _, committed = asyncio.run(_consume(broker.bootstrap, GROUP, expected=1))
    assert committed == 1

    broker.kill()
    assert not broker.is_running() and _broker_processes(broker) == []
    broker.start()

    asyncio.run(_produce(broker.bootstrap, [b"after-crash"]))
    values, committed = asyncio.run(_consume(broker.bootstrap, GROUP, expected=1))
    assert values == [b"after-crash"]
    assert committed == 2


def test_kafka_sh_cli_start_status_stop(tmp_path: Path) -> None:
    script = REPO_ROOT / "deploy" / "local" / "kafka" / "kafka.sh"
    env = {
        **os.environ,
        "KAFKA_PORT": str(free_port()),
        "KAFKA_CONTROLLER_PORT": str(free_port()),
        "KAFKA_DATA_DIR": str(tmp_path / "cli"),
    }
    kafka = KafkaBroker(port=int(env["KAFKA_PORT"]), data_dir=tmp_path / "cli")

    def run(command: str) -> int:
        return subprocess.run([str(script), command], env=env, check=False, timeout=150).returncode

    try:
        assert run("start") == 0
        assert run("status") == 0
        assert run("start") == 0  # idempotent: already running is fine
        assert len(_broker_processes(kafka)) == 1
    finally:
        assert run("stop") == 0
    assert run("status") == 3
    assert _broker_processes(kafka) == []
