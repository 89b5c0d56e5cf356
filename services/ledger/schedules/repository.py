"""Every SQL statement of schedules, their runs, and the scheduler's leadership."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.ledger.database.tables import schedule_runs, schedules

LEADER_LOCK = (1_773_777_594, 0)
"""``zlib.crc32(b"ledger-scheduler")`` masked to 31 bits, and 0: the one session-level
advisory lock whose holder is the scheduler's leader. PostgreSQL frees it when the holder's
connection ends, so a replica that dies hands the leadership over with no lease to expire."""


async def try_lead(conn: AsyncConnection) -> bool:
    """Take the leadership on ``conn`` if no other connection holds it."""
    got = await conn.execute(
        text("SELECT pg_try_advisory_lock(:class, :key)"),
        {"class": LEADER_LOCK[0], "key": LEADER_LOCK[1]},
    )
    return bool(got.scalar_one())


async def stop_leading(conn: AsyncConnection) -> None:
    await conn.execute(
        text("SELECT pg_advisory_unlock(:class, :key)"),
        {"class": LEADER_LOCK[0], "key": LEADER_LOCK[1]},
    )


RUN_LOCK_CLASS = LEADER_LOCK[0] + 1
"""The class of the session-level advisory lock a replica holds on one run while it runs it
(the key is the run id's ``hashtext``): a second leader, or a resumption of a run another
replica is still running, skips it instead of running it again."""


async def try_hold_run(conn: AsyncConnection, run_id: UUID) -> bool:
    got = await conn.execute(
        text("SELECT pg_try_advisory_lock(:class, hashtext(:run))"),
        {"class": RUN_LOCK_CLASS, "run": str(run_id)},
    )
    return bool(got.scalar_one())


async def release_run(conn: AsyncConnection, run_id: UUID) -> None:
    await conn.execute(
        text("SELECT pg_advisory_unlock(:class, hashtext(:run))"),
        {"class": RUN_LOCK_CLASS, "run": str(run_id)},
    )


async def still_running(conn: AsyncConnection, run_id: UUID) -> bool:
    found = await conn.execute(select(schedule_runs.c.outcome).where(schedule_runs.c.id == run_id))
    return found.scalar_one_or_none() == "running"


async def upsert_schedule(session: AsyncSession, **values: Any) -> RowMapping:
    """Insert or replace a schedule; ``authorised_at`` is the database's now either way."""
    new = insert(schedules).values(**values, authorised_at=func.now())
    stmt = new.on_conflict_do_update(
        index_elements=[schedules.c.currency, schedules.c.operation],
        set_={
            key: new.excluded[key]
            for key in (*values, "authorised_at")
            if key not in ("currency", "operation")
        },
    ).returning(*schedules.c)
    return (await session.execute(stmt)).mappings().one()


async def get_schedule(session: AsyncSession, currency: str, operation: str) -> RowMapping | None:
    stmt = select(schedules).where(
        schedules.c.currency == currency, schedules.c.operation == operation
    )
    return (await session.execute(stmt)).mappings().one_or_none()


async def list_schedules(
    session: AsyncSession, currency: str | None = None
) -> Sequence[RowMapping]:
    stmt = select(schedules).order_by(schedules.c.currency, schedules.c.operation)
    if currency is not None:
        stmt = stmt.where(schedules.c.currency == currency)
    return (await session.execute(stmt)).mappings().all()


async def delete_schedule(session: AsyncSession, currency: str, operation: str) -> bool:
    stmt = delete(schedules).where(
        schedules.c.currency == currency, schedules.c.operation == operation
    )
    result: Any = await session.execute(stmt)
    return bool(result.rowcount)


async def last_occurrence(session: AsyncSession, currency: str, operation: str) -> datetime | None:
    """The latest occurrence ever started, whatever its outcome."""
    stmt = select(func.max(schedule_runs.c.scheduled_for)).where(
        schedule_runs.c.currency == currency, schedule_runs.c.operation == operation
    )
    value: datetime | None = (await session.execute(stmt)).scalar_one()
    return value


async def unfinished_runs(
    session: AsyncSession, currency: str, operation: str
) -> Sequence[RowMapping]:
    """Runs left ``running`` by a leader that stopped mid-run, oldest first."""
    stmt = (
        select(schedule_runs)
        .where(
            schedule_runs.c.currency == currency,
            schedule_runs.c.operation == operation,
            schedule_runs.c.outcome == "running",
        )
        .order_by(schedule_runs.c.scheduled_for)
    )
    return (await session.execute(stmt)).mappings().all()


async def claim_run(session: AsyncSession, **values: Any) -> RowMapping | None:
    """Insert the run of one occurrence; None when it already exists (it runs once)."""
    stmt = (
        insert(schedule_runs)
        .values(**values)
        .on_conflict_do_nothing(constraint="uq_schedule_runs_occurrence")
        .returning(*schedule_runs.c)
    )
    return (await session.execute(stmt)).mappings().one_or_none()


async def retry_run(session: AsyncSession, run_id: UUID) -> RowMapping:
    stmt = (
        update(schedule_runs)
        .where(schedule_runs.c.id == run_id)
        .values(attempts=schedule_runs.c.attempts + 1)
        .returning(*schedule_runs.c)
    )
    return (await session.execute(stmt)).mappings().one()


async def update_run(session: AsyncSession, run_id: UUID, **values: Any) -> None:
    await session.execute(
        update(schedule_runs).where(schedule_runs.c.id == run_id).values(**values)
    )


async def list_runs(
    session: AsyncSession,
    currency: str,
    operation: str,
    *,
    before: datetime | None,
    limit: int,
) -> Sequence[RowMapping]:
    """A page of runs, newest occurrence first."""
    stmt = (
        select(schedule_runs)
        .where(schedule_runs.c.currency == currency, schedule_runs.c.operation == operation)
        .order_by(schedule_runs.c.scheduled_for.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(schedule_runs.c.scheduled_for < before)
    return (await session.execute(stmt)).mappings().all()
