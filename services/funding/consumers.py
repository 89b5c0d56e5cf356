"""Events the funding service consumes: the ledger's answers to payment orders, a grant
tranche's or an instrument's (a loan repayment, a guarantee call)."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.instruments.service import orders as instrument_orders
from services.funding.tranches import service as tranches
from services.funding.tranches.errors import TrancheStatusError
from shared.events.catalog.ledger import PaymentRejected, PaymentSettled
from shared.events.consumer import Subscription
from shared.events.envelope import Event

log = structlog.get_logger(__name__)


async def on_payment_settled(session: AsyncSession, event: Event) -> None:
    """Mark the ordered tranche paid (or failed: answers published before the ledger had
    ``payment.rejected`` may still be in flight), keeping the accounts the ledger resolved and
    its conversion of the euro amount; runs inside the inbox transaction."""
    data = event.data
    assert isinstance(data, PaymentSettled)
    await _settle(
        session,
        "payment_settled",
        data.order_id,
        status="paid" if data.status == "settled" else "failed",
        transaction_id=data.transaction_id,
        reason=data.reason,
        beneficiary_account_id=data.beneficiary_account_id,
        funding_account_id=data.funding_account_id,
        paid_units=data.units,
        conversion_rate=data.rate,
        conversion_rounding=data.rounding,
    )


async def on_payment_rejected(session: AsyncSession, event: Event) -> None:
    """Mark the ordered tranche failed with the ledger's refusal code; its reserved credits
    go back to the envelope and the tranche may be ordered again (once the cause is fixed)."""
    data = event.data
    assert isinstance(data, PaymentRejected)
    await _settle(
        session,
        "payment_rejected",
        data.order_id,
        status="failed",
        reason=f"{data.code}: {data.reason}",
    )


async def _settle(session: AsyncSession, answer: str, raw_order_id: str, **outcome: Any) -> None:
    """Record the ledger's answer on the tranche it names; an unknown order or a late
    answer contradicting one already recorded is logged and dropped (the first one stands)."""
    try:
        order_id = uuid.UUID(raw_order_id)
    except ValueError:
        log.warning(f"{answer}_unknown_order", order_id=raw_order_id)
        return
    try:
        tranche = await tranches.settle(session, order_id=order_id, **outcome)
    except TrancheStatusError as exc:
        log.warning(f"{answer}_ignored", order_id=raw_order_id, detail=exc.detail)
        return
    if tranche is not None:
        return
    settled = await instrument_orders.settle(
        session,
        order_id=order_id,
        status=outcome["status"],
        transaction_id=outcome.get("transaction_id"),
        reason=outcome.get("reason"),
        paid_units=outcome.get("paid_units"),
    )
    if not settled:
        log.warning(f"{answer}_unknown_order", order_id=raw_order_id)


subscription = Subscription(
    group="funding",
    handlers={
        PaymentSettled.event_type: on_payment_settled,
        PaymentRejected.event_type: on_payment_rejected,
    },
)


def subscriptions() -> list[Subscription]:
    """What this service consumes (Kafka ACLs, dead-letter replay)."""
    return [subscription]
