"""The events the gateway publishes about its signing keys (outbox, in the caller's
transaction), which every service follows to refuse a withdrawn key's tokens at once and
to fetch a new key set before its first token arrives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth_events import GATEWAY_SOURCE
from shared.events.catalog.gateway import SigningKeyRotated, SigningKeyWithdrawn
from shared.events.outbox import record_event


async def signing_key_withdrawn(
    session: AsyncSession, *, kid: str, reason: Literal["withdrawn", "retired"], at: datetime
) -> None:
    payload = SigningKeyWithdrawn(kid=kid, reason=reason, withdrawn_at=at)
    await record_event(session, payload, source=GATEWAY_SOURCE, subject=kid)


async def signing_key_rotated(
    session: AsyncSession, *, kid: str, retired: Sequence[str], at: datetime
) -> None:
    payload = SigningKeyRotated(kid=kid, retired=list(retired), rotated_at=at)
    await record_event(session, payload, source=GATEWAY_SOURCE, subject=kid)
