"""All SQL of the gateway's traffic: the replicas' heartbeats (``gateway_replicas``)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

BEAT = text(
    """
    WITH me AS (
        INSERT INTO gateway_replicas (replica_id) VALUES (:replica_id)
        ON CONFLICT (replica_id) DO UPDATE SET heartbeat_at = now()
    ), gone AS (
        DELETE FROM gateway_replicas
        WHERE heartbeat_at < now() - make_interval(secs => :forget_after_s)
    )
    SELECT count(*) FROM gateway_replicas
    WHERE replica_id <> :replica_id AND heartbeat_at >= now() - make_interval(secs => :stale_s)
    """
)
LEAVE = text("DELETE FROM gateway_replicas WHERE replica_id = :replica_id")


async def beat(
    session: AsyncSession, *, replica_id: str, stale_s: float, forget_after_s: float
) -> int:
    """Record this replica's heartbeat, forget replicas silent for ``forget_after_s``, and
    count the OTHER replicas heard from within ``stale_s``."""
    others = (
        await session.execute(
            BEAT,
            {"replica_id": replica_id, "stale_s": stale_s, "forget_after_s": forget_after_s},
        )
    ).scalar_one()
    return int(others)


async def leave(session: AsyncSession, *, replica_id: str) -> None:
    await session.execute(LEAVE, {"replica_id": replica_id})
