"""A programme's configuration, and its credit grants: each one lot a funder grants a
beneficiary until an expiry (a grant paid for funding names its order)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.programmes import repository as repo
from services.ledger.programmes import rules as dom
from services.ledger.programmes.errors import (
    CategoryNotAllowed,
    FunderNotApproved,
    InvalidLotExpiry,
)
from services.ledger.programmes.service.base import (
    BENEFICIARY_TYPES,
    FUNDER_TYPES,
    MERCHANT_TYPES,
    load_programme,
    lot_view,
    now_utc,
    programme_account,
    require_voucher,
)
from services.ledger.transactions.rules import transfer
from services.ledger.transactions.service.single import post
from shared.auth import Principal
from shared.ids import uuid7


async def configure(
    session: AsyncSession,
    principal: Principal,
    *,
    currency: str,
    allowed_categories: Sequence[str],
    category_caps: dict[str, int],
    cap_period: str,
    merchants: Sequence[UUID],
    funders: Sequence[UUID],
) -> dict[str, Any]:
    """Set (or replace) the programme of a voucher currency (of the caller's tenancy)."""
    principal.ensure_access("currencies", currency)
    await require_voucher(session, currency)
    dom.ProgrammeRules(  # validates categories and caps
        approved_merchants=frozenset(merchants),
        allowed_categories=frozenset(allowed_categories),
        category_caps=category_caps,
    )
    for merchant in merchants:
        await programme_account(
            session, merchant, currency=currency, types=MERCHANT_TYPES, role="merchant"
        )
    for funder in funders:
        await programme_account(
            session, funder, currency=currency, types=FUNDER_TYPES, role="funder"
        )
    await repo.upsert_programme(
        session,
        currency=currency,
        allowed_categories=sorted(set(allowed_categories)),
        category_caps=category_caps,
        cap_period=cap_period,
        merchants=merchants,
        funders=funders,
    )
    return (await load_programme(session, currency)).view()


async def grant(
    session: AsyncSession,
    *,
    currency: str,
    funder: UUID,
    beneficiary: UUID,
    amount: int,
    expires_at: datetime,
    categories: Sequence[str] | None,
    actor: Actor,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Move ``amount`` from a funder to a beneficiary as one lot expiring at ``expires_at``.

    ``metadata`` adds to the transaction's (a grant paid for funding names its order).
    """
    programme = await load_programme(session, currency)
    if funder not in programme.funders:
        raise FunderNotApproved(f"{funder} is not a funder of {currency}", account_id=str(funder))
    await programme_account(
        session, beneficiary, currency=currency, types=BENEFICIARY_TYPES, role="beneficiary"
    )
    if expires_at <= now_utc():
        raise InvalidLotExpiry("a lot must expire in the future", expires_at=str(expires_at))
    earmarked = None if categories is None else frozenset(categories)
    if earmarked is not None:
        stray = sorted(earmarked - programme.rules.allowed_categories)
        if stray or not earmarked:
            raise CategoryNotAllowed(
                "a lot may only be earmarked for allowed categories", stray=stray
            )
    legs = transfer(currency=currency, source=funder, destination=beneficiary, amount=amount)
    lot_id = uuid7()
    tx = await post(
        session,
        actor=actor,
        legs=legs,
        kind="programme_credit",
        description="programme credit",
        metadata={
            **(metadata or {}),
            "lot_id": str(lot_id),
            "expires_at": expires_at.isoformat(),
        },
    )
    lot = await repo.insert_lot(
        session,
        id=lot_id,
        currency=currency,
        beneficiary=beneficiary,
        funder=funder,
        amount=amount,
        remaining=amount,
        expires_at=expires_at,
        categories=sorted(earmarked) if earmarked is not None else None,
        grant_transaction=UUID(tx["id"]),
    )
    return {"lot": lot_view(lot), "transaction": tx}


async def grant_request(
    session: AsyncSession,
    principal: Principal,
    *,
    currency: str,
    funder: UUID,
    beneficiary: UUID,
    amount: int,
    expires_at: datetime,
    categories: Sequence[str] | None,
) -> dict[str, Any]:
    """`grant` as the caller (its tenancy is checked by the route, before the idempotency
    key is claimed)."""
    return await grant(
        session,
        currency=currency,
        funder=funder,
        beneficiary=beneficiary,
        amount=amount,
        expires_at=expires_at,
        categories=categories,
        actor=authority.actor(principal),
    )


async def lots(
    session: AsyncSession,
    *,
    currency: str,
    beneficiary: UUID | None,
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    await require_voucher(session, currency)
    rows = await repo.list_lots(
        session, currency=currency, beneficiary=beneficiary, after=after, limit=limit
    )
    return [lot_view(row) for row in rows]


async def list_lots(
    session: AsyncSession,
    principal: Principal,
    *,
    currency: str,
    beneficiary: UUID | None,
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Credit lots of the currency (its operator's read, or an auditor's) or of one
    beneficiary (readable by whoever may read that account), oldest first."""
    principal.ensure_access("currencies", currency)
    if beneficiary is None:
        authority.ensure_operator_read(principal, currency, what="every credit lot of a currency")
    else:
        await accounts.readable_account(session, principal, beneficiary)
    return await lots(session, currency=currency, beneficiary=beneficiary, after=after, limit=limit)
