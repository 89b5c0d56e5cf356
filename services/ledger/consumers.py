"""Events the ledger consumes: funding's payment orders, paid in local currency or credits.

An order is handled once per order id (an idempotency key in the same transaction as the
payment), whatever event id it comes under. The answer is ``payment.settled`` when the
ledger paid, or ``payment.rejected`` with the refusal's problem code when it cannot pay
(unknown or frozen account, insufficient funds, a cap, a programme rule…); a rejected order
writes nothing but its answer.

A ``programme_credits`` order (or any order in a voucher currency: a voucher balance
without a lot would escape the programme's rules) is paid as a credit lot granted by the
funding account, which must be one of the programme's funders, to the beneficiary, through
``programme_credits.grant``: the lot expires at ``credit_expires_at`` or, when funding
names no date, ``DEFAULT_LOT_VALIDITY`` after payment.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger import programme_credits, service
from services.ledger.domain.currencies import CurrencyKind
from services.ledger.domain.errors import LedgerDomainError, NotAVoucherCurrency
from services.ledger.domain.postings import transfer
from services.ledger.store import repository as repo
from shared.events.catalog.funding import PaymentOrdered
from shared.events.catalog.ledger import PaymentRejected, PaymentSettled
from shared.events.consumer import Subscription
from shared.events.envelope import Event
from shared.problems import Problem

log = structlog.get_logger(__name__)

FUNDING_CLIENT = "event:funding"
DEFAULT_LOT_VALIDITY = timedelta(days=365)


def _metadata(order: PaymentOrdered) -> dict[str, str]:
    return {
        "order_id": order.order_id,
        "application_id": order.application_id,
        "tranche_id": order.tranche_id,
        "programme_code": order.programme_code,
    }


async def _pay_in_currency(session: AsyncSession, order: PaymentOrdered) -> str:
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
        metadata=_metadata(order),
        idempotency_key=order.order_id,
    )
    return str(view["id"])


async def _pay_in_credits(session: AsyncSession, order: PaymentOrdered) -> str:
    granted = await programme_credits.grant(
        session,
        currency=order.currency,
        funder=UUID(order.funding_account_id),
        beneficiary=UUID(order.beneficiary_account_id),
        amount=order.amount,
        expires_at=order.credit_expires_at or datetime.now(UTC) + DEFAULT_LOT_VALIDITY,
        categories=order.credit_categories,
        client_id=FUNDING_CLIENT,
        metadata=_metadata(order),
    )
    return str(granted["transaction"]["id"])


async def _pay(session: AsyncSession, order: PaymentOrdered) -> str:
    voucher = await service.currency_kind(session, order.currency) == CurrencyKind.VOUCHER.value
    if order.mode == "programme_credits" and not voucher:
        raise NotAVoucherCurrency(
            f"programme credits are paid in a voucher currency, not {order.currency}",
            currency=order.currency,
        )
    if voucher:
        return await _pay_in_credits(session, order)
    return await _pay_in_currency(session, order)


async def on_payment_ordered(session: AsyncSession, event: Event) -> None:
    """Pay a grant tranche once per order id, then answer settled or rejected."""
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
    answer: PaymentSettled | PaymentRejected
    try:
        async with session.begin_nested():
            transaction_id = await _pay(session, order)
    except (LedgerDomainError, Problem, ValueError) as exc:
        code = str(getattr(exc, "code", "invalid-order"))
        answer = PaymentRejected(order_id=order.order_id, code=code, reason=str(exc))
    else:
        answer = PaymentSettled(
            order_id=order.order_id, status="settled", transaction_id=transaction_id
        )
    response: dict[str, Any] = {"type": answer.event_type, **answer.model_dump()}
    await repo.remember_response(
        session, client_id=FUNDING_CLIENT, key=order.order_id, response=response
    )
    await service.emit(session, answer, order.order_id)


SUBSCRIPTIONS = (
    Subscription(group="ledger", handlers={PaymentOrdered.event_type: on_payment_ordered}),
)
