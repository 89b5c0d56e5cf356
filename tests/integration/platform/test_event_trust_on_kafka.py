"""On the real broker, secured as in production (SASL/SCRAM, default deny, the ACLs of
``deploy/kafka_acls.py``): only funding may publish a payment order, only a topic's owner
creates it, a service reads only what it consumes, and an unauthenticated client gets
nothing at all."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from shared.events.catalog.funding import PaymentOrdered
from shared.events.catalog.gateway import ClientChanged
from shared.events.catalog.ledger import PaymentSettled
from shared.events.registry import dead_letter_topic, topic_for
from shared.events.transports import OutgoingRecord, Record, make_consumer, make_producer
from shared.events.transports.kafka import KafkaConnection, ensure_topics
from shared.settings import ServiceSettings
from tests.support.events import owned_event, record_of

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

PAYMENTS = topic_for(PaymentOrdered.event_type)


def as_service(kafka: Any, service: str, principal: str | None = None) -> ServiceSettings:
    """``service``'s settings on the test broker, authenticated as ``principal``."""
    return ServiceSettings(
        service_name=service,
        event_bus="kafka",
        **kafka.client_settings(principal or service),
    )


def order(application: str) -> PaymentOrdered:
    return PaymentOrdered(
        order_id=str(uuid.uuid4()),
        application_id=application,
        tranche_id="t-1",
        programme_code="IDECLIC",
        currency="GONETTE",
        amount=2_500,
    )


async def _read(kafka: Any, topic: str, keys: set[str], *, wait_for: int) -> list[Record]:
    """Records of ``topic`` under ``keys``, read by ``admin`` in a fresh group."""
    consumer = make_consumer(
        as_service(kafka, "platform", "admin"),
        group=f"check-{uuid.uuid4().hex[:8]}",
        topics=[topic],
    )
    await consumer.start()
    try:
        found: list[Record] = []
        deadline = asyncio.get_running_loop().time() + 30
        while len(found) < wait_for and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.fetch(max_records=500, timeout_s=0.5)
            found += [r for r in batch if r.key in keys]
        await asyncio.sleep(1)  # anything forged would have landed by now
        found += [r for r in await consumer.fetch(max_records=500, timeout_s=0.5) if r.key in keys]
        return found
    finally:
        await consumer.stop()


async def test_a_payment_order_forged_by_another_principal_fails_at_the_broker(
    kafka: Any,
) -> None:
    application = f"app-{uuid.uuid4().hex[:8]}"
    genuine = owned_event(order(application), subject=application)
    funding = make_producer(as_service(kafka, "funding"))
    await funding.start()
    try:
        await funding.send_many([record_of(genuine)])  # the positive control: funding's own
    finally:
        await funding.stop()

    # The same order, claiming /proxima/funding, written by each service that reads the
    # topic (so it may see it) but does not own it.
    forged_keys: set[str] = set()
    for impostor in ("ledger", "diagnostics", "gateway"):
        subject = f"forged-by-{impostor}-{uuid.uuid4().hex[:6]}"
        forged = owned_event(order(subject), subject=subject)
        assert forged.source == "/proxima/funding"
        forged_keys.add(subject)
        producer = make_producer(as_service(kafka, impostor))
        await producer.start()
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                await producer.send_many([record_of(forged)])
        finally:
            await producer.stop()

    landed = await _read(kafka, PAYMENTS, {application, *forged_keys}, wait_for=1)
    assert [r.key for r in landed] == [application]


async def test_only_a_topics_owner_creates_it(kafka: Any) -> None:
    ledger = KafkaConnection.from_settings(as_service(kafka, "ledger"))
    diagnostics = KafkaConnection.from_settings(as_service(kafka, "diagnostics"))
    # The ledger's dead letters of funding's orders: the ledger's topic, not funding's.
    dlq = dead_letter_topic("ledger", PAYMENTS)
    await ensure_topics(ledger, [dlq])
    with pytest.raises(TopicAuthorizationFailedError):
        await ensure_topics(diagnostics, [f"proxima.funding.t{uuid.uuid4().hex[:8]}"])
    with pytest.raises(TopicAuthorizationFailedError):
        await ensure_topics(diagnostics, [dead_letter_topic("funding", PAYMENTS)])
    producer = make_producer(as_service(kafka, "diagnostics"))
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):  # nor writes to another's dead letters
            await producer.send_many([OutgoingRecord(topic=dlq, key="x", value=b"{}")])
    finally:
        await producer.stop()


async def _first_records(settings: ServiceSettings, group: str, topic: str) -> list[Record]:
    """What ``group`` gets from ``topic`` in a few seconds (and its assignment)."""
    consumer = make_consumer(settings, group=group, topics=[topic])
    await consumer.start()
    try:
        got: list[Record] = []
        deadline = asyncio.get_running_loop().time() + 8
        while not got and asyncio.get_running_loop().time() < deadline:
            got = await consumer.fetch(max_records=10, timeout_s=0.5)
        return got
    finally:
        await consumer.stop()


async def test_a_service_reads_only_the_topics_it_consumes(kafka: Any) -> None:
    answers = topic_for("proxima.ledger.payment.settled.v1")
    ledger = make_producer(as_service(kafka, "ledger"))
    await ledger.start()
    try:
        answer = PaymentSettled(order_id="o-read", status="failed")
        await ledger.send_many([record_of(owned_event(answer, subject="o-read"))])
    finally:
        await ledger.stop()
    tag = uuid.uuid4().hex[:6]
    # funding consumes the ledger's answers (the positive control); diagnostics does not,
    # and gets nothing: the broker will not even describe the topic to it
    funding = await _first_records(as_service(kafka, "funding"), f"funding-{tag}", answers)
    assert funding
    diagnostics = as_service(kafka, "diagnostics")
    assert await _first_records(diagnostics, f"diagnostics-{tag}", answers) == []
    # nor may a service join another's consumer group
    with pytest.raises(GroupAuthorizationFailedError):
        await _first_records(as_service(kafka, "ledger"), f"funding-{tag}", PAYMENTS)


async def test_every_service_that_checks_tokens_reads_the_gateways_revocations(
    kafka: Any,
) -> None:
    """The services' token-event followers read the gateway's client events under their own
    principal: a revocation reaches each of them, not only the gateway."""
    clients = topic_for(ClientChanged.event_type)
    changed_at = datetime.now(UTC)
    revoked = ClientChanged(
        client_id=f"revoked-{uuid.uuid4().hex[:6]}",
        changes=["revoked"],
        generation=1,
        revoked=True,
        changed_at=changed_at,
        tokens_expire_by=changed_at + timedelta(minutes=15),
    )
    gateway = make_producer(as_service(kafka, "gateway"))
    await gateway.start()
    try:
        await gateway.send_many([record_of(owned_event(revoked, subject=revoked.client_id))])
    finally:
        await gateway.stop()
    for service in ("ledger", "funding", "diagnostics"):
        tag = uuid.uuid4().hex[:6]
        got = await _first_records(
            as_service(kafka, service), f"{service}-token-events-{tag}", clients
        )
        assert revoked.client_id in {r.key for r in got}, service


async def test_an_unauthenticated_client_is_refused(kafka: Any) -> None:
    anonymous = ServiceSettings(
        service_name="funding", event_bus="kafka", kafka_bootstrap=kafka.bootstrap
    )  # PLAINTEXT, no credentials
    impostor = as_service(kafka, "funding").model_copy(
        update={"kafka_password": as_service(kafka, "ledger").kafka_password}
    )  # funding's name, another principal's password
    for settings in (anonymous, impostor):
        producer = make_producer(settings)
        try:
            with pytest.raises(KafkaConnectionError):
                await producer.start()
        finally:
            await producer.stop()
