"""Use cases of the live stream: recording the events it follows, opening a client's
stream, replaying what a reconnecting client missed, the dashboard's snapshot, retention."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.gateway.dashboard.rules import state_update
from services.gateway.settings import GatewaySettings
from services.gateway.stream import repository
from services.gateway.stream.hub import StreamHub, StreamItem, Subscriber
from services.gateway.stream.rules import TenantFilter, project
from shared.auth import Principal
from shared.events.envelope import Event
from shared.problems import Problem

log = structlog.get_logger(__name__)

REPLAY_PAGE = 500
PRUNE_EVERY_S = 60


async def record(session: AsyncSession, event: Event) -> list[int]:
    """The event's stream rows and their dashboard updates, in the caller's transaction;
    their positions."""
    rows = project(event)
    return await repository.record(session, event, [(row, state_update(row)) for row in rows])


def open_stream(hub: StreamHub, principal: Principal) -> tuple[Subscriber, int]:
    """A queue for one more stream of this client (`TooManyStreams` past its limit), and
    the position it starts after. Everything dispatched from now on reaches the queue; what
    came before is either replayed from the table or, without a resume point, not this
    client's business."""
    subscriber = hub.subscribe(principal)
    return subscriber, hub.last_position


@dataclass(frozen=True, slots=True)
class Reset:
    """The rows after the resume point cannot all be replayed: the page reloads."""

    as_of: int


async def replay(
    engine: AsyncEngine, principal: Principal, *, resume: int, limit: int
) -> AsyncIterator[StreamItem | Reset]:
    """Rows after ``resume`` from the table, or a `Reset` when they cannot all be replayed
    (pruned, more than ``limit``, or an id from another database).

    A pooled connection is held only while one page is read, never while the client
    receives it: a client reading slowly (or not at all) must not keep a connection from
    everyone else."""
    tenants = TenantFilter.of(principal)
    async with engine.connect() as conn:
        oldest, latest = await repository.bounds(conn)
    if resume > latest or resume < oldest - 1 or latest - resume > limit:
        yield Reset(latest)
        return
    position = resume
    while True:
        async with engine.connect() as conn:
            rows = await repository.rows_after(
                conn, position=position, tenants=tenants, limit=REPLAY_PAGE
            )
        for row in rows:
            yield StreamItem.of(row._mapping)
        if len(rows) < REPLAY_PAGE:
            return
        position = rows[-1].position


class TokenGuard:
    """Whether an open stream's token still holds: not past its ``exp``, and (checked every
    ``recheck_s``) still accepted by the gateway's verifier: client not revoked nor changed
    since, signing key not withdrawn."""

    def __init__(
        self, verifier: Any, token: str | None, principal: Principal, *, recheck_s: float
    ) -> None:
        self.verifier = verifier
        self.token = token
        self.expires_at = principal.expires_at or float("inf")
        self.recheck_s = recheck_s
        self.next_check = time.monotonic() + recheck_s

    def seconds_to_next_check(self) -> float:
        until_expiry = self.expires_at - time.time()
        return max(0.0, min(until_expiry, self.next_check - time.monotonic()))

    def refusal(self, *, force: bool = False) -> str | None:
        """Why the stream must close now, or None."""
        if time.time() >= self.expires_at:
            return "token-expired"
        if not force and time.monotonic() < self.next_check:
            return None
        self.next_check = time.monotonic() + self.recheck_s
        if self.token is not None:
            try:
                self.verifier.verify(self.token)
            except Problem:
                return "token-revoked"
        return None


async def dashboard_snapshot(
    engine: AsyncEngine, tenants: TenantFilter
) -> tuple[int, Sequence[Any]]:
    """The latest stream position and the dashboard state rows the tenants may see, read
    in one snapshot so that they describe the same moment."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            _, latest = await repository.bounds(conn)
            rows = await repository.state_rows(conn, tenants)
    return latest, rows


async def prune_forever(
    session_factory: async_sessionmaker[AsyncSession], settings: GatewaySettings
) -> None:
    """Every minute, forget stream rows past the retention (the dashboard state keeps what
    they added up to)."""
    while True:
        await asyncio.sleep(PRUNE_EVERY_S)
        try:
            async with session_factory() as session, session.begin():
                removed = await repository.prune(
                    session,
                    retention_s=settings.stream_retention_s,
                    max_rows=settings.stream_max_rows,
                )
            if removed:
                log.info("stream_pruned", rows=removed)
        except Exception as exc:
            log.warning("stream_prune_failed", error=repr(exc))
