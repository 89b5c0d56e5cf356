"""Use cases of four-eyes approvals: ask, approve (the act is posted then), reject."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger import conversions
from services.ledger.account_lookup import require_account
from services.ledger.approvals import repository as repo
from services.ledger.approvals.rules import Act, Status, check_decidable
from services.ledger.authority.rules import Actor
from services.ledger.store import repository as ledger_repo
from shared.problems import NotFound


async def request(
    session: AsyncSession, who: Actor, *, currency: str, act: Act, account_id: UUID, amount: int
) -> RowMapping:
    """Record an act waiting for a second operator (the caller checked it is one)."""
    await require_account(session, account_id)
    await conversions.require_reserve(session, currency)
    return await repo.insert_approval(
        session,
        id=ledger_repo.new_id(),
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


async def approve(
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
        post, amount = conversions.issue, {"euros": row["amount"]}
    else:
        post, amount = conversions.reconvert, {"units": row["amount"]}
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


async def reject(
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
