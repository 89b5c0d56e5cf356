"""Events the funding service consumes: the ledger's answers to payment orders."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.domain.errors import TrancheStatusError
from services.funding.service import tranches
from shared.events.catalog.ledger import PaymentRejected, PaymentSettled
from shared.events.consumer import Subscription
from shared.events.envelope import Event

log = structlog.get_logger(__name__)


async def on_payment_settled(session: AsyncSession, event: Event) -> None:
    """Mark the ordered tranche paid or failed; runs inside the inbox transaction."""
    data = event.data
    assert isinstance(data, PaymentSettled)
    try:
        order_id = uuid.UUID(data.order_id)
    except ValueError:
        log.warning("payment_settled_unknown_order", order_id=data.order_id)
        return
    try:
        tranche = await tranches.settle(
            session,
            order_id=order_id,
            status="paid" if data.status == "settled" else "failed",
            transaction_id=data.transaction_id,
            reason=data.reason,
        )
    except TrancheStatusError as exc:
        # A late answer contradicting one already recorded: keep the first, say so.
        log.warning("payment_settled_ignored", order_id=data.order_id, detail=exc.detail)
        return
    if tranche is None:
        log.warning("payment_settled_unknown_order", order_id=data.order_id)


async def on_payment_rejected(session: AsyncSession, event: Event) -> None:
    """Mark the ordered tranche failed with the ledger's refusal code; its reserved credits
    go back to the envelope and the tranche may be ordered again (once the cause is fixed)."""
    data = event.data
    assert isinstance(data, PaymentRejected)
    try:
        order_id = uuid.UUID(data.order_id)
    except ValueError:
        log.warning("payment_rejected_unknown_order", order_id=data.order_id)
        return
    try:
        tranche = await tranches.settle(
            session, order_id=order_id, status="failed", reason=f"{data.code}: {data.reason}"
        )
    except TrancheStatusError as exc:
        log.warning("payment_rejected_ignored", order_id=data.order_id, detail=exc.detail)
        return
    if tranche is None:
        log.warning("payment_rejected_unknown_order", order_id=data.order_id)


subscription = Subscription(
    group="funding",
    handlers={
        PaymentSettled.event_type: on_payment_settled,
        PaymentRejected.event_type: on_payment_rejected,
    },
)
