"""Building blocks for backbone tests: a probe database whose handler records every
application as a row (no unique constraint, so a double application shows as two rows)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.events.catalog.platform import ProbeEmitted
from shared.events.consumer import Handler, Subscription
from shared.events.envelope import Event
from shared.events.tables import create_event_tables
from shared.settings import ServiceSettings

probe_metadata = MetaData()
probe_effects = Table(
    "probe_effects",
    probe_metadata,
    Column("probe_id", String(100), nullable=False),
    Column("sequence", Integer, nullable=False),
)

PROBE_TYPE = ProbeEmitted.event_type


async def prepare_probe_database(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(create_event_tables)
        await conn.run_sync(probe_metadata.create_all)


def recording_handler(
    before: Callable[[Event], Awaitable[None]] | None = None,
) -> Handler:
    async def handle(session: AsyncSession, event: Event) -> None:
        assert isinstance(event.data, ProbeEmitted)
        if before is not None:
            await before(event)
        await session.execute(
            probe_effects.insert().values(
                probe_id=event.data.probe_id, sequence=event.data.sequence
            )
        )

    return handle


def probe_subscription(group: str, handler: Handler | None = None) -> Subscription:
    return Subscription(group=group, handlers={PROBE_TYPE: handler or recording_handler()})


async def effects(engine: AsyncEngine, probe_id: str) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(probe_effects.c.sequence)
            .where(probe_effects.c.probe_id == probe_id)
            .order_by(probe_effects.c.sequence)
        )
        return [r[0] for r in rows]


async def count_rows(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def outbox_unpublished(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
        return int(result.scalar_one())


def bus_settings(
    bus: str, *, events_url: str = "", bootstrap: str = "", **extra: object
) -> ServiceSettings:
    return ServiceSettings(
        service_name="probe",
        event_bus=bus,  # type: ignore[arg-type]
        events_database_url=events_url,
        kafka_bootstrap=bootstrap,
        consumer_retry_base_s=0.01,
        **extra,  # type: ignore[arg-type]
    )
