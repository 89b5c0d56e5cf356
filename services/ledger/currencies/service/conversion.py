"""Issuance (euros paid in, units credited) and reconversion (units back to euros) of a
euro-backed currency: each one balanced transaction through the posting path, which
re-checks the reserve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.rules import Actor
from services.ledger.currencies.rules import conversion
from services.ledger.currencies.service.registry import currency_rules
from services.ledger.currencies.service.reserve import euro_code, require_reserve
from services.ledger.database.outbox import emit
from services.ledger.transactions.service.single import post
from shared.events.catalog.ledger import CurrencyIssued, CurrencyReconverted


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
    rules = await currency_rules(session, currency)
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
    view = await post(
        session,
        actor=actor,
        legs=result.postings,
        kind="issuance",
        metadata={"euros": str(euros), "bonus": str(result.bonus), **(metadata or {})},
    )
    await emit(
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
    rules = await currency_rules(session, currency)
    cfg = await require_reserve(session, currency)
    account = await accounts.named_account(session, account_id)
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
    view = await post(
        session,
        actor=actor,
        legs=result.postings,
        kind="reconversion",
        metadata={"units": str(units), "fee": str(result.fee), **(metadata or {})},
    )
    await emit(
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
