"""Everything event-related a service process runs: one producer, the outbox relay and the
consumer runners of its subscriptions, started and stopped with the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.events.consumer import ConsumerRunner, Subscription
from shared.events.outbox import OutboxRelay
from shared.events.registry import dead_letter_topic, producer_of, registered_types, topic_for
from shared.events.transports import Producer, make_consumer, make_producer
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


class EventRuntime:
    def __init__(
        self,
        *,
        settings: ServiceSettings,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        subscriptions: Sequence[Subscription] = (),
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.session_factory = session_factory
        self.subscriptions = list(subscriptions)
        self.producer: Producer = make_producer(settings)
        self._tasks: list[asyncio.Task[None]] = []
        self.runners: list[ConsumerRunner] = []

    async def start(self) -> None:
        await self.producer.start()
        if self.settings.event_bus == "kafka":
            await self._create_own_topics()
        relay = OutboxRelay(
            service=self.settings.service_name,
            engine=self.engine,
            producer=self.producer,
            poll_interval_s=self.settings.relay_poll_interval_s,
        )
        self._tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        for subscription in self.subscriptions:
            consumer = make_consumer(
                self.settings, group=subscription.group, topics=subscription.topics
            )
            await consumer.start()
            runner = ConsumerRunner(
                service=self.settings.service_name,
                subscription=subscription,
                consumer=consumer,
                session_factory=self.session_factory,
                dead_letter_producer=self.producer,
                max_attempts=self.settings.consumer_max_attempts,
                retry_base_s=self.settings.consumer_retry_base_s,
            )
            self.runners.append(runner)
            self._tasks.append(
                asyncio.create_task(runner.run(), name=f"consumer-{subscription.group}")
            )
        log.info(
            "event_runtime_started",
            bus=self.settings.event_bus,
            consumers=[s.group for s in self.subscriptions],
        )

    async def _create_own_topics(self) -> None:
        """The topics this service owns, and only those (the broker lets no one else
        create them): the families it produces, so consumers can subscribe before its
        first event, and the dead-letter topics of what it consumes."""
        from shared.events.transports.kafka import KafkaConnection, TopicSpec, ensure_topics

        service = self.settings.service_name
        families = {topic_for(t) for t in registered_types() if producer_of(t) == service}
        consumed = {topic for s in self.subscriptions for topic in s.topics}
        await ensure_topics(
            KafkaConnection.from_settings(self.settings),
            families | {dead_letter_topic(service, topic) for topic in consumed},
            spec=TopicSpec.from_settings(self.settings),
        )

    async def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop within a bounded time: a shutdown that hangs is worse than one that
        abandons a connection (everything here is at-least-once and redelivered)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in stuck:
                log.error("event_task_did_not_stop", task=task.get_name())
        self._tasks.clear()
        for runner in self.runners:
            await _bounded(runner.consumer.stop(), grace_s, "consumer")
        self.runners.clear()
        await _bounded(self.producer.stop(), grace_s, "producer")

    async def ping(self) -> None:
        await self.producer.ping()


async def _bounded(step: Coroutine[Any, Any, None], timeout_s: float, what: str) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            await step
    except TimeoutError:
        log.error("event_transport_stop_timed_out", what=what)
