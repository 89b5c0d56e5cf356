"""The queries of the open-data exports."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.committees.models import Decision
from services.funding.programmes.models import Envelope, Programme
from services.funding.tenancy.clauses import usable_envelope, visible_territory
from shared.auth import Principal


async def readable_approvals(
    session: AsyncSession, principal: Principal
) -> Sequence[Row[Decision, Application, Envelope, Programme]]:
    """Approved decisions in the principal's envelopes and territories, oldest first, with
    their application, envelope and programme."""
    return (
        await session.execute(
            select(Decision, Application, Envelope, Programme)
            .join(Application, Application.id == Decision.application_id)
            .join(Envelope, Envelope.id == Application.envelope_id)
            .join(Programme, Programme.id == Application.programme_id)
            .where(Decision.outcome == "approved")
            .where(usable_envelope(principal), visible_territory(principal))
            .order_by(Decision.created_at, Decision.id)
        )
    ).all()
