"""Build and record the funding service's events (outbox, same transaction as the change)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.store.models import Application, Decision, Envelope, Programme, Tranche
from shared.events.catalog.funding import (
    ApplicationTransitioned,
    BudgetCommitted,
    BudgetReleased,
    DecisionRecorded,
    PaymentFailed,
    PaymentOrdered,
    PaymentPaid,
    TranchePayable,
)
from shared.events.outbox import record_event
from shared.events.registry import payload_model

SOURCE = "/proxima/funding"


async def application_event(
    session: AsyncSession,
    event_type: str,
    *,
    application: Application,
    envelope: Envelope,
    programme: Programme,
    actor: str,
    result: Any,
) -> None:
    model = payload_model(event_type)
    if model is None or not issubclass(model, ApplicationTransitioned):
        raise LookupError(f"event type {event_type!r} is not in the funding catalog")
    payload = model(
        application_id=str(application.id),
        programme_code=programme.code,
        envelope_code=envelope.code,
        territory=application.territory,
        action=str(result.action),
        from_state=str(result.previous_state),
        to_state=str(result.new_state),
        actor=actor,
        actor_role=str(result.actor_role),
        fields={k: v for k, v in result.fields.items() if isinstance(v, str | int | bool)},
    )
    await record_event(session, payload, source=SOURCE, subject=str(application.id))


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
    await record_event(session, payload, source=SOURCE, subject=str(application.id))


async def budget_event(
    session: AsyncSession,
    *,
    released: bool,
    envelope: Envelope,
    programme: Programme,
    application: Application,
    amount_cents: int,
) -> None:
    model = BudgetReleased if released else BudgetCommitted
    payload = model(
        envelope_id=str(envelope.id),
        envelope_code=envelope.code,
        programme_code=programme.code,
        year=envelope.year,
        territory=application.territory,
        application_id=str(application.id),
        amount_cents=amount_cents,
        committed_cents=envelope.committed_cents,
        ap_cents=envelope.ap_cents,
    )
    await record_event(session, payload, source=SOURCE, subject=str(envelope.id))


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
    await record_event(session, payload, source=SOURCE, subject=str(application.id))


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
    await record_event(session, payload, source=SOURCE, subject=str(application.id))


async def payment_outcome_event(
    session: AsyncSession,
    *,
    tranche: Tranche,
    application: Application,
    envelope: Envelope,
    programme: Programme,
) -> None:
    assert tranche.order_id is not None
    common: dict[str, Any] = {
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
        PaymentPaid(**common)
        if tranche.status == "paid"
        else PaymentFailed(**common, reason=tranche.failure_reason or "unspecified")
    )
    await record_event(session, payload, source=SOURCE, subject=str(application.id))
