"""What the hot path needs to know about clients without a database round trip: who was
revoked recently (their tokens are refused at once, before they expire), whose scopes,
tenants or role changed recently (their tokens carrying an older generation are refused)
and who has a rate limit of its own. Refreshed every few seconds from the registry, so a
change on one replica reaches the others within ``client_policy_refresh_s``; the replica
that made it applies it immediately."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.clients import repository
from shared.auth import Principal

log = structlog.get_logger(__name__)


class ClientPolicy:
    def __init__(self, *, token_ttl_s: int) -> None:
        self.token_ttl_s = token_ttl_s
        self.revoked: frozenset[str] = frozenset()
        self.rate_limits: dict[str, int] = {}
        # client id -> lowest generation accepted, for clients changed within a token lifetime
        self.generations: dict[str, int] = {}

    def refusal(self, principal: Principal) -> str | None:
        """Why this principal's token may no longer be used, or None."""
        if principal.client_id in self.revoked:
            return "the client has been revoked"
        if principal.generation < self.generations.get(principal.client_id, 0):
            return "the client's scopes, tenants or role changed since it was issued"
        return None

    def set_generation(self, client_id: str, generation: int) -> None:
        if generation > self.generations.get(client_id, 0):
            self.generations = {**self.generations, client_id: generation}

    def rate_limit_of(self, client_id: str) -> int | None:
        return self.rate_limits.get(client_id)

    def mark_revoked(self, client_id: str) -> None:
        self.revoked = self.revoked | {client_id}
        self.rate_limits.pop(client_id, None)

    def set_rate_limit(self, client_id: str, per_minute: int | None) -> None:
        if per_minute is None:
            self.rate_limits.pop(client_id, None)
        else:
            self.rate_limits[client_id] = per_minute

    async def refresh(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        # A client revoked longer ago than a token lifetime holds no valid token any more.
        since = datetime.now(UTC) - timedelta(seconds=self.token_ttl_s + 120)
        async with session_factory() as session:
            revoked, overrides, generations = await repository.policy_snapshot(
                session, revoked_since=since
            )
        self.revoked = frozenset(revoked)
        self.rate_limits = overrides
        self.generations = generations

    async def run(
        self, session_factory: async_sessionmaker[AsyncSession], *, every_s: float
    ) -> None:
        while True:
            try:
                await self.refresh(session_factory)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("client_policy_refresh_failed", error=repr(exc))
            await asyncio.sleep(every_s)
