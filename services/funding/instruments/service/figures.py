"""The instruments' figures of a territory as an event (``instrument.figures``), published
again in the transaction of every move of one of its instruments (award, disbursement,
repayment counted, rescheduling, guarantee paid, recovery, write-off), so the dashboard
shows them beside grants without reading funding's tables. The figures are the report's,
summed over the territory's rows; the repayment rate's due part grows with the days, so
each event says the day it holds for."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.service import base as applications
from services.funding.db import outbox
from services.funding.instruments import repository, rules
from services.funding.instruments.service.clock import today
from services.funding.instruments.service.report import report
from shared.events.catalog.funding import InstrumentFigures


async def announce(session: AsyncSession, territory: str) -> None:
    """Publish the territory's instruments figures, as of today."""
    await session.flush()
    rows = await report(session, None, programme_code=None, territory=territory, year=None)
    public = sum(
        r["amount_cents"] if r["kind"] == "guarantee" else r["disbursed_cents"] for r in rows
    )
    bank = sum(r["bank_loans_cents"] for r in rows)
    due = sum(r["due_cents"] for r in rows)
    repaid = sum(r["repaid_cents"] for r in rows)
    payload = InstrumentFigures(
        territory=territory,
        as_of=today().isoformat(),
        instruments=sum(r["instruments"] for r in rows),
        public_cents=public,
        bank_loans_cents=bank,
        due_cents=due,
        repaid_cents=repaid,
        losses_cents=sum(r["losses_cents"] for r in rows),
        leverage=rules.leverage(bank, public),
        repayment_rate=rules.repayment_rate(repaid, due),
    )
    await outbox.record(session, payload, subject=territory)


async def announce_disbursed(session: AsyncSession, application_id: uuid.UUID) -> None:
    """After a tranche was paid: if the file's is a loan, its territory's figures moved."""
    if await repository.of_application(session, application_id) is None:
        return  # a grant
    application = await applications.locked(session, application_id)
    await announce(session, application.territory)
