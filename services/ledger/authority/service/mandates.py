"""Use cases of mandates (another principal may debit or read an account, within limits,
until an expiry) and of grant links (the account a grant application is paid into).

Each is the account holder's act, or its operator's (`checks.ensure_holder_or_operator`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.authority import repository as repo
from services.ledger.authority.errors import GrantLinkConflict
from services.ledger.authority.rules import (
    Actor,
    MandatePeriod,
    check_new_mandate,
    check_revocable,
    mandate_from,
)
from services.ledger.authority.service.checks import actor, ensure_holder_or_operator
from shared.auth import Principal
from shared.ids import uuid7
from shared.problems import NotFound


async def grant_mandate(
    session: AsyncSession,
    who: Actor,
    account: Mapping[Any, Any],
    *,
    grantee: str,
    may_debit: bool,
    may_read: bool,
    max_per_payment: int | None,
    max_per_period: int | None,
    period: MandatePeriod,
    expires_at: datetime,
    purpose: str,
) -> RowMapping:
    ensure_holder_or_operator(who, account, act="grant a mandate on it")
    now = datetime.now(UTC)
    check_new_mandate(
        holder=account["holder"],
        grantee=grantee,
        may_debit=may_debit,
        may_read=may_read,
        max_per_payment=max_per_payment,
        max_per_period=max_per_period,
        expires_at=expires_at,
        now=now,
    )
    return await repo.insert_mandate(
        session,
        id=uuid7(),
        account_id=account["id"],
        grantee=grantee,
        may_debit=may_debit,
        may_read=may_read,
        max_per_payment=max_per_payment,
        max_per_period=max_per_period,
        period=period.value,
        expires_at=expires_at,
        purpose=purpose,
        created_by=who.principal,
    )


async def revoke_mandate(
    session: AsyncSession, who: Actor, account: Mapping[Any, Any], mandate_id: UUID
) -> RowMapping:
    ensure_holder_or_operator(who, account, act="revoke its mandates")
    row = await repo.get_mandate(session, account["id"], mandate_id, lock=True)
    if row is None:
        raise NotFound(f"no mandate {mandate_id} on account {account['id']}")
    now = datetime.now(UTC)
    check_revocable(mandate_from(row), now)
    return await repo.revoke_mandate(session, mandate_id, by=who.principal, at=now)


# --- grant links ----------------------------------------------------------------------------


async def link_grant(
    session: AsyncSession,
    who: Actor,
    account: Mapping[Any, Any],
    *,
    programme_code: str,
    application_id: str,
) -> RowMapping:
    """The holder of ``account`` names it as where the application's grant is paid.

    Only the holder (or the operator, for a member without an app) may link; once linked,
    an application's account does not change silently: another account is a 409.
    """
    ensure_holder_or_operator(who, account, act="link it to a grant application")
    existing = await repo.get_grant_link(
        session, programme_code=programme_code, application_id=application_id
    )
    if existing is not None:
        if existing["account_id"] == account["id"]:
            return existing
        raise GrantLinkConflict(
            f"application {application_id} of {programme_code} is linked to another account",
            application_id=application_id,
        )
    return await repo.insert_grant_link(
        session,
        programme_code=programme_code,
        application_id=application_id,
        account_id=account["id"],
        linked_by=who.principal,
    )


# --- as the HTTP routes ask: the account named in the path, the caller's token -------------


async def grant(
    session: AsyncSession, principal: Principal, account_id: UUID, **terms: Any
) -> RowMapping:
    """`grant_mandate` on an account the caller's tenancy lets it see."""
    account = await accounts.visible_account(session, principal, account_id)
    return await grant_mandate(session, actor(principal), account, **terms)


async def revoke(
    session: AsyncSession, principal: Principal, account_id: UUID, mandate_id: UUID
) -> RowMapping:
    """`revoke_mandate` on an account the caller's tenancy lets it see."""
    account = await accounts.visible_account(session, principal, account_id)
    return await revoke_mandate(session, actor(principal), account, mandate_id)


async def list_mandates(
    session: AsyncSession, principal: Principal, account_id: UUID, *, after: UUID | None, limit: int
) -> Sequence[RowMapping]:
    """Every mandate of an account the caller may read, revoked and expired ones included."""
    await accounts.readable_account(session, principal, account_id)
    return await repo.list_mandates(session, account_id, after=after, limit=limit)


async def link(
    session: AsyncSession,
    principal: Principal,
    account_id: UUID,
    *,
    programme_code: str,
    application_id: str,
) -> RowMapping:
    """`link_grant` on an account the caller's tenancy lets it see."""
    account = await accounts.visible_account(session, principal, account_id)
    return await link_grant(
        session,
        actor(principal),
        account,
        programme_code=programme_code,
        application_id=application_id,
    )
