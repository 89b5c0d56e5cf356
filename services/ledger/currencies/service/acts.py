"""Issuance and reconversion as a currency's operator asks for them: checked, then posted
now, or, at or above the currency's four-eyes threshold, recorded for a second operator
(`services.ledger.approvals`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.approvals import service as approvals
from services.ledger.approvals.rules import Act, needs_second_operator
from services.ledger.authority.service import checks as authority
from services.ledger.currencies.service import conversion
from services.ledger.currencies.service.registry import currency_rules
from services.ledger.currencies.service.reserve import ensure_reserve_access
from shared.auth import Principal


async def needs_approval(
    session: AsyncSession, principal: Principal, code: str, *, act: str, amount: int
) -> bool:
    """Refuse the act (``issuance`` or ``reconversion``) to anyone but the operator of the
    currency and of its reserve's euros; True when ``amount`` waits for a second operator."""
    await ensure_reserve_access(session, principal, code)
    authority.ensure_operator(principal, code, act=f"a {act}")
    return needs_second_operator(await currency_rules(session, code), amount)


async def request_approval(
    session: AsyncSession,
    principal: Principal,
    code: str,
    *,
    act: str,
    account_id: UUID,
    amount: int,
) -> RowMapping:
    """Record the act for a second operator."""
    return await approvals.request(
        session,
        authority.actor(principal),
        currency=code,
        act=Act(act),
        account_id=account_id,
        amount=amount,
    )


async def issue(
    session: AsyncSession, principal: Principal, code: str, *, account_id: UUID, euros: int
) -> dict[str, Any]:
    """Post an issuance as the calling operator."""
    return await conversion.issue(
        session, currency=code, account_id=account_id, euros=euros, actor=authority.actor(principal)
    )


async def reconvert(
    session: AsyncSession, principal: Principal, code: str, *, account_id: UUID, units: int
) -> dict[str, Any]:
    """Post a reconversion as the calling operator."""
    return await conversion.reconvert(
        session, currency=code, account_id=account_id, units=units, actor=authority.actor(principal)
    )
