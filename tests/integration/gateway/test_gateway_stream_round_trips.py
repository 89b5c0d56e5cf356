"""What recording a batch of streamed events costs the gateway's consumer, in statements.

Why it matters: the consumer shares the gateway's one event loop with the proxy, and each
statement is a round trip to PostgreSQL plus SQLAlchemy's work around it. In the soak the
stream group fell behind the ledger (lag 1,304, rising 2,759/h) while it spent four
statements per event: the append lock, the stream row, the dashboard upsert, the inbox
row. The lock is now taken once per transaction (a batch) and each row's append and
upsert are one statement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import event, select

from services.gateway.stream import service
from services.gateway.stream.models import DashboardState, StreamEvent
from shared.db import make_engine, make_session_factory
from shared.events.catalog.diagnostics import AggregateUpdated
from shared.events.catalog.ledger import PostedLeg, TransactionPosted
from shared.events.envelope import Event, new_event


def transfer(n: int, amount: int) -> Event:
    return new_event(
        TransactionPosted(
            transaction_id=f"t{n}",
            currency="MESURE",
            kind="transfer",
            postings=[
                PostedLeg(account_id="a", account_type="member", territory="38185", amount=-amount),
                PostedLeg(account_id="b", account_type="member", territory="38185", amount=amount),
            ],
            effective_date=date(2026, 12, 8),
        ),
        source="/proxima/ledger",
        subject=f"t{n}",
    )


def volume(value: float) -> Event:
    return new_event(
        AggregateUpdated(
            territory="38185",
            metric="currency_volume",
            period="2026-12",
            currency="MESURE",
            value=value,
            unit="minor units",
        ),
        source="/proxima/diagnostics",
        subject="38185",
    )


async def test_a_batch_takes_the_append_lock_once_and_one_statement_per_stream_row(
    migrated_database: Callable[[str], str],
) -> None:
    engine = make_engine(migrated_database("gateway"), pool_size=1, max_overflow=0)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        factory = make_session_factory(engine)
        batch = [transfer(n, 100 + n) for n in range(10)] + [volume(1.0), volume(2.5)]
        positions: list[int] = []
        async with factory() as session, session.begin():
            for e in batch:
                positions += await service.record(session, e)
        assert len(statements) == 1 + len(batch), statements  # was 3 per event
        assert sum("pg_advisory_xact_lock" in s for s in statements) == 1

        async with factory() as session:
            stored = (
                await session.scalars(select(StreamEvent.position).order_by(StreamEvent.position))
            ).all()
            states = {s.key: s for s in (await session.scalars(select(DashboardState))).all()}
        assert positions == list(stored) and len(set(positions)) == len(batch)
        ledger = next(s for s in states.values() if s.kind == "ledger")
        assert (ledger.amount, ledger.count) == (sum(100 + n for n in range(10)), 10)
        assert ledger.position == positions[9]
        aggregate = next(s for s in states.values() if s.kind == "aggregate")
        assert (aggregate.value, aggregate.count, aggregate.position) == (2.5, 2, positions[-1])

        # A new transaction takes the lock again: it is held only until a commit.
        statements.clear()
        async with factory() as session, session.begin():
            await service.record(session, transfer(99, 1))
        assert sum("pg_advisory_xact_lock" in s for s in statements) == 1
    finally:
        await engine.dispose()
