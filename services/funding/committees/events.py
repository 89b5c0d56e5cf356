"""Events of committee sessions: a decision recorded on an application."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.committees.models import Decision
from services.funding.db import outbox
from services.funding.programmes.models import Envelope, Programme
from shared.events.catalog.funding import DecisionRecorded


async def decision_event(
    session: AsyncSession,
    *,
    decision: Decision,
    application: Application,
    envelope: Envelope,
    programme: Programme,
) -> None:
    payload = DecisionRecorded(
        application_id=str(application.id),
        session_id=str(decision.session_id),
        programme_code=programme.code,
        envelope_code=envelope.code,
        territory=application.territory,
        outcome="approved" if decision.outcome == "approved" else "rejected",
        amount_cents=decision.amount_cents,
        requested_amount_cents=application.requested_amount_cents,
        deliberation_number=decision.deliberation_number or "",
        reason=decision.reason,
        votes_for=decision.votes_for,
        votes_against=decision.votes_against,
        abstentions=decision.abstentions,
    )
    await outbox.record(session, payload, subject=str(application.id))
