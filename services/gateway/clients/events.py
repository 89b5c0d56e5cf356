"""The events the gateway publishes about clients and signing keys (outbox, in the same
transaction as the change), which every service follows to refuse tokens within seconds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.catalog.gateway import (
    ClientChange,
    ClientChanged,
    SigningKeyRotated,
    SigningKeyWithdrawn,
)
from shared.events.outbox import record_event

SOURCE = "/proxima/gateway"
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
    await record_event(session, payload, source=SOURCE, subject=client_id)


async def signing_key_withdrawn(
    session: AsyncSession, *, kid: str, reason: Literal["withdrawn", "retired"], at: datetime
) -> None:
    payload = SigningKeyWithdrawn(kid=kid, reason=reason, withdrawn_at=at)
    await record_event(session, payload, source=SOURCE, subject=kid)


async def signing_key_rotated(
    session: AsyncSession, *, kid: str, retired: Sequence[str], at: datetime
) -> None:
    payload = SigningKeyRotated(kid=kid, retired=list(retired), rotated_at=at)
    await record_event(session, payload, source=SOURCE, subject=kid)
