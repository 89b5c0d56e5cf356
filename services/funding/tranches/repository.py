"""Every query of tranches and their payment orders."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.db.repository import get
from services.funding.programmes.models import Envelope, Programme
from services.funding.reports.models import ProgressReport
from services.funding.tenancy.clauses import usable_envelope, visible_territory
from services.funding.tranches.models import Tranche
from services.funding.tranches.rules import PaymentMode
from shared.auth import Principal


async def tranche(session: AsyncSession, tranche_id: uuid.UUID, *, lock: bool = False) -> Tranche:
    return await get(session, Tranche, tranche_id, lock=lock)


async def tranches_of(
    session: AsyncSession, application_id: uuid.UUID, *, lock: bool = False
) -> list[Tranche]:
    """The grant's tranches in schedule order; ``lock`` takes their row locks."""
    statement = select(Tranche).where(Tranche.application_id == application_id)
    if lock:
        statement = statement.with_for_update()
    return list((await session.scalars(statement.order_by(Tranche.number))).all())


async def tranche_id_of_order(session: AsyncSession, order_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(Tranche.id).where(Tranche.order_id == order_id))


async def accepted_intermediate_reports(session: AsyncSession, application_id: uuid.UUID) -> int:
    """How many intermediate progress reports of the file were accepted (they release
    intermediate tranches)."""
    accepted = await session.scalar(
        select(func.count())
        .select_from(ProgressReport)
        .where(
            ProgressReport.application_id == application_id,
            ProgressReport.kind == "intermediate",
            ProgressReport.status == "accepted",
        )
    )
    return int(accepted or 0)


async def readable_euro_orders(
    session: AsyncSession, principal: Principal
) -> Sequence[Row[Tranche, Application, Envelope, Programme]]:
    """Euro payment orders awaiting the treasury in the principal's envelopes and
    territories, oldest first, with their application, envelope and programme."""
    return (
        await session.execute(
            select(Tranche, Application, Envelope, Programme)
            .join(Application, Application.id == Tranche.application_id)
            .join(Envelope, Envelope.id == Application.envelope_id)
            .join(Programme, Programme.id == Application.programme_id)
            .where(Tranche.status == "ordered", Tranche.payment_mode == PaymentMode.EURO.value)
            .where(usable_envelope(principal), visible_territory(principal))
            .order_by(Tranche.ordered_at, Tranche.id)
        )
    ).all()


async def stale_orders(
    session: AsyncSession, *, before: datetime, limit: int = 200
) -> Sequence[Tranche]:
    """Tranches ordered through the ledger before ``before`` and still unanswered, oldest
    first, locked (rows another transaction holds are skipped, not waited for)."""
    result = await session.execute(
        select(Tranche)
        .where(
            Tranche.status == "ordered",
            Tranche.payment_mode != PaymentMode.EURO.value,
            Tranche.ordered_at < before,
        )
        .order_by(Tranche.ordered_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return result.scalars().all()
