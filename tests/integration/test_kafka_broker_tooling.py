"""The local Kafka tooling runs genuine Apache Kafka, durable across restarts, leak-free.

Idempotent producers with acks=all are the litmus test: the in-memory look-alike we
tried rejected them, Apache Kafka accepts them. Every other Kafka test in the project
relies on what is proven here: topics and committed offsets survive a restart (clean or
SIGKILL) on the same data dir, and stopping leaves no JVM behind. The broker runs
secured as in production (SASL/SCRAM, ACLs, no auto-created topics): these tests are the
``admin`` principal's; what the services' principals may do is tested in
``tests/integration/platform/test_event_trust.py``.

Tests are sync and drive aiokafka through ``asyncio.run`` so they do not depend on the
pytest-asyncio mode, and so the blocking broker restarts never stall a running loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from deploy.local.kafka_broker import PRINCIPALS, REPO_ROOT, KafkaBroker, free_port

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


async def _create_topic(broker: KafkaBroker) -> None:
    admin = AIOKafkaAdminClient(**broker.client_options("admin"))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()


async def _produce(broker: KafkaBroker, values: list[bytes]) -> int:
    """Send with an idempotent, acks=all producer; returns the topic's partition count."""
    producer = AIOKafkaProducer(
        **broker.client_options("admin"), enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(TOPIC, value, key=b"same-key")
        return len(await producer.partitions_for(TOPIC))
    finally:
        await producer.stop()


async def _consume(broker: KafkaBroker, group: str, expected: int) -> tuple[list[bytes], int]:
    """Read ``expected`` records as ``group``, commit, return (values, committed total)."""
    consumer = AIOKafkaConsumer(
        TOPIC,
        **broker.client_options("admin"),
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


async def _send_to_missing_topic(broker: KafkaBroker) -> None:
    producer = AIOKafkaProducer(**broker.client_options("admin"), request_timeout_ms=3000)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, b"too early")
    finally:
        await producer.stop()


def test_idempotent_round_trip_survives_clean_restart(broker: KafkaBroker) -> None:
    with pytest.raises(KafkaError):  # no auto-creation: a topic exists once its owner made it
        asyncio.run(_send_to_missing_topic(broker))
    asyncio.run(_create_topic(broker))
    partitions = asyncio.run(_produce(broker, [b"m1", b"m2", b"m3"]))
    assert partitions == 3
    values, committed = asyncio.run(_consume(broker, GROUP, expected=3))
    assert values == [b"m1", b"m2", b"m3"]  # one key -> one partition -> ordered
    assert committed == 3

    # A principal the storage was formatted without (a service added later) is created
    # through the admin API on the next start.
    credentials = broker.credentials
    del credentials["gateway"]
    broker.credentials_file.write_text(json.dumps(credentials))
    broker.restart()
    assert broker.is_running()
    assert asyncio.run(_authenticates(broker, "gateway"))

    asyncio.run(_produce(broker, [b"m4"]))
    values, committed = asyncio.run(_consume(broker, GROUP, expected=1))
    assert values == [b"m4"]  # resumed from the committed offset, nothing replayed
    assert committed == 4
    values, _ = asyncio.run(_consume(broker, "fresh-group", expected=4))
    assert values == [b"m1", b"m2", b"m3", b"m4"]  # the log itself survived


def test_data_survives_sigkill_and_a_storage_without_users_is_formatted_again(
    broker: KafkaBroker,
) -> None:
    asyncio.run(_create_topic(broker))
    asyncio.run(_produce(broker, [b"before-crash"]))
    _, committed = asyncio.run(_consume(broker, GROUP, expected=1))
    assert committed == 1

    broker.kill()
    assert not broker.is_running() and _broker_processes(broker) == []
    broker.start()

    asyncio.run(_produce(broker, [b"after-crash"]))
    values, committed = asyncio.run(_consume(broker, GROUP, expected=1))
    assert values == [b"after-crash"]
    assert committed == 2

    # A data dir from before security was on has no SCRAM user in its storage: its broker
    # could not even authenticate to itself, so it starts again from a fresh storage.
    broker.stop()
    broker.credentials_file.unlink()  # what such a data dir looks like
    broker.start()
    assert set(broker.credentials) == {*PRINCIPALS}
    assert TOPIC not in asyncio.run(_topics(broker))


async def _authenticates(broker: KafkaBroker, principal: str) -> bool:
    admin = AIOKafkaAdminClient(**broker.client_options(principal))
    await admin.start()
    try:
        return isinstance(await admin.describe_cluster(), dict)
    finally:
        await admin.close()


async def _topics(broker: KafkaBroker) -> list[str]:
    admin = AIOKafkaAdminClient(**broker.client_options("admin"))
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


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
