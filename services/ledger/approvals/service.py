"""Use cases of four-eyes approvals: ask, approve (the act is posted then), reject."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.approvals import repository as repo
from services.ledger.approvals.rules import Act, Status, check_decidable
from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.currencies.service import conversion
from services.ledger.currencies.service.reserve import require_reserve
from shared.auth import Principal
from shared.ids import uuid7
from shared.problems import Forbidden, NotFound


async def request(
    session: AsyncSession, who: Actor, *, currency: str, act: Act, account_id: UUID, amount: int
) -> RowMapping:
    """Record an act waiting for a second operator (the caller checked it is one)."""
    await accounts.require_account(session, account_id)
    await require_reserve(session, currency)
    return await repo.insert_approval(
        session,
        id=uuid7(),
        currency=currency,
        act=act.value,
        account_id=account_id,
        amount=amount,
        requested_by=who.principal,
    )


async def _pending(
    session: AsyncSession, who: Actor, currency: str, approval_id: UUID
) -> RowMapping:
    row = await repo.get_approval(session, currency, approval_id, lock=True)
    if row is None:
        raise NotFound(f"no approval {approval_id} in {currency}")
    check_decidable(status=row["status"], requested_by=row["requested_by"], decider=who.principal)
    return row


async def approve_act(
    session: AsyncSession, who: Actor, *, currency: str, approval_id: UUID
) -> dict[str, Any]:
    """Post the act as the approving operator, with both principals on the transaction."""
    row = await _pending(session, who, currency, approval_id)
    both = {
        "approval_id": str(approval_id),
        "requested_by": row["requested_by"],
        "approved_by": who.principal,
    }
    post: Callable[..., Awaitable[dict[str, Any]]]
    if Act(row["act"]) is Act.ISSUANCE:
        post, amount = conversion.issue, {"euros": row["amount"]}
    else:
        post, amount = conversion.reconvert, {"units": row["amount"]}
    view = await post(
        session,
        currency=currency,
        account_id=row["account_id"],
        actor=who,
        metadata=both,
        **amount,
    )
    decided = await repo.decide(
        session,
        approval_id,
        status=Status.APPROVED.value,
        decided_by=who.principal,
        transaction_id=UUID(view["id"]),
    )
    return {**dict(decided), "transaction": view}


async def reject_act(
    session: AsyncSession, who: Actor, *, currency: str, approval_id: UUID
) -> dict[str, Any]:
    await _pending(session, who, currency, approval_id)
    decided = await repo.decide(
        session,
        approval_id,
        status=Status.REJECTED.value,
        decided_by=who.principal,
        transaction_id=None,
    )
    return {**dict(decided), "transaction": None}


# --- as the HTTP routes ask: the caller's token, its tenancy --------------------------------


async def list_approvals(
    session: AsyncSession,
    principal: Principal,
    currency: str,
    *,
    status: str | None,
    after: UUID | None,
    limit: int,
) -> Sequence[RowMapping]:
    """The currency's acts waiting for (or decided by) a second operator: the operator's
    read, or an auditor's."""
    principal.ensure_access("currencies", currency)
    authority.ensure_operator_read(principal, currency, what="the currency's approvals")
    return await repo.list_approvals(session, currency, status=status, after=after, limit=limit)


def _ensure_decider(principal: Principal, currency: str, act: str) -> None:
    """A decider operates the currency and holds the act's own scope."""
    principal.ensure_access("currencies", currency)
    authority.ensure_operator(principal, currency, act=f"deciding on a {act}")
    scope = Act(act).scope
    if scope not in principal.scopes and not principal.is_admin:
        raise Forbidden(f"scope {scope!r} required to decide on a {act}")


async def decide(
    session: AsyncSession, principal: Principal, currency: str, approval_id: UUID, *, approve: bool
) -> dict[str, Any]:
    """Approve (the act is posted) or reject an approval, as a second operator."""
    principal.ensure_access("currencies", currency)
    row = await repo.get_approval(session, currency, approval_id)
    if row is None:
        raise NotFound(f"no approval {approval_id} in {currency}")
    _ensure_decider(principal, currency, row["act"])
    decision = approve_act if approve else reject_act
    return await decision(
        session, authority.actor(principal), currency=currency, approval_id=approval_id
    )
