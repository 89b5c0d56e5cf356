"""The consumer runner: apply each event once, commit the offset after the database.

For each record: decode (a bad envelope, an unknown type or an invalid payload goes
straight to the dead letters with the reason); check that its producer owns the topic
(``trust.py``: an untrusted event is dead-lettered with the reason, no handler runs); then,
in ONE database transaction, insert the event's key into the inbox (``ON CONFLICT DO
NOTHING``) and, only if it was new, run the handler; commit; then commit the offset. A
crash anywhere before the offset commit means redelivery, and the inbox makes the
redelivery a no-op. A handler that keeps failing is
retried with exponential backoff, then dead-lettered, so later events keep flowing.

Dead letters belong to the consumer that gave up: a row in its own database's
``dead_letters`` table and a copy on its own dead-letter topic
(``proxima.<consumer service>.dlq.<topic>``, which only it may write); ``replay.py``
re-applies them in its process, never by republishing under another service's name.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import structlog
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events.envelope import EnvelopeError, Event, decode
from shared.events.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, HANDLER_RETRIES
from shared.events.registry import dead_letter_topic, topic_for
from shared.events.tables import dead_letters, processed_events
from shared.events.transports.base import Consumer, OutgoingRecord, Producer, Record
from shared.events.trust import untrusted_reason
from shared.observability import correlation_id_var
from shared.tracing import consumer_span

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Event], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class Subscription:
    """A consumer group and the handlers it runs, by event type."""

    group: str
    handlers: Mapping[str, Handler]

    @property
    def topics(self) -> list[str]:
        return sorted({topic_for(t) for t in self.handlers})


class ConsumerRunner:
    def __init__(
        self,
        *,
        service: str,
        subscription: Subscription,
        consumer: Consumer,
        session_factory: async_sessionmaker[AsyncSession],
        dead_letter_producer: Producer,
        max_attempts: int = 5,
        retry_base_s: float = 0.2,
        batch_size: int = 200,
    ) -> None:
        self.service = service
        self.subscription = subscription
        self.consumer = consumer
        self.session_factory = session_factory
        self.dead_letter_producer = dead_letter_producer
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.batch_size = batch_size

    @property
    def group(self) -> str:
        return self.subscription.group

    async def run(self) -> None:
        """Consume until cancelled; transport errors are logged and retried."""
        while True:
            try:
                records = await self.consumer.fetch(max_records=self.batch_size, timeout_s=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer_fetch_failed", consumer=self.group)
                await asyncio.sleep(1.0)
                continue
            if records:
                await self._until_done("process", self.process_batch, records)
            # One offset commit per partition per batch: the database already holds every
            # effect, and a crash before this line only means redelivery into the inbox.
            last_per_partition = {(r.topic, r.partition): r for r in records}
            for record in last_per_partition.values():
                await self._until_done("commit", self.consumer.commit, record)

    async def _until_done(self, step: str, action: Callable[[T], Awaitable[None]], item: T) -> None:
        """Retry an infrastructure step (database or bus down) until it succeeds.

        Moving on would skip the record: Kafka's in-memory position is already past it.
        Retrying is safe: effects are guarded by the inbox and offsets only move forward.
        Handler failures never reach here; `process` bounds and dead-letters them.
        """
        delay = 0.2
        while True:
            try:
                await action(item)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer_step_failed", consumer=self.group, step=step, error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def process_batch(self, records: list[Record]) -> None:
        """Apply a batch in ONE transaction (one commit instead of one per event: what keeps
        a consumer ahead of a busy producer). If anything in it fails, fall back to one
        transaction per event, so only the failing event is retried and dead-lettered."""
        if len(records) > 1:
            try:
                outcomes = await self._apply_all(records)
            except asyncio.CancelledError:
                raise
            except _BatchFailed as failure:
                if is_infrastructure_error(failure.error):
                    raise failure.error from None
                log.info(
                    "batch_falls_back_to_single_events",
                    consumer=self.group,
                    error=repr(failure.error),
                )
                failed_at = failure.index
            else:
                for event_type, outcome in outcomes:
                    EVENTS_CONSUMED.labels(self.group, event_type, outcome).inc()
                return
        else:
            failed_at = -1
        for index, record in enumerate(records):
            # The batch attempt counts as the failing event's first try.
            tried = 1 if index == failed_at else 0
            await self._until_done("process", functools.partial(self.process, tried=tried), record)

    async def _apply_all(self, records: list[Record]) -> list[tuple[str, str]]:
        outcomes: list[tuple[str, str]] = []
        index = -1
        try:
            async with self.session_factory() as session, session.begin():
                for index, record in enumerate(records):  # noqa: B007 - read in the handler below
                    event = decode(record.value)  # a bad one aborts the batch: handled singly
                    reason = untrusted_reason(event, record)
                    if reason is not None:
                        raise _BatchFailed(-1, UntrustedEvent(reason))  # dead-lettered singly
                    handler = self.subscription.handlers.get(event.type)
                    if handler is None:
                        outcomes.append((event.type, "ignored"))
                        continue
                    applied = await self._apply_in(session, event, handler)
                    outcomes.append((event.type, "applied" if applied else "duplicate"))
        except (asyncio.CancelledError, _BatchFailed):
            raise
        except EnvelopeError as exc:
            raise _BatchFailed(-1, exc) from exc  # not a handler try: dead-lettered singly
        except Exception as exc:
            raise _BatchFailed(index, exc) from exc
        return outcomes

    async def process(self, record: Record, *, tried: int = 0) -> None:
        try:
            event = decode(record.value)
        except EnvelopeError as exc:
            await self._dead_letter(record, reason=exc.reason, event_type=None, attempts=0)
            return
        reason = untrusted_reason(event, record)
        if reason is not None:
            await self._dead_letter(record, reason=reason, event_type=event.type, attempts=0)
            return
        handler = self.subscription.handlers.get(event.type)
        if handler is None:  # a known type this group does not handle: not ours
            EVENTS_CONSUMED.labels(self.group, event.type, "ignored").inc()
            return
        last_error: Exception | None = None
        for attempt in range(tried + 1, self.max_attempts + 1):
            try:
                applied = await self._apply(event, handler)
                EVENTS_CONSUMED.labels(
                    self.group, event.type, "applied" if applied else "duplicate"
                ).inc()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_infrastructure_error(exc):
                    raise  # the database is down: wait for it, do not burn the retries
                last_error = exc
                HANDLER_RETRIES.labels(self.group).inc()
                log.warning(
                    "handler_failed",
                    consumer=self.group,
                    event_id=event.id,
                    type=event.type,
                    attempt=attempt,
                    error=repr(exc),
                )
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.retry_base_s * 2 ** (attempt - 1))
        await self._dead_letter(
            record,
            reason=f"handler failed {self.max_attempts} times: {last_error!r}",
            event_type=event.type,
            attempts=self.max_attempts,
        )

    async def _apply(self, event: Event, handler: Handler) -> bool:
        async with self.session_factory() as session, session.begin():
            return await self._apply_in(session, event, handler)

    async def _apply_in(self, session: AsyncSession, event: Event, handler: Handler) -> bool:
        return await apply_once(session, self.group, event, handler)

    async def _dead_letter(
        self, record: Record, *, reason: str, event_type: str | None, attempts: int
    ) -> None:
        kind = reason.split(":", 1)[0][:60]
        EVENTS_DEAD_LETTERED.labels(self.group, kind).inc()
        log.error(
            "event_dead_lettered",
            consumer=self.group,
            topic=record.topic,
            offset=record.offset,
            reason=reason,
        )
        async with self.session_factory() as session, session.begin():
            await session.execute(
                insert(dead_letters).values(
                    consumer=self.group,
                    topic=record.topic,
                    partition=record.partition,
                    record_offset=record.offset,
                    key=record.key,
                    event_type=event_type,
                    reason=reason[:4000],
                    attempts=attempts,
                    payload=record.value,
                )
            )
        headers = (
            *record.headers,
            ("dlq-reason", reason[:1000].encode()),
            ("dlq-consumer", self.group.encode()),
            ("dlq-original-topic", record.topic.encode()),
            ("dlq-original-offset", str(record.offset).encode()),
        )
        await self.dead_letter_producer.send_many(
            [
                OutgoingRecord(
                    topic=dead_letter_topic(self.service, record.topic),
                    key=record.key or "",
                    value=record.value,
                    headers=headers,
                )
            ]
        )


async def apply_once(session: AsyncSession, group: str, event: Event, handler: Handler) -> bool:
    """Inbox row and handler effects in the caller's transaction; False if ``group``
    already applied the event. With tracing on, this runs in a span continuing the trace
    the event's envelope carries (what the handler records carries it on)."""
    token = correlation_id_var.set(event.correlation_id)
    try:
        with consumer_span(event.type, event.traceparent, event.tracestate, group=group):
            return await _apply_once(session, group, event, handler)
    finally:
        correlation_id_var.reset(token)


async def _apply_once(session: AsyncSession, group: str, event: Event, handler: Handler) -> bool:
    inserted = await session.execute(
        pg_insert(processed_events)
        .values(consumer=group, dedup_key=event.dedup_key, event_type=event.type)
        .on_conflict_do_nothing()
        .returning(processed_events.c.dedup_key)
    )
    if inserted.first() is None:
        return False
    await handler(session, event)
    return True


class UntrustedEvent(Exception):
    """An event whose producer does not own its topic (``trust.py``)."""


class _BatchFailed(Exception):
    """Which event of a batch failed (-1: none of the handlers), and why."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(repr(error))
        self.index = index
        self.error = error


def is_infrastructure_error(exc: BaseException) -> bool:
    """True for a lost or refused database connection, as opposed to a failing handler."""
    if isinstance(exc, OSError | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
