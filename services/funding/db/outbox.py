"""Recording the funding service's events: in the outbox, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.outbox import record_event
from shared.events.registry import EventPayload

SOURCE = "/proxima/funding"


async def record(session: AsyncSession, payload: EventPayload, *, subject: str) -> None:
    """Add one event whose key (``subject``) is the aggregate it concerns."""
    await record_event(session, payload, source=SOURCE, subject=subject)
