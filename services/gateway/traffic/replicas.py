"""Gateway replicas count each other, so a client's rate limit holds for the whole gateway.

Each replica keeps its buckets in memory (no shared store on the request path: a database
or Redis round trip per request would cost more than the gateway's whole hop). Instead each
replica writes a heartbeat every few seconds and enforces its *share* of every limit —
the limit divided by the number of live replicas. Behind a Kubernetes Service that spreads
connections evenly, the sum of the shares is the configured limit; a client pinned to one
replica gets its share, never N times the limit.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.traffic import repository
from shared.background import pause

log = structlog.get_logger(__name__)

# A replica silent for this many heartbeat intervals is no longer counted.
STALE_AFTER_BEATS = 3


class ReplicaCensus:
    """How many gateway replicas share the traffic right now (this one included)."""

    def __init__(self, *, every_s: float, replica_id: str | None = None) -> None:
        self.every_s = every_s
        self.replica_id = replica_id or (
            f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
        )
        self.count = 1

    def share(self, amount: int) -> int:
        """This replica's part of a gateway-wide ``amount`` (rounded up, at least 1)."""
        return max(1, -(-amount // self.count))

    async def beat(self, factory: async_sessionmaker[AsyncSession]) -> int:
        stale_s = self.every_s * STALE_AFTER_BEATS
        async with factory() as session, session.begin():
            others = await repository.beat(
                session, replica_id=self.replica_id, stale_s=stale_s, forget_after_s=stale_s * 10
            )
        self.count = 1 + others
        return self.count

    async def leave(self, factory: async_sessionmaker[AsyncSession]) -> None:
        """Stop being counted at once on a clean shutdown (a crash ages out instead)."""
        async with factory() as session, session.begin():
            await repository.leave(session, replica_id=self.replica_id)

    async def run(self, factory: async_sessionmaker[AsyncSession], stop: asyncio.Event) -> None:
        """Beat every ``every_s`` until ``stop`` is set (the first beat is the caller's)."""
        while not stop.is_set():
            await pause(stop, self.every_s)
            if stop.is_set():
                break
            try:
                before = self.count
                if await self.beat(factory) != before:
                    log.info("gateway_replicas_changed", replicas=self.count)
            except Exception as exc:
                # Keep the last known count: a database hiccup must not multiply limits.
                log.warning("gateway_heartbeat_failed", error=repr(exc))
