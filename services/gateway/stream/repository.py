"""All SQL of the live stream: recording events, reading them back (through the pool, or
on the hub's own listening connection), the dashboard state, and retention."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import (
    CTE,
    ColumnElement,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.gateway.dashboard.rules import StateUpdate
from services.gateway.stream.models import DashboardState, StreamEvent
from services.gateway.stream.rules import StreamRow, TenantFilter
from shared.events.envelope import Event

# Appends are serialised so positions become visible in order: the hub, which reads
# "everything after the last position I saw", then never skips a row committed late.
APPEND_LOCK = zlib.crc32(b"gateway:stream_events")
STREAM = StreamEvent.__table__
STATE = DashboardState.__table__


async def record(
    session: AsyncSession,
    event: Event,
    rows: Sequence[tuple[StreamRow, StateUpdate | None]],
) -> list[int]:
    """Append the rows and apply each one's update of the dashboard state, in the caller's
    transaction: one statement per row (the append, then the upsert reading the appended
    row's position, in one data-modifying CTE), the append lock once per transaction."""
    if not rows:
        return []
    await _lock_appends(session)
    positions = []
    for row, update in rows:
        appended = (
            insert(StreamEvent)
            .values(
                event_type=row.event_type,
                event_key=event.dedup_key[:400],
                occurred_at=event.time,
                territory=row.tags.territory,
                currency=row.tags.currency,
                programme=row.tags.programme,
                data=row.data,
            )
            .returning(StreamEvent.position)
        )
        if update is None:
            position = (await session.execute(appended)).scalar_one()
        else:
            position = (await session.execute(_upsert_after(appended.cte(), update))).scalar_one()
        positions.append(int(position))
    return positions


_LOCKED_IN = "gateway.stream.append_lock_held_in"


async def _lock_appends(session: AsyncSession) -> None:
    """Take the append lock once per transaction: the consumer records a whole batch of
    events in one transaction, and the lock, held until its commit, needs no second round
    trip per event (``session.info`` remembers the transaction that took it)."""
    transaction = session.sync_session.get_transaction()
    if transaction is not None and session.info.get(_LOCKED_IN) is transaction:
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK})
    session.info[_LOCKED_IN] = transaction


def _upsert_after(appended: CTE, update: StateUpdate) -> Any:
    """The state row's upsert, taking its position from the ``appended`` stream row; it
    returns that position (both branches set the state row's position to it)."""
    values: dict[str, Any] = {
        "key": update.key,
        "kind": update.kind,
        "territory": update.tags.territory,
        "currency": update.tags.currency,
        "programme": update.tags.programme,
        "metric": update.metric,
        "value": update.value,
        "unit": update.unit,
        "period": update.period,
        "amount": update.amount,
        "count": 1,
    }
    columns = [*values, "position"]
    chosen = select(
        *(literal(v, type_=STATE.c[k].type) for k, v in values.items()), appended.c.position
    )
    statement = pg_insert(DashboardState).from_select(columns, chosen)
    new = statement.excluded
    changes: dict[str, Any] = {"position": new.position, "updated_at": func.now()}
    if update.mode == "add":
        changes.update(amount=DashboardState.amount + new.amount, count=DashboardState.count + 1)
    else:
        changes.update(
            territory=new.territory,
            currency=new.currency,
            programme=new.programme,
            value=new.value,
            unit=new.unit,
            period=new.period,
            amount=new.amount,
            count=DashboardState.count + 1,
        )
    return statement.on_conflict_do_update(index_elements=["key"], set_=changes).returning(
        DashboardState.position
    )


def tenant_clause(columns: Any, tenants: TenantFilter) -> ColumnElement[bool]:
    """SQL form of `stream.rules.is_visible`: each tag, when present, must be allowed."""
    conditions = []
    for column, allowed in (
        (columns.territory, tenants.territories),
        (columns.currency, tenants.currencies),
        (columns.programme, tenants.programmes),
    ):
        if allowed is not None:
            conditions.append(or_(column.is_(None), column.in_(sorted(allowed))))
    return and_(true(), *conditions)


async def rows_after(
    conn: AsyncConnection, *, position: int, tenants: TenantFilter, limit: int
) -> Sequence[Any]:
    result = await conn.execute(
        select(*STREAM.c)
        .where(STREAM.c.position > position, tenant_clause(STREAM.c, tenants))
        .order_by(STREAM.c.position)
        .limit(limit)
    )
    return result.all()


async def bounds(conn: AsyncConnection) -> tuple[int, int]:
    """(oldest retained position, latest position); (0, 0) when empty."""
    low, high = (
        await conn.execute(select(func.min(StreamEvent.position), func.max(StreamEvent.position)))
    ).one()
    if high is None:
        # An empty table may still have used positions: the identity knows the latest.
        latest = (
            await conn.execute(
                text(
                    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                    " FROM stream_events_position_seq"
                )
            )
        ).scalar_one()
        return int(latest) + 1, int(latest)
    return int(low), int(high)


async def latest_position(conn: asyncpg.Connection) -> int:
    """The latest recorded position, on the hub's listening connection (0 when empty)."""
    latest: int = await conn.fetchval("SELECT COALESCE(max(position), 0) FROM stream_events")
    return latest


async def fetch_after(
    conn: asyncpg.Connection, *, position: int, limit: int
) -> list[asyncpg.Record]:
    """Rows after ``position`` in order, on the hub's listening connection."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT position, event_type, occurred_at, territory, currency, programme, data"
        " FROM stream_events WHERE position > $1 ORDER BY position LIMIT $2",
        position,
        limit,
    )
    return rows


async def state_rows(conn: AsyncConnection, tenants: TenantFilter) -> Sequence[Any]:
    result = await conn.execute(
        select(*STATE.c).where(tenant_clause(STATE.c, tenants)).order_by(STATE.c.key)
    )
    return result.mappings().all()


async def prune(session: AsyncSession, *, retention_s: int, max_rows: int) -> int:
    """Forget stream rows older than the retention or beyond the newest ``max_rows``; the
    dashboard state keeps what they added up to."""
    cutoff = datetime.now(UTC) - timedelta(seconds=retention_s)
    latest = (await session.execute(select(func.max(StreamEvent.position)))).scalar_one()
    condition = StreamEvent.recorded_at < cutoff
    if latest is not None:
        condition = or_(condition, StreamEvent.position <= latest - max_rows)
    result = await session.execute(delete(StreamEvent).where(condition))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
