"""Events of the programme catalogue: an envelope's commitment credits taken or given back."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db import outbox
from services.funding.programmes.models import Envelope, Programme
from shared.events.catalog.funding import BudgetCommitted, BudgetReleased


async def budget_event(
    session: AsyncSession,
    *,
    released: bool,
    envelope: Envelope,
    programme: Programme,
    application_id: uuid.UUID,
    territory: str,
    amount_cents: int,
) -> None:
    model = BudgetReleased if released else BudgetCommitted
    payload = model(
        envelope_id=str(envelope.id),
        envelope_code=envelope.code,
        programme_code=programme.code,
        year=envelope.year,
        territory=territory,
        application_id=str(application_id),
        amount_cents=amount_cents,
        committed_cents=envelope.committed_cents,
        ap_cents=envelope.ap_cents,
    )
    await outbox.record(session, payload, subject=str(envelope.id))
