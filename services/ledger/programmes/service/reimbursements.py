"""Voucher merchants reimbursed in euros, each funder paying for what its credits bought.

A merchant accepting a youth card ends up holding voucher units; the programme buys them
back in euros. Decisions:
- The euros come from the euro account of the funder whose lots paid the merchant (from the
  lot draws), so the per-funder report can say who paid the merchant, not only whose
  credits were spent. Each funder's euro account is configured once per programme.
- The units are retired: they go back to the voucher currency's issuer account (whose
  negative balance is the units outstanding), not to the funder, so they cannot be granted
  a second time; 1 unit = 1 euro cent (voucher and euro currencies share scale 2).
- One call reimburses everything owed to the merchant, in one transaction with postings in
  both currencies; what was reimbursed is recorded per funder, append-only.
- Concurrent calls for one merchant cannot pay twice: every account the call may touch is
  locked first, in id order (as every writer does), before what is owed is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.accounts.errors import CurrencyMismatch
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.errors import PayoutAccountNotHeld
from services.ledger.authority.service import checks as authority
from services.ledger.currencies.rules.currency import CurrencyKind
from services.ledger.currencies.service.registry import currency_kind
from services.ledger.programmes import repository as repo
from services.ledger.programmes.errors import (
    FunderNotApproved,
    InvalidProgrammeAccount,
    NothingToReimburse,
    ReimbursementNotConfigured,
)
from services.ledger.programmes.service.base import load_programme
from services.ledger.transactions.rules import Posting, merge_postings
from services.ledger.transactions.service.single import lock_accounts, post
from shared.auth import Principal


async def _euro_account(
    session: AsyncSession, account_id: UUID, *, role: str, principal: Principal
) -> str:
    """The euro currency of ``account_id``, refusing accounts that do not hold euros or
    whose currency the caller is not bound to (euros move too)."""
    row = await accounts.named_account(session, account_id, role=role)
    # Tenancy first: a caller bound elsewhere must not learn what the account holds.
    principal.ensure_access("currencies", row["currency"])
    if await currency_kind(session, row["currency"]) != CurrencyKind.EUR.value:
        raise CurrencyMismatch(
            f"the {role} account must hold euros", account_id=str(account_id), role=role
        )
    return str(row["currency"])


def config_view(currency: str, issuer: UUID, euro_accounts: dict[UUID, UUID]) -> dict[str, Any]:
    return {
        "currency": currency,
        "issuer_account_id": str(issuer),
        "funder_euro_accounts": [
            {"funder_account_id": str(f), "euro_account_id": str(e)}
            for f, e in sorted(euro_accounts.items())
        ],
    }


async def configure(
    session: AsyncSession,
    *,
    currency: str,
    issuer: UUID,
    euro_accounts: dict[UUID, UUID],
    principal: Principal,
) -> dict[str, Any]:
    """Name the voucher issuer that retires reimbursed units and each funder's euro account."""
    principal.ensure_access("currencies", currency)
    programme = await load_programme(session, currency)
    row = await accounts.named_account(session, issuer, role="issuer")
    if row["currency"] != currency or row["type"] != AccountType.ISSUER.value:
        raise InvalidProgrammeAccount(
            f"the issuer must be an issuer account of {currency}", account_id=str(issuer)
        )
    euros = set()
    for funder, euro in euro_accounts.items():
        if funder not in programme.funders:
            raise FunderNotApproved(
                f"{funder} is not a funder of {currency}", account_id=str(funder)
            )
        euros.add(await _euro_account(session, euro, role="funder euro", principal=principal))
    if len(euros) > 1:
        raise CurrencyMismatch("every funder's euro account must hold the same euro currency")
    await repo.configure_reimbursement(
        session, currency=currency, issuer=issuer, euro_accounts=dict(euro_accounts)
    )
    return config_view(currency, issuer, dict(euro_accounts))


async def reimburse(
    session: AsyncSession,
    *,
    currency: str,
    merchant: UUID,
    merchant_euro_account: UUID,
    principal: Principal,
) -> dict[str, Any]:
    """Buy back in euros every voucher unit the merchant received and was not yet paid for."""
    await load_programme(session, currency)
    config = await repo.reimbursement_configuration(session, currency)
    if config is None:
        raise ReimbursementNotConfigured(f"{currency} has no euro reimbursement configured")
    issuer, euro_accounts = config
    euro_currency = await _euro_account(
        session, merchant_euro_account, role="merchant euro", principal=principal
    )
    locked = await lock_accounts(
        session, [merchant, merchant_euro_account, issuer, *euro_accounts.values()]
    )
    if merchant in locked and locked[merchant]["holder"] != locked[merchant_euro_account]["holder"]:
        raise PayoutAccountNotHeld(
            "the merchant's euros go to an account held by the merchant's holder",
            merchant_account_id=str(merchant),
            merchant_euro_account_id=str(merchant_euro_account),
        )
    owed = await repo.owed_by_funder(session, currency=currency, merchant=merchant)
    if not owed:
        raise NothingToReimburse("every purchase at this merchant is already reimbursed")
    missing = sorted(str(f) for f in owed if f not in euro_accounts)
    if missing:
        raise ReimbursementNotConfigured("no euro account for these funders", funders=missing)
    total = sum(owed.values())
    legs: list[Posting] = [
        Posting(account_id=merchant, currency=currency, amount=-total),
        Posting(account_id=issuer, currency=currency, amount=total),
        Posting(account_id=merchant_euro_account, currency=euro_currency, amount=total),
        *(
            Posting(account_id=euro_accounts[f], currency=euro_currency, amount=-units)
            for f, units in owed.items()
        ),
    ]
    tx = await post(
        session,
        actor=authority.actor(principal),
        legs=merge_postings(legs),
        kind="voucher_reimbursement",
        description="voucher units bought back in euros",
        metadata={"merchant": str(merchant), "funders": ",".join(sorted(map(str, owed)))},
    )
    rows: Sequence[dict[str, Any]] = [
        {
            "transaction_id": UUID(tx["id"]),
            "currency": currency,
            "merchant": merchant,
            "funder": funder,
            "euro_account": euro_accounts[funder],
            "units": units,
        }
        for funder, units in sorted(owed.items())
    ]
    await repo.record_reimbursements(session, rows)
    return {
        "currency": currency,
        "merchant_account_id": str(merchant),
        "units": total,
        "euro_currency": euro_currency,
        "by_funder": [
            {
                "funder_account_id": str(r["funder"]),
                "euro_account_id": str(r["euro_account"]),
                "units": r["units"],
            }
            for r in rows
        ],
        "transaction": tx,
    }


def ensure_may_reimburse(principal: Principal, currency: str) -> None:
    """A merchant reimbursement is an act of the currency's operator."""
    principal.ensure_access("currencies", currency)
    authority.ensure_operator(principal, currency, act="a merchant reimbursement")
