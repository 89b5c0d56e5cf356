"""Events the ledger consumes: funding's payment orders, paid in local currency or credits.

An order is handled once per order id (an idempotency key in the same transaction as the
payment), whatever event id it comes under. The answer is ``payment.settled`` when the
ledger paid, or ``payment.rejected`` with the refusal's problem code when it cannot pay
(unknown or frozen account, insufficient funds, a cap, a programme rule…); a rejected order
writes nothing but its answer.

Who pays and who is paid is the ledger's to know, not the order's: the beneficiary's
account is the one its holder linked to the application, the funding account one that the
currency's operator mandated to the programme (``funding:<programme>``), and the funding
service debits it only under that mandate and its limits. The amount is the tranche's euro
cents, converted at the currency's euro rate (the rate and rounding go on the payment).

A ``programme_credits`` order (or any order in a voucher currency: a voucher balance
without a lot would escape the programme's rules) is paid as a credit lot granted by the
funding account, which must be one of the programme's funders, to the beneficiary, through
``programme_credits.grant``: the lot expires at ``credit_expires_at`` or, when funding
names no date, ``DEFAULT_LOT_VALIDITY`` after payment.

Loans and guarantees ride the same saga: a repayment order debits
the account the borrower linked to the file, only under a debit mandate the borrower gave
``repayments:<programme>``, and credits the programme's mandated funding account; a guarantee
call order pays that funding account's money to the account linked to the file. Both are
answered by the same ``payment.settled`` / ``payment.rejected``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority import repository as authority_repo
from services.ledger.authority.errors import BeneficiaryNotLinked, ProgrammeCurrencyNotBound
from services.ledger.authority.rules import Actor
from services.ledger.currencies.rules.conversion import EuroPayment, units_for_euro_cents
from services.ledger.currencies.rules.currency import CurrencyKind
from services.ledger.currencies.service import registry as currencies
from services.ledger.database import outbox
from services.ledger.errors import LedgerDomainError
from services.ledger.idempotency import repository as repo
from services.ledger.programmes.errors import NotAVoucherCurrency
from services.ledger.programmes.service import credits as programme_credits
from services.ledger.transactions.rules import transfer
from services.ledger.transactions.service import single as transactions
from shared.events.catalog.funding import (
    GuaranteeCallOrdered,
    InstrumentOrder,
    PaymentOrdered,
    RepaymentOrdered,
)
from shared.events.catalog.ledger import PaymentRejected, PaymentSettled
from shared.events.consumer import Subscription
from shared.events.envelope import Event
from shared.problems import Problem, Unprocessable

log = structlog.get_logger(__name__)

FUNDING_CLIENT = "event:funding"
DEFAULT_LOT_VALIDITY = timedelta(days=365)


FUNDING_PRINCIPAL = "funding:{programme}"
"""The principal the funding service acts as for one programme: the operator mandates the
programme's funding account to it, with the envelope's limits."""


REPAYMENT_PRINCIPAL = "repayments:{programme}"
"""The principal that collects a programme's loan repayments: it debits only the accounts
whose holders gave it a debit mandate (a direct debit signed with the loan), and it is not
``funding:<programme>``, so a borrower's mandate never makes their account a candidate
funding account of the programme."""


def repayment_actor(order: InstrumentOrder) -> Actor:
    """The actor of a repayment order: it operates nothing and holds no account."""
    return Actor(REPAYMENT_PRINCIPAL.format(programme=order.programme_code))


def funding_actor(order: PaymentOrdered | InstrumentOrder) -> Actor:
    """Funding's orders move money only under the mandates its programme holds: the actor
    operates no currency, whatever the order says."""
    return Actor(FUNDING_PRINCIPAL.format(programme=order.programme_code))


@dataclass(frozen=True)
class ResolvedOrder:
    """An order as the ledger pays it: accounts it knows, units it converted."""

    funding: UUID
    beneficiary: UUID
    payment: EuroPayment


def _metadata(order: PaymentOrdered, resolved: ResolvedOrder) -> dict[str, str]:
    return {
        "order_id": order.order_id,
        "application_id": order.application_id,
        "tranche_id": order.tranche_id,
        "programme_code": order.programme_code,
        "euro_cents": str(resolved.payment.euro_cents),
        "rate": resolved.payment.rate,
        "rounding": resolved.payment.rounding,
    }


def _named(value: str, what: str) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError as exc:
        raise Unprocessable(f"{what} {value!r} is not an account id") from exc


async def linked_account(session: AsyncSession, order: PaymentOrdered | InstrumentOrder) -> UUID:
    """The account the file's holder linked to the application (grants, loans, guarantees
    are paid to it and a loan is repaid from it)."""
    link = await authority_repo.get_grant_link(
        session, programme_code=order.programme_code, application_id=order.application_id
    )
    if link is None:
        raise BeneficiaryNotLinked(
            f"the beneficiary of application {order.application_id} linked no account",
            application_id=order.application_id,
        )
    account: UUID = link["account_id"]
    return account


async def funding_account(
    session: AsyncSession, order: PaymentOrdered | InstrumentOrder, named: UUID | None = None
) -> UUID:
    """The programme's funding account in the order's currency: the one named (its debit
    is then checked by the mandate), else the one the operator mandated to the programme."""
    found = named or await authority_repo.mandated_funding_account(
        session,
        grantee=funding_actor(order).principal,
        currency=order.currency,
        now=datetime.now(UTC),
    )
    if found is None:
        raise ProgrammeCurrencyNotBound(
            f"no {order.currency} account is mandated to programme {order.programme_code}",
            currency=order.currency,
            programme_code=order.programme_code,
        )
    return found


async def resolve(session: AsyncSession, order: PaymentOrdered) -> ResolvedOrder:
    """The accounts and units of an order: the beneficiary's account is the one it linked to
    the application; the funding account one the operator mandated to the programme; the
    amount (euro cents) in the currency's units. An order naming other accounts is refused.
    """
    rules = await currencies.currency_rules(session, order.currency)
    payment = units_for_euro_cents(rules, order.amount)
    linked = await linked_account(session, order)
    named = _named(order.beneficiary_account_id, "beneficiary_account_id")
    if named is not None and named != linked:
        raise BeneficiaryNotLinked(
            "the order names another account than the one the beneficiary linked",
            application_id=order.application_id,
        )
    funding = await funding_account(
        session, order, _named(order.funding_account_id, "funding_account_id")
    )
    return ResolvedOrder(funding=funding, beneficiary=linked, payment=payment)


async def _resolve_instrument(session: AsyncSession, order: InstrumentOrder) -> ResolvedOrder:
    """A loan's or a guarantee's order: the file's linked account, the programme's mandated
    funding account, the euro cents in units; never a voucher currency (a loan is money
    lent and repaid, not an earmarked credit)."""
    if await currencies.currency_kind(session, order.currency) == CurrencyKind.VOUCHER.value:
        raise Unprocessable(f"loans and guarantees are not paid in voucher {order.currency}")
    rules = await currencies.currency_rules(session, order.currency)
    return ResolvedOrder(
        funding=await funding_account(session, order),
        beneficiary=await linked_account(session, order),
        payment=units_for_euro_cents(rules, order.amount),
    )


def _instrument_metadata(order: InstrumentOrder, resolved: ResolvedOrder) -> dict[str, str]:
    return {
        "order_id": order.order_id,
        "application_id": order.application_id,
        "instrument_id": order.instrument_id,
        "programme_code": order.programme_code,
        "euro_cents": str(resolved.payment.euro_cents),
        "rate": resolved.payment.rate,
        "rounding": resolved.payment.rounding,
    }


async def _collect_repayment(
    session: AsyncSession, order: RepaymentOrdered
) -> tuple[str, ResolvedOrder]:
    """Debit the borrower's linked account to the programme's funding account, as
    ``repayments:<programme>``: it holds no authority on the borrower's account but the
    debit mandate the borrower gave it, so an order without one is refused
    (no-debit-authority), and the mandate's limits apply."""
    resolved = await _resolve_instrument(session, order)
    view = await transactions.post(
        session,
        actor=repayment_actor(order),
        legs=transfer(
            currency=order.currency,
            source=resolved.beneficiary,
            destination=resolved.funding,
            amount=resolved.payment.units,
        ),
        kind="loan_repayment",
        description=f"loan {order.instrument_id} repayment",
        metadata=_instrument_metadata(order, resolved),
        idempotency_key=order.order_id,
    )
    return str(view["id"]), resolved


async def _pay_guarantee_call(
    session: AsyncSession, order: GuaranteeCallOrdered
) -> tuple[str, ResolvedOrder]:
    """Pay the called guarantee from the programme's funding account (under its mandate) to
    the account linked to the file."""
    resolved = await _resolve_instrument(session, order)
    view = await transactions.post(
        session,
        actor=funding_actor(order),
        legs=transfer(
            currency=order.currency,
            source=resolved.funding,
            destination=resolved.beneficiary,
            amount=resolved.payment.units,
        ),
        kind="guarantee_call",
        description=f"guarantee {order.instrument_id} call",
        metadata=_instrument_metadata(order, resolved),
        idempotency_key=order.order_id,
    )
    return str(view["id"]), resolved


async def _pay_in_currency(
    session: AsyncSession, order: PaymentOrdered, resolved: ResolvedOrder
) -> str:
    legs = transfer(
        currency=order.currency,
        source=resolved.funding,
        destination=resolved.beneficiary,
        amount=resolved.payment.units,
    )
    view = await transactions.post(
        session,
        actor=funding_actor(order),
        legs=legs,
        kind="grant_payment",
        description=f"grant {order.application_id} tranche {order.tranche_id}",
        metadata=_metadata(order, resolved),
        idempotency_key=order.order_id,
    )
    return str(view["id"])


async def _pay_in_credits(
    session: AsyncSession, order: PaymentOrdered, resolved: ResolvedOrder
) -> str:
    granted = await programme_credits.grant(
        session,
        currency=order.currency,
        funder=resolved.funding,
        beneficiary=resolved.beneficiary,
        amount=resolved.payment.units,
        expires_at=order.credit_expires_at or datetime.now(UTC) + DEFAULT_LOT_VALIDITY,
        categories=order.credit_categories,
        actor=funding_actor(order),
        metadata=_metadata(order, resolved),
    )
    return str(granted["transaction"]["id"])


async def _pay(session: AsyncSession, order: PaymentOrdered) -> tuple[str, ResolvedOrder]:
    voucher = await currencies.currency_kind(session, order.currency) == CurrencyKind.VOUCHER.value
    if order.mode == "programme_credits" and not voucher:
        raise NotAVoucherCurrency(
            f"programme credits are paid in a voucher currency, not {order.currency}",
            currency=order.currency,
        )
    resolved = await resolve(session, order)
    if voucher:
        return await _pay_in_credits(session, order, resolved), resolved
    return await _pay_in_currency(session, order, resolved), resolved


def remembered_answer(response: Any) -> PaymentSettled | PaymentRejected | None:
    """The answer stored with an order's idempotency key, as the event it was sent as."""
    if isinstance(response, str):
        response = json.loads(response)
    if not isinstance(response, dict):
        return None  # claimed by a transaction that had not answered yet
    fields = {k: v for k, v in response.items() if k != "type"}
    if response.get("type") == PaymentSettled.event_type:
        return PaymentSettled.model_validate(fields)
    return PaymentRejected.model_validate(fields)


async def on_payment_ordered(session: AsyncSession, event: Event) -> None:
    """Pay a grant tranche once per order id, then answer settled or rejected."""
    order = event.data
    assert isinstance(order, PaymentOrdered)
    await answer_once(session, order, _pay)


async def on_repayment_ordered(session: AsyncSession, event: Event) -> None:
    """Collect a loan repayment once per order id, then answer settled or rejected."""
    order = event.data
    assert isinstance(order, RepaymentOrdered)
    await answer_once(session, order, _collect_repayment)


async def on_guarantee_call_ordered(session: AsyncSession, event: Event) -> None:
    """Pay a called guarantee once per order id, then answer settled or rejected."""
    order = event.data
    assert isinstance(order, GuaranteeCallOrdered)
    await answer_once(session, order, _pay_guarantee_call)


async def answer_once(
    session: AsyncSession,
    order: Any,
    pay: Callable[[AsyncSession, Any], Awaitable[tuple[str, ResolvedOrder]]],
) -> None:
    """Handle an order once per order id (an idempotency key in the same transaction as the
    posting), whatever event id it comes under; answer settled or rejected."""
    digest = hashlib.sha256(order.model_dump_json().encode()).hexdigest()
    earlier = await repo.claim_idempotency_key(
        session, client_id=FUNDING_CLIENT, key=order.order_id, request_hash=digest
    )
    if earlier is not None:
        # The same order under another event id: already paid (or refused). Funding asks
        # again when it lost the answer (a restored backup, see its payment reconciler):
        # it gets the same answer again, never a second payment.
        again = remembered_answer(earlier.get("response"))
        log.info("payment_order_already_handled", order_id=order.order_id, answered=bool(again))
        if again is not None:
            await outbox.emit(session, again, order.order_id)
        return
    answer: PaymentSettled | PaymentRejected
    try:
        async with session.begin_nested():
            transaction_id, resolved = await pay(session, order)
    except (LedgerDomainError, Problem, ValueError) as exc:
        code = str(getattr(exc, "code", "invalid-order"))
        answer = PaymentRejected(order_id=order.order_id, code=code, reason=str(exc))
    else:
        answer = PaymentSettled(
            order_id=order.order_id,
            status="settled",
            transaction_id=transaction_id,
            beneficiary_account_id=str(resolved.beneficiary),
            funding_account_id=str(resolved.funding),
            units=resolved.payment.units,
            rate=resolved.payment.rate,
            rounding=resolved.payment.rounding,
        )
    response: dict[str, Any] = {"type": answer.event_type, **answer.model_dump()}
    await repo.remember_response(
        session, client_id=FUNDING_CLIENT, key=order.order_id, response=response
    )
    await outbox.emit(session, answer, order.order_id)


SUBSCRIPTIONS = (
    Subscription(
        group="ledger",
        handlers={
            PaymentOrdered.event_type: on_payment_ordered,
            RepaymentOrdered.event_type: on_repayment_ordered,
            GuaranteeCallOrdered.event_type: on_guarantee_call_ordered,
        },
    ),
)


def subscriptions() -> list[Subscription]:
    """What this service consumes (Kafka ACLs, dead-letter replay)."""
    return list(SUBSCRIPTIONS)
