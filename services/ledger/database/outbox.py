"""The ledger's events go to the outbox in the caller's unit of work, under one source."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.outbox import record_event
from shared.events.registry import EventPayload

SOURCE = "/proxima/ledger"


async def emit(session: AsyncSession, payload: EventPayload, subject: str) -> None:
    """Write ``payload``'s event to the outbox; it is published once the unit commits."""
    await record_event(session, payload, source=SOURCE, subject=subject)
