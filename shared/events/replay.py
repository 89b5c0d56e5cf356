"""Replay dead letters: ``python -m shared.events.replay --service <name> [--id N ...]``.

A dead letter belongs to the consumer that gave up on it, so it is replayed there: this
command runs in the consuming service's environment (its ``PROXIMA_DATABASE_URL``), loads
that service's handlers (``services.<name>.consumers:subscriptions``, or ``--handlers``)
and re-applies each pending row through the inbox, in one transaction with marking the row
replayed. Nothing is republished: a service never writes to another service's topic, and
no other consumer group sees the event again.

An event dead-lettered as untrusted (its producer does not own its topic) is never
replayed, nor is one that still fails to decode or to pass the trust check; a handler that
fails again leaves its row pending. Each outcome is reported with its reason.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import make_engine, make_session_factory
from shared.events.consumer import Handler, Subscription, apply_once, is_infrastructure_error
from shared.events.envelope import EnvelopeError, decode
from shared.events.tables import dead_letters
from shared.events.transports.base import Record
from shared.events.trust import UNTRUSTED, untrusted_reason
from shared.settings import ServiceSettings


@dataclass
class ReplayReport:
    """Row ids by outcome: applied now, already applied by the group (marked replayed
    too), or left pending with the reason."""

    applied: list[int] = field(default_factory=list)
    already_applied: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)

    @property
    def replayed(self) -> int:
        return len(self.applied) + len(self.already_applied)


def _handler_for(
    subscriptions: Sequence[Subscription], group: str, event_type: str
) -> Handler | None:
    """The group's own handler for the type, else the service's handler for it (a group
    renamed since, e.g. a rebuild under a new name)."""
    for subscription in subscriptions:
        if subscription.group == group and event_type in subscription.handlers:
            return subscription.handlers[event_type]
    for subscription in subscriptions:
        if event_type in subscription.handlers:
            return subscription.handlers[event_type]
    return None


async def replay_dead_letters(
    session_factory: async_sessionmaker[AsyncSession],
    subscriptions: Sequence[Subscription],
    *,
    ids: Sequence[int] = (),
    consumer: str | None = None,
) -> ReplayReport:
    """Re-apply pending dead letters (all, or the given ids, or one group's) in this
    service's database with its own handlers."""
    query = (
        select(dead_letters).where(dead_letters.c.replayed_at.is_(None)).order_by(dead_letters.c.id)
    )
    if ids:
        query = query.where(dead_letters.c.id.in_(list(ids)))
    if consumer:
        query = query.where(dead_letters.c.consumer == consumer)
    async with session_factory() as session:
        rows = (await session.execute(query)).all()
    report = ReplayReport()
    for row in rows:
        if row.reason.startswith(UNTRUSTED):
            report.refused[row.id] = f"never replayed: {row.reason}"
            continue
        try:
            event = decode(row.payload)
        except EnvelopeError as exc:
            report.refused[row.id] = exc.reason
            continue
        # The row does not know who wrote the record; it was trusted on that count, or its
        # reason would say untrusted. The envelope is checked again against its topic.
        record = Record(
            topic=row.topic,
            partition=row.partition,
            offset=row.record_offset,
            key=row.key,
            value=row.payload,
        )
        reason = untrusted_reason(event, record)
        if reason is not None:
            report.refused[row.id] = reason
            continue
        handler = _handler_for(subscriptions, row.consumer, event.type)
        if handler is None:
            report.refused[row.id] = f"no handler for {event.type} in this service"
            continue
        try:
            async with session_factory() as session, session.begin():
                applied = await apply_once(session, row.consumer, event, handler)
                await session.execute(
                    update(dead_letters)
                    .where(dead_letters.c.id == row.id)
                    .values(replayed_at=func.now())
                )
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise
            report.refused[row.id] = f"handler failed again: {exc!r}"
            continue
        (report.applied if applied else report.already_applied).append(row.id)
    return report


def load_subscriptions(spec: str) -> Sequence[Subscription]:
    """``module:function`` returning the service's subscriptions."""
    module_name, _, attribute = spec.partition(":")
    factory: Callable[[], Sequence[Subscription]] = getattr(
        importlib.import_module(module_name), attribute or "subscriptions"
    )
    return factory()


async def _main(args: argparse.Namespace) -> int:
    settings = ServiceSettings(service_name=args.service)
    subscriptions = load_subscriptions(
        args.handlers or f"services.{args.service}.consumers:subscriptions"
    )
    engine = make_engine(settings.database_url)
    try:
        report = await replay_dead_letters(
            make_session_factory(engine), subscriptions, ids=args.id, consumer=args.consumer
        )
    finally:
        await engine.dispose()
    print(
        f"{args.service}: re-applied {len(report.applied)} dead letter(s), "
        f"{len(report.already_applied)} already applied, {len(report.refused)} left pending"
    )
    for row_id, reason in sorted(report.refused.items()):
        print(f"  #{row_id}: {reason}")
    return 1 if report.refused else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--service", required=True, help="whose dead letters (and handlers)")
    parser.add_argument("--id", type=int, action="append", default=[], help="replay only these")
    parser.add_argument("--consumer", default=None, help="replay only this consumer group's")
    parser.add_argument(
        "--handlers",
        default=None,
        help="module:function returning the subscriptions (default "
        "services.<service>.consumers:subscriptions)",
    )
    raise SystemExit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
