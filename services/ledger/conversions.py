"""Issuance and reconversion of euro-backed currencies, and reserve reconciliation.

A currency's reserve configuration names its issuer account, the euro account mirroring the
guarantee fund, the euro account standing for the bank outside, and the fund paying bonuses
and receiving fees. Every transaction touching an issuer or a reserve account re-checks, in
the same database transaction and under the balance locks it already holds, that units in
circulation equal the reserve (`check_reserves`, called by `service.post`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.account_lookup import named_account
from services.ledger.accounts.errors import CurrencyMismatch
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.rules import Actor
from services.ledger.currencies.errors import ConversionNotAllowed
from services.ledger.currencies.rules import conversion
from services.ledger.store import repository as repo
from shared.events.catalog.ledger import CurrencyIssued, CurrencyReconverted


async def check_reserves(session: AsyncSession, account_ids: Sequence[UUID]) -> None:
    """Refuse the transaction if it leaves a touched currency's circulation != its reserve:
    a currency-wide invariant checked after the postings are in."""
    for cfg in await repo.reserves_touching(session, account_ids):
        balances = await repo.posted_balances(
            session, [cfg["issuer_account"], cfg["reserve_account"]]
        )
        conversion.check_reserve(
            units_in_circulation=-balances[cfg["issuer_account"]],
            reserve_balance=balances[cfg["reserve_account"]],
        )


def reserve_view(cfg: Any) -> dict[str, Any]:
    return {
        "currency": cfg["currency"],
        "issuer_account_id": str(cfg["issuer_account"]),
        "reserve_account_id": str(cfg["reserve_account"]),
        "external_account_id": str(cfg["external_account"]),
        "fund_account_id": str(cfg["fund_account"]) if cfg["fund_account"] else None,
    }


async def _typed(
    session: AsyncSession, account_id: UUID, *, types: set[AccountType], role: str
) -> Any:
    row = await named_account(session, account_id, role=role, lock=True)
    if AccountType(row["type"]) not in types:
        raise ConversionNotAllowed(
            f"the {role} account must be of type {' or '.join(sorted(types))}",
            account_id=str(account_id),
        )
    return row


async def configure_reserve(
    session: AsyncSession,
    *,
    currency: str,
    issuer: UUID,
    reserve: UUID,
    external: UUID,
    fund: UUID | None,
) -> dict[str, Any]:
    """Name the accounts of a euro-backed currency's reserve; they must already agree."""
    from services.ledger.service import currency_rules

    rules = await currency_rules(session, currency)
    if not rules.issued_against_euros:
        raise ConversionNotAllowed(f"{currency} is not issued against euros", currency=currency)
    issuer_row = await _typed(session, issuer, types={AccountType.ISSUER}, role="issuer")
    reserve_row = await _typed(session, reserve, types={AccountType.RESERVE}, role="reserve")
    external_row = await _typed(session, external, types={AccountType.ISSUER}, role="external")
    if issuer_row["currency"] != currency:
        raise CurrencyMismatch("the issuer account must hold the currency itself")
    euro = await currency_rules(session, reserve_row["currency"])
    if euro.kind.value != "eur" or external_row["currency"] != reserve_row["currency"]:
        raise CurrencyMismatch("reserve and external accounts must both hold a eur currency")
    if fund is not None:
        fund_row = await _typed(session, fund, types={AccountType.FUND}, role="fund")
        if fund_row["currency"] != currency:
            raise CurrencyMismatch("the fund account must hold the currency itself")
    conversion.check_reserve(
        units_in_circulation=-issuer_row["posted"], reserve_balance=reserve_row["posted"]
    )
    await repo.upsert_reserve(
        session,
        currency=currency,
        issuer_account=issuer,
        reserve_account=reserve,
        external_account=external,
        fund_account=fund,
    )
    cfg = await repo.get_reserve(session, currency)
    return reserve_view(cfg)


async def require_reserve(session: AsyncSession, currency: str) -> Any:
    cfg = await repo.get_reserve(session, currency)
    if cfg is None:
        raise ConversionNotAllowed(f"{currency} has no reserve configured", currency=currency)
    return cfg


async def euro_code(session: AsyncSession, cfg: Any) -> str:
    row = await repo.get_account(session, cfg["reserve_account"])
    assert row is not None
    return str(row["currency"])


async def issue(
    session: AsyncSession,
    *,
    currency: str,
    account_id: UUID,
    euros: int,
    actor: Actor,
    metadata: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Euros paid in → units credited (plus the currency's bonus, paid by its fund)."""
    from services.ledger import service

    rules = await service.currency_rules(session, currency)
    cfg = await require_reserve(session, currency)
    result = conversion.issue(
        rules=rules,
        euros=euros,
        account=account_id,
        issuer=cfg["issuer_account"],
        euro_external=cfg["external_account"],
        euro_reserve=cfg["reserve_account"],
        bonus_fund=cfg["fund_account"],
        euro_currency=await euro_code(session, cfg),
    )
    view = await service.post(
        session,
        actor=actor,
        legs=result.postings,
        kind="issuance",
        metadata={"euros": str(euros), "bonus": str(result.bonus), **(metadata or {})},
    )
    await service.emit(
        session,
        CurrencyIssued(
            currency=currency,
            account_id=str(account_id),
            euros=euros,
            units=euros + result.bonus,
            bonus=result.bonus,
            transaction_id=view["id"],
        ),
        currency,
    )
    return view


async def reconvert(
    session: AsyncSession,
    *,
    currency: str,
    account_id: UUID,
    units: int,
    actor: Actor,
    metadata: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Units of a merchant (or member, where allowed) → euros, minus the category fee."""
    from services.ledger import service

    rules = await service.currency_rules(session, currency)
    cfg = await require_reserve(session, currency)
    account = await named_account(session, account_id)
    result = conversion.reconvert(
        rules=rules,
        units=units,
        account=account_id,
        account_type=AccountType(account["type"]),
        issuer=cfg["issuer_account"],
        euro_reserve=cfg["reserve_account"],
        euro_external=cfg["external_account"],
        merchant_category=account["merchant_category"],
        fee_fund=cfg["fund_account"],
        euro_currency=await euro_code(session, cfg),
    )
    view = await service.post(
        session,
        actor=actor,
        legs=result.postings,
        kind="reconversion",
        metadata={"units": str(units), "fee": str(result.fee), **(metadata or {})},
    )
    await service.emit(
        session,
        CurrencyReconverted(
            currency=currency,
            account_id=str(account_id),
            units=units,
            fee=result.fee,
            euros=units - result.fee,
            transaction_id=view["id"],
        ),
        currency,
    )
    return view


async def reconcile(session: AsyncSession, *, currency: str, reported: int) -> dict[str, Any]:
    """Circulation, reserve account and the bank's figure side by side, with the drifts."""
    cfg = await require_reserve(session, currency)
    balances = await repo.posted_balances(session, [cfg["issuer_account"], cfg["reserve_account"]])
    drift = conversion.reserve_drift(
        units_in_circulation=-balances[cfg["issuer_account"]],
        reserve_balance=balances[cfg["reserve_account"]],
        reported_bank_balance=reported,
    )
    return {
        "currency": currency,
        "units_in_circulation": drift.units_in_circulation,
        "reserve_balance": drift.reserve_balance,
        "reported_bank_balance": drift.reported_bank_balance,
        "ledger_drift": drift.ledger_drift,
        "bank_drift": drift.bank_drift,
        "balanced": drift.balanced,
    }
