"""Events of instruments: awarded, repaid, guarantee called; each carries the programme,
the territory and the amounts the dashboards aggregate beside grants."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.db import outbox
from services.funding.instruments.models import GuaranteeCall, Instrument, Repayment
from shared.events.catalog.funding import (
    GuaranteeCalled,
    GuaranteeCallOrdered,
    InstrumentAwarded,
    InstrumentRepaid,
    RepaymentOrdered,
)


def _common(row: Instrument, application: Application, code: str) -> dict[str, Any]:
    return {
        "instrument_id": str(row.id),
        "application_id": str(application.id),
        "programme_code": code,
        "territory": application.territory,
        "kind": row.kind,
    }


async def awarded_event(
    session: AsyncSession, *, row: Instrument, application: Application, code: str
) -> None:
    payload = InstrumentAwarded(
        **_common(row, application, code),
        amount_cents=row.amount_cents,
        bank_loan_cents=row.bank_loan_cents,
    )
    await outbox.record(session, payload, subject=str(application.id))


async def repaid_event(
    session: AsyncSession,
    *,
    row: Instrument,
    application: Application,
    code: str,
    repayment: Repayment,
    owed_cents: int,
) -> None:
    payload = InstrumentRepaid(
        **_common(row, application, code),
        amount_cents=repayment.amount_cents,
        received_on=repayment.received_on.isoformat(),
        owed_cents=owed_cents,
    )
    await outbox.record(session, payload, subject=str(application.id))


async def called_event(
    session: AsyncSession,
    *,
    row: Instrument,
    application: Application,
    code: str,
    call: GuaranteeCall,
) -> None:
    payload = GuaranteeCalled(
        **_common(row, application, code),
        amount_cents=call.paid_cents,
        outstanding_cents=call.outstanding_cents,
    )
    await outbox.record(session, payload, subject=str(application.id))


async def order_event(
    session: AsyncSession,
    *,
    row: Instrument,
    application: Application,
    code: str,
    order: Repayment | GuaranteeCall,
) -> None:
    """Ask the ledger to post a repayment (a direct debit) or a guarantee call."""
    assert order.order_id is not None and order.currency_code is not None
    kind = RepaymentOrdered if isinstance(order, Repayment) else GuaranteeCallOrdered
    payload = kind(
        order_id=str(order.order_id),
        instrument_id=str(row.id),
        application_id=str(application.id),
        programme_code=code,
        territory=application.territory,
        currency=order.currency_code,
        amount=order.amount_cents if isinstance(order, Repayment) else order.paid_cents,
    )
    await outbox.record(session, payload, subject=str(application.id))
