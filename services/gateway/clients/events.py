"""The event the gateway publishes when a client's authority changes or it is revoked
(outbox, in the same transaction as the change), which every service follows to refuse
the client's earlier tokens within seconds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth_events import GATEWAY_SOURCE
from shared.events.catalog.gateway import ClientChange, ClientChanged
from shared.events.outbox import record_event

# Clocks of the gateway replicas and the services may differ by this much.
CLOCK_MARGIN = timedelta(seconds=60)


async def client_changed(
    session: AsyncSession,
    *,
    client_id: str,
    changes: Sequence[ClientChange],
    generation: int,
    revoked: bool,
    at: datetime,
    token_ttl_s: int,
) -> None:
    payload = ClientChanged(
        client_id=client_id,
        changes=list(changes),
        generation=generation,
        revoked=revoked,
        changed_at=at,
        tokens_expire_by=at + timedelta(seconds=token_ttl_s) + CLOCK_MARGIN,
    )
    await record_event(session, payload, source=GATEWAY_SOURCE, subject=client_id)
