"""Events the ledger consumes: funding's payment orders, paid in local currency or credits."""

from __future__ import annotations

import hashlib
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger import service
from services.ledger.domain.errors import LedgerDomainError
from services.ledger.domain.postings import transfer
from services.ledger.store import repository as repo
from shared.events.catalog.funding import PaymentOrdered
from shared.events.catalog.ledger import PaymentSettled
from shared.events.consumer import Subscription
from shared.events.envelope import Event
from shared.problems import Problem

log = structlog.get_logger(__name__)

FUNDING_CLIENT = "event:funding"


async def _answer(session: AsyncSession, settled: PaymentSettled) -> None:
    await service.emit(session, settled, settled.order_id)


async def on_payment_ordered(session: AsyncSession, event: Event) -> None:
    """Pay a grant tranche: funding account → beneficiary, once per order id, then answer."""
    order = event.data
    assert isinstance(order, PaymentOrdered)
    digest = hashlib.sha256(order.model_dump_json().encode()).hexdigest()
    earlier = await repo.claim_idempotency_key(
        session, client_id=FUNDING_CLIENT, key=order.order_id, request_hash=digest
    )
    if earlier is not None:
        # The same order under another event id: already paid (or refused) and answered.
        log.info("payment_order_already_handled", order_id=order.order_id)
        return
    try:
        async with session.begin_nested():
            legs = transfer(
                currency=order.currency,
                source=UUID(order.funding_account_id),
                destination=UUID(order.beneficiary_account_id),
                amount=order.amount,
            )
            view = await service.post(
                session,
                client_id=FUNDING_CLIENT,
                legs=legs,
                kind="grant_payment",
                description=f"grant {order.application_id} tranche {order.tranche_id}",
                metadata={
                    "order_id": order.order_id,
                    "application_id": order.application_id,
                    "tranche_id": order.tranche_id,
                    "programme_code": order.programme_code,
                },
                idempotency_key=order.order_id,
            )
    except (LedgerDomainError, Problem, ValueError) as exc:
        code = getattr(exc, "code", "invalid-order")
        settled = PaymentSettled(order_id=order.order_id, status="failed", reason=f"{code}: {exc}")
    else:
        settled = PaymentSettled(
            order_id=order.order_id, status="settled", transaction_id=view["id"]
        )
    await repo.remember_response(
        session, client_id=FUNDING_CLIENT, key=order.order_id, response=settled.model_dump()
    )
    await _answer(session, settled)


SUBSCRIPTIONS = (
    Subscription(group="ledger", handlers={PaymentOrdered.event_type: on_payment_ordered}),
)
