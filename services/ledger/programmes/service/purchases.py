"""Purchases: a beneficiary pays an approved merchant from its credit lots, earliest expiry
first, within the programme's categories and caps."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.programmes import repository as repo
from services.ledger.programmes import rules as dom
from services.ledger.programmes.errors import CategoryNotAllowed
from services.ledger.programmes.service.base import (
    BENEFICIARY_TYPES,
    credit_lot,
    load_programme,
    now_utc,
    programme_account,
)
from services.ledger.transactions.service.single import post
from shared.auth import Principal


async def purchase(
    session: AsyncSession,
    *,
    currency: str,
    beneficiary: UUID,
    merchant: UUID,
    amount: int,
    category: str | None,
    actor: Actor,
) -> dict[str, Any]:
    """Pay an approved merchant from the beneficiary's lots, earliest expiry first."""
    programme = await load_programme(session, currency)
    await programme_account(
        session, beneficiary, currency=currency, types=BENEFICIARY_TYPES, role="beneficiary"
    )
    shop = await accounts.named_account(session, merchant, role="merchant")
    category = category or shop["merchant_category"]
    if category is None:
        raise CategoryNotAllowed("no category given and the merchant has none")
    now = now_utc()
    rows = await repo.lock_open_lots(session, beneficiary=beneficiary)
    spent = await repo.spent_in_category(
        session,
        beneficiary=beneficiary,
        category=category,
        since=programme.window_start(now),
    )
    dom.check_purchase(
        rules=programme.rules,
        merchant=merchant,
        category=category,
        amount=amount,
        spent_in_category=spent,
    )
    consumption = dom.consume_lots(
        [credit_lot(row) for row in rows], amount=amount, category=category, now=now
    )
    funders = sorted({str(d.funder) for d in consumption.draws})
    tx = await post(
        session,
        actor=actor,
        legs=dom.purchase_postings(
            currency=currency, beneficiary=beneficiary, merchant=merchant, consumption=consumption
        ),
        kind="programme_purchase",
        programme_debit=True,
        description=f"programme purchase: {category}",
        metadata={"category": category, "funders": ",".join(funders)},
    )
    await repo.draw(
        session,
        transaction_id=UUID(tx["id"]),
        kind="purchase",
        draws=[(d.lot_id, d.amount) for d in consumption.draws],
        category=category,
        merchant=merchant,
    )
    return {
        "category": category,
        "transaction": tx,
        "draws": [
            {"lot_id": str(d.lot_id), "funder_account_id": str(d.funder), "amount": d.amount}
            for d in consumption.draws
        ],
    }


async def purchase_request(
    session: AsyncSession,
    principal: Principal,
    *,
    currency: str,
    beneficiary: UUID,
    merchant: UUID,
    amount: int,
    category: str | None,
) -> dict[str, Any]:
    """`purchase` as the caller (its tenancy is checked by the route, before the
    idempotency key is claimed)."""
    return await purchase(
        session,
        currency=currency,
        beneficiary=beneficiary,
        merchant=merchant,
        amount=amount,
        category=category,
        actor=authority.actor(principal),
    )
