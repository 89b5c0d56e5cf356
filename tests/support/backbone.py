"""Building blocks for backbone tests: a probe database whose handler records every
application as a row (no unique constraint, so a double application shows as two rows).

Probes are ``proxima.platform.*`` events: the tests publish and consume them as the
``platform`` service (on Kafka, with the ``admin`` principal: no service may write there)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.events.catalog.platform import ProbeEmitted
from shared.events.consumer import Handler, Subscription
from shared.events.envelope import Event
from shared.events.registry import source_for
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
PROBE_SERVICE = "platform"
PROBE_SOURCE = source_for(PROBE_SERVICE)


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
    bus: str,
    *,
    events_url: str = "",
    bootstrap: str = "",
    kafka: Any | None = None,
    **extra: object,
) -> ServiceSettings:
    """The probes' settings: the ``platform`` service, and on Kafka the broker's
    ``admin`` principal (``kafka``), or credentials from PROXIMA_KAFKA_* variables."""
    credentials: dict[str, Any] = {}
    if kafka is not None:
        credentials = kafka.client_settings("admin")
    elif bootstrap:
        credentials = {"kafka_bootstrap": bootstrap}
    return ServiceSettings(
        **{
            "service_name": PROBE_SERVICE,
            "event_bus": bus,
            "events_database_url": events_url,
            "consumer_retry_base_s": 0.01,
            **credentials,
            **extra,
        }
    )
