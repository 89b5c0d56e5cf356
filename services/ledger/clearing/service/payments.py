"""Clearing between euro-backed currencies: the operators' terms and cross-currency
payments.

A payment is one ledger transaction through the posting path (`transactions.service`):
the payer's debit is authorised exactly as any posting's (holder, mandate, operator; its
authority row recorded), the payee currency's clearing account is debited under the
standing authorisation its operator gave by opting in (an authority row naming that
operator, basis ``operator``). A settlement is one transaction too, whose reserve legs go
through the posting path's reserve check (`settlements`). Why: docs/decisions/ledger-clearing.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.rules import Basis, Grant
from services.ledger.authority.service import checks as authority
from services.ledger.clearing import repository as repo
from services.ledger.clearing import rules
from services.ledger.clearing.errors import (
    InvalidClearingTerms,
    PayeeNotMerchant,
    PayerNotEligible,
    PeriodAlreadySettled,
)
from services.ledger.clearing.schemas import PaymentCreate, TermsIn
from services.ledger.closings import service as closings
from services.ledger.currencies.errors import CurrencyNotConvertible
from services.ledger.currencies.rules.currency import CurrencyKind
from services.ledger.currencies.service.registry import currency_rules
from services.ledger.database.outbox import emit
from services.ledger.transactions.service import single
from shared.auth import Principal
from shared.events.catalog.ledger import ClearingPaid
from shared.problems import NotFound

CLEARING_HOLDER = "ledger:clearing"
"""The holder of every clearing account: no client, so only the standing authorisations
of the clearing terms (and the guard trigger) ever move one."""


def terms_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        **{k: row[k] for k in ("currency", "enabled", "authorised_by", "authorised_at")},
        **{k: row[k] for k in ("payer_fee_bp", "payer_fee_min", "payee_fee_bp", "payee_fee_min")},
        "clearing_account_id": row["clearing_account"],
        "fee_account_id": row["fee_account"],
    }


def fees_of(row: Mapping[Any, Any]) -> rules.Fees:
    return rules.Fees(
        payer_bp=row["payer_fee_bp"],
        payer_min=row["payer_fee_min"],
        payee_bp=row["payee_fee_bp"],
        payee_min=row["payee_fee_min"],
    )


async def euro_backed_reserve(session: AsyncSession, currency: str) -> Any:
    """The reserve of a euro-backed currency, or the refusal to clear it."""
    kind = (await currency_rules(session, currency)).kind
    if kind is not CurrencyKind.EURO_BACKED:
        raise CurrencyNotConvertible(
            f"{currency} ({kind.value}) n'est pas adossée à l'euro : pas de compensation",
            currency=currency,
            kind=kind.value,
        )
    reserve = await repo.get_reserve(session, currency)
    if reserve is None:
        raise CurrencyNotConvertible(
            f"{currency} n'a pas de réserve en euros configurée", currency=currency
        )
    return reserve


async def configure_terms(
    session: AsyncSession, principal: Principal, currency: str, body: TermsIn
) -> dict[str, Any]:
    """The operator opts its currency into clearing (or out: ``enabled`` false), with its
    fees; the first opt-in opens the currency's clearing account."""
    principal.ensure_access("currencies", currency)
    authority.ensure_operator(principal, currency, act="opting into clearing")
    await euro_backed_reserve(session, currency)
    fees = rules.Fees(body.payer_fee_bp, body.payer_fee_min, body.payee_fee_bp, body.payee_fee_min)
    if body.fee_account_id is not None:
        account = await accounts.named_account(session, body.fee_account_id, role="fee")
        if account["currency"] != currency or account["type"] != AccountType.FUND.value:
            raise InvalidClearingTerms(
                f"le compte de frais doit être un compte fund de {currency}",
                account_id=str(body.fee_account_id),
            )
    elif not fees.free:
        raise InvalidClearingTerms("des frais demandent un compte de frais (fee_account_id)")
    existing = await repo.get_terms(session, currency)
    if existing is not None:
        clearing = existing["clearing_account"]
    else:
        opened = await accounts.open_account(
            session,
            currency=currency,
            account_type=AccountType.FUND,
            credit_limit=None,
            holder=CLEARING_HOLDER,
            name="Compte de compensation régionale",
        )
        clearing = opened["id"]
        await repo.unbound(session, clearing)
    row = await repo.upsert_terms(
        session,
        currency=currency,
        clearing_account=clearing,
        fee_account=body.fee_account_id,
        payer_fee_bp=fees.payer_bp,
        payer_fee_min=fees.payer_min,
        payee_fee_bp=fees.payee_bp,
        payee_fee_min=fees.payee_min,
        enabled=body.enabled,
        authorised_by=principal.client_id,
    )
    return terms_view(row)


async def read_terms(session: AsyncSession, principal: Principal, currency: str) -> dict[str, Any]:
    principal.ensure_access("currencies", currency)
    row = await repo.get_terms(session, currency)
    if row is None:
        raise NotFound(f"{currency} n'a pas de conditions de compensation")
    return terms_view(row)


def _side(row: Mapping[Any, Any]) -> rules.Side:
    return rules.Side(row["currency"], row["clearing_account"], row["fee_account"])


async def opted_in(session: AsyncSession, currencies: list[str], *, exclusive: bool) -> Any:
    """The terms of ``currencies``, locked; a currency not opted in (or opted out) is
    refused as not convertible."""
    terms = await repo.lock_terms(session, currencies, exclusive=exclusive)
    for currency in currencies:
        row = terms.get(currency)
        if row is None or (not exclusive and not row["enabled"]):
            await euro_backed_reserve(session, currency)  # the precise refusal, if any
            raise CurrencyNotConvertible(
                f"{currency} ne participe pas à la compensation", currency=currency
            )
    return terms


def payment_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        **{
            k: row[k]
            for k in (
                "transaction_id",
                "payer_currency",
                "payee_currency",
                "amount",
                "payer_fee",
                "payee_fee",
                "settlement_id",
                "created_at",
            )
        },
        "payer_account_id": row["payer_account"],
        "payee_account_id": row["payee_account"],
        "debited": row["amount"] + row["payer_fee"],
        "credited": row["amount"] - row["payee_fee"],
        "period": rules.period_text(row["period"]),
    }


async def pay(session: AsyncSession, principal: Principal, body: PaymentCreate) -> dict[str, Any]:
    """Move ``amount`` at par from a payer of one currency to a merchant of another, in
    one transaction; fees per each currency's terms."""
    payer = await accounts.named_account(session, body.payer_account_id, role="payer")
    principal.ensure_access("currencies", payer["currency"])
    payee = await accounts.named_account(session, body.payee_account_id, role="payee")
    a, b = payer["currency"], payee["currency"]
    low, high = rules.pair(a, b)
    if body.effective_date is not None:
        await closings.check_effective_dates(session, [(body.effective_date, (a, b))])
    terms = await opted_in(session, [a, b], exclusive=False)
    period = rules.period_of(body.effective_date or datetime.now(UTC).date())
    if await repo.settlement_of(session, low, high, period) is not None:
        raise PeriodAlreadySettled(
            f"{low}/{high} {rules.period_text(period)} est déjà réglée : datez le paiement "
            "d'une période ouverte",
            period=rules.period_text(period),
        )
    if payer["type"] not in (AccountType.MEMBER.value, AccountType.MERCHANT.value):
        raise PayerNotEligible("seuls les comptes membre ou commerce paient en compensation")
    if payee["type"] != AccountType.MERCHANT.value:
        raise PayeeNotMerchant(
            "le bénéficiaire doit être un compte commerce", account_id=str(payee["id"])
        )
    figures = rules.payment(
        payer=payer["id"],
        payee=payee["id"],
        amount=body.amount,
        payer_side=_side(terms[a]),
        payee_side=_side(terms[b]),
        payer_fees=fees_of(terms[a]),
        payee_fees=fees_of(terms[b]),
    )
    standing = [
        Grant(terms[b]["clearing_account"], Basis.OPERATOR, terms[b]["authorised_by"], body.amount)
    ]
    await repo.clearing_posting(session, True)
    view = await single.post(
        session,
        actor=authority.actor(principal),
        legs=figures.legs,
        kind="clearing_payment",
        effective_date=body.effective_date,
        description=body.description,
        metadata={"payer_currency": a, "payee_currency": b},
        standing=standing,
    )
    await repo.clearing_posting(session, False)
    row = await repo.insert_payment(
        session,
        transaction_id=UUID(view["id"]),
        payer_currency=a,
        payee_currency=b,
        payer_account=payer["id"],
        payee_account=payee["id"],
        amount=figures.amount,
        payer_fee=figures.payer_fee,
        payee_fee=figures.payee_fee,
        period=rules.period_of(date.fromisoformat(view["effective_date"])),
        paid_by=principal.client_id,
    )
    result = payment_view(row)
    await emit(
        session,
        ClearingPaid(
            transaction_id=view["id"],
            payer_currency=a,
            payee_currency=b,
            payer_account_id=str(payer["id"]),
            payee_account_id=str(payee["id"]),
            amount=figures.amount,
            payer_fee=figures.payer_fee,
            payee_fee=figures.payee_fee,
            period=result["period"],
        ),
        view["id"],
    )
    return result


async def read_payment(
    session: AsyncSession, principal: Principal, transaction_id: UUID
) -> dict[str, Any]:
    """A clearing payment, for whoever may read its payer or its payee."""
    row = await repo.get_payment(session, transaction_id)
    if row is None:
        raise NotFound(f"aucun paiement de compensation {transaction_id}")
    await accounts.readable_party(session, principal, (row["payer_account"], row["payee_account"]))
    return payment_view(row)
