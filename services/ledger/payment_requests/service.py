"""Use cases of payment requests: ask, accept (the transfer is posted then), decline,
cancel.

Acceptance posts through the posting path (`services.ledger.transactions`) as the accepting
principal, so the one authority check decides who may accept: the payer's holder, a mandate
within its limits, or the currency's operator. The request's row is locked first, so it is accepted
(or otherwise decided) once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.payment_requests import repository as repo
from services.ledger.payment_requests.rules import (
    Status,
    check_decidable,
    check_parties,
    effective_status,
    expiry,
)
from services.ledger.transactions.rules import Posting
from services.ledger.transactions.service import single as transactions
from shared.auth import Principal
from shared.ids import uuid7
from shared.problems import NotFound

KIND = "payment_request"
"""The kind of the transaction an accepted request posts."""


def request_view(row: Mapping[Any, Any], now: datetime | None = None) -> dict[str, Any]:
    """A request as the API shows it, with its status as of ``now``."""
    return {
        "id": row["id"],
        "currency": row["currency"],
        "payee_account_id": row["payee_account"],
        "payer_account_id": row["payer_account"],
        "amount": row["amount"],
        "description": row["description"],
        "requested_by": row["requested_by"],
        "status": effective_status(
            row["status"], row["expires_at"], now or datetime.now(UTC)
        ).value,
        "expires_at": row["expires_at"],
        "created_at": row["created_at"],
        "decided_by": row["decided_by"],
        "decided_at": row["decided_at"],
        "transaction_id": row["transaction_id"],
    }


async def require_request(
    session: AsyncSession, request_id: UUID, *, lock: bool = False
) -> RowMapping:
    row = await repo.get_request(session, request_id, lock=lock)
    if row is None:
        raise NotFound(f"no payment request {request_id}")
    return row


async def list_requests(
    session: AsyncSession, account_id: UUID, *, status: str | None, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """Requests where ``account_id`` is the payer or the payee, oldest first; ``status`` as
    readers see it."""
    now = datetime.now(UTC)
    rows = await repo.list_requests(
        session, account_id, status=status, now=now, after=after, limit=limit
    )
    return [request_view(row, now) for row in rows]


async def request(
    session: AsyncSession,
    who: Actor,
    *,
    payee: Mapping[Any, Any],
    payer: Mapping[Any, Any],
    amount: int,
    description: str,
    expires_at: datetime | None,
) -> dict[str, Any]:
    """Ask ``payer`` for ``amount`` into ``payee``: the payee's holder's act, or the
    operator's. Nothing moves until the payer side accepts."""
    authority.ensure_holder_or_operator(who, payee, act="request payments into it")
    check_parties(payee, payer)
    now = datetime.now(UTC)
    row = await repo.insert_request(
        session,
        id=uuid7(),
        currency=payee["currency"],
        payee_account=payee["id"],
        payer_account=payer["id"],
        amount=amount,
        description=description,
        requested_by=who.principal,
        expires_at=expiry(expires_at, now),
    )
    return request_view(row, now)


async def accept(session: AsyncSession, who: Actor, request_id: UUID) -> dict[str, Any]:
    """Post the requested transfer as ``who`` and record the request accepted with it."""
    row = await require_request(session, request_id, lock=True)
    legs = [
        Posting(account_id=row["payer_account"], currency=row["currency"], amount=-row["amount"]),
        Posting(account_id=row["payee_account"], currency=row["currency"], amount=row["amount"]),
    ]
    # Authority first, as `transactions.post` does: a caller who may not debit the payer learns
    # nothing of the request's state (no 409 "already accepted" where the answer is "not
    # yours"). Accounts are locked before mandates, in the order every posting path uses.
    locked = await transactions.lock_accounts(session, (leg.account_id for leg in legs))
    await authority.authorize_debits(session, who, legs, locked)
    check_decidable(row["status"], row["expires_at"], datetime.now(UTC))
    transaction = await transactions.post(
        session,
        actor=who,
        legs=legs,
        kind=KIND,
        description=row["description"],
        metadata={"payment_request_id": str(request_id), "requested_by": row["requested_by"]},
    )
    decided = await repo.decide(
        session,
        request_id,
        status=Status.ACCEPTED.value,
        decided_by=who.principal,
        transaction_id=UUID(transaction["id"]),
    )
    return {**request_view(decided), "transaction": transaction}


async def _decide_without_posting(
    session: AsyncSession, who: Actor, request_id: UUID, *, side: str, status: Status
) -> dict[str, Any]:
    row = await require_request(session, request_id, lock=True)
    account: Mapping[Any, Any] = await accounts.require_account(session, row[f"{side}_account"])
    verb = "decline" if status is Status.DECLINED else "cancel"
    authority.ensure_holder_or_operator(who, account, act=f"{verb} its payment requests")
    check_decidable(row["status"], row["expires_at"], datetime.now(UTC))
    decided = await repo.decide(
        session, request_id, status=status.value, decided_by=who.principal, transaction_id=None
    )
    return request_view(decided)


async def decline(session: AsyncSession, who: Actor, request_id: UUID) -> dict[str, Any]:
    """The payer side refuses (its holder, or the operator): nothing is posted."""
    return await _decide_without_posting(
        session, who, request_id, side="payer", status=Status.DECLINED
    )


async def cancel(session: AsyncSession, who: Actor, request_id: UUID) -> dict[str, Any]:
    """The payee side withdraws its request (its holder, or the operator)."""
    return await _decide_without_posting(
        session, who, request_id, side="payee", status=Status.CANCELLED
    )


# --- as the HTTP routes ask: the caller's token, its tenancy --------------------------------


async def request_payment(
    session: AsyncSession,
    principal: Principal,
    *,
    payee_account_id: UUID,
    payer_account_id: UUID,
    amount: int,
    description: str,
    expires_at: datetime | None,
) -> dict[str, Any]:
    """`request` between two accounts of the caller's tenancy."""
    payee = await accounts.named_account(session, payee_account_id, role="payee")
    payer = await accounts.named_account(session, payer_account_id, role="payer")
    principal.ensure_access("currencies", payee["currency"])
    principal.ensure_access("currencies", payer["currency"])
    return await request(
        session,
        authority.actor(principal),
        payee=payee,
        payer=payer,
        amount=amount,
        description=description,
        expires_at=expires_at,
    )


async def visible_request(
    session: AsyncSession, principal: Principal, request_id: UUID
) -> RowMapping:
    """The request, once the caller's currency binding allows it (403)."""
    row = await require_request(session, request_id)
    principal.ensure_access("currencies", row["currency"])
    return row


async def read_request(
    session: AsyncSession, principal: Principal, request_id: UUID
) -> dict[str, Any]:
    """One request: for whoever may read its payer or its payee account."""
    row = await visible_request(session, principal, request_id)
    await accounts.readable_party(session, principal, (row["payer_account"], row["payee_account"]))
    return request_view(row)


async def requests_of(
    session: AsyncSession,
    principal: Principal,
    account_id: UUID,
    *,
    status: str | None,
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    """`list_requests` of an account the caller may read."""
    await accounts.readable_account(session, principal, account_id)
    return await list_requests(session, account_id, status=status, after=after, limit=limit)


async def decide(
    session: AsyncSession, principal: Principal, request_id: UUID, *, decision: str
) -> dict[str, Any]:
    """Accept, decline or cancel a request of the caller's tenancy, as the caller."""
    await visible_request(session, principal, request_id)
    act = {"accept": accept, "decline": decline, "cancel": cancel}[decision]
    return await act(session, authority.actor(principal), request_id)
