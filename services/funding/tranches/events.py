"""Events of the payment saga: a tranche became payable, was ordered, was paid or failed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.applications.models import Application
from services.funding.db import outbox
from services.funding.programmes.models import Envelope, Programme
from services.funding.tranches.models import Tranche
from shared.events.catalog.funding import (
    PaymentFailed,
    PaymentOrdered,
    PaymentPaid,
    TranchePayable,
)


async def tranche_payable_event(
    session: AsyncSession, *, tranche: Tranche, application: Application, programme: Programme
) -> None:
    payload = TranchePayable(
        application_id=str(application.id),
        tranche_id=str(tranche.id),
        number=tranche.number,
        kind=tranche.kind,
        programme_code=programme.code,
        territory=application.territory,
        amount_cents=tranche.amount_cents,
    )
    await outbox.record(session, payload, subject=str(application.id))


async def payment_ordered_event(
    session: AsyncSession, *, tranche: Tranche, application: Application, programme: Programme
) -> None:
    assert tranche.order_id is not None and tranche.currency_code is not None
    payload = PaymentOrdered(
        order_id=str(tranche.order_id),
        application_id=str(application.id),
        tranche_id=str(tranche.id),
        programme_code=programme.code,
        territory=application.territory,
        currency=tranche.currency_code,
        amount=tranche.amount_cents,
        beneficiary_account_id=tranche.beneficiary_account_id or "",
        funding_account_id=tranche.funding_account_id or "",
        mode=tranche.payment_mode or "local_currency",
    )
    await outbox.record(session, payload, subject=str(application.id))


async def payment_outcome_event(
    session: AsyncSession,
    *,
    tranche: Tranche,
    application: Application,
    envelope: Envelope,
    programme: Programme,
) -> None:
    assert tranche.order_id is not None
    fields: dict[str, Any] = {
        "order_id": str(tranche.order_id),
        "application_id": str(application.id),
        "tranche_id": str(tranche.id),
        "programme_code": programme.code,
        "envelope_code": envelope.code,
        "territory": application.territory,
        "mode": tranche.payment_mode or "",
        "currency": tranche.currency_code or "EUR",
        "amount": tranche.amount_cents,
        "transaction_id": tranche.transaction_id,
    }
    payload = (
        PaymentPaid(**fields)
        if tranche.status == "paid"
        else PaymentFailed(**fields, reason=tranche.failure_reason or "unspecified")
    )
    await outbox.record(session, payload, subject=str(application.id))
