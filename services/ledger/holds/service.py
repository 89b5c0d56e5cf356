"""Holds (two-phase payments): authorize, capture, void, expire, with their events.

Locking: a hold row is locked first, then the balance rows (in id order, by ``post``), so
captures and transfers never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.authority.errors import NoDebitAuthority
from services.ledger.authority.rules import Actor, Basis
from services.ledger.authority.service import checks as authority
from services.ledger.database.outbox import emit
from services.ledger.holds import repository as repo
from services.ledger.holds import rules as hold_rules
from services.ledger.transactions.rules import Posting, check_positive
from services.ledger.transactions.service.single import (
    bounds_error,
    check_legs_named,
    check_voucher_debits,
    lock_accounts,
    post,
)
from shared.auth import Principal
from shared.events.catalog.ledger import HoldCaptured, HoldCreated, HoldExpired, HoldVoided
from shared.ids import uuid7
from shared.problems import NotFound


def hold_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "payer": str(row["payer"]),
        "payee": str(row["payee"]),
        "currency": row["currency"],
        "amount": row["amount"],
        "captured": row["captured"],
        "status": row["status"],
        "expires_at": row["expires_at"].isoformat(),
        "transaction_id": str(row["transaction_id"]) if row["transaction_id"] else None,
        "metadata": row["metadata"],
    }


def _hold_domain(row: Mapping[Any, Any]) -> hold_rules.Hold:
    return hold_rules.Hold(
        payer=row["payer"],
        payee=row["payee"],
        currency=row["currency"],
        amount=row["amount"],
        expires_at=row["expires_at"],
        status=hold_rules.HoldStatus(row["status"]),
        captured=row["captured"],
    )


async def authorize_hold(
    session: AsyncSession,
    *,
    payer: UUID,
    payee: UUID,
    currency: str,
    amount: int,
    expires_at: datetime,
    metadata: Mapping[Any, Any],
    actor: Actor,
) -> dict[str, Any]:
    """Set ``amount`` aside on the payer for the payee, under ``actor``'s authority over
    the payer (checked now, and again when the hold is captured)."""
    now = datetime.now(UTC)
    hold = hold_rules.authorize(
        payer=payer, payee=payee, currency=currency, amount=amount, expires_at=expires_at, now=now
    )
    locked = await lock_accounts(session, (payer, payee))
    legs = [
        Posting(account_id=payer, currency=currency, amount=-amount),
        Posting(account_id=payee, currency=currency, amount=amount),
    ]
    grants = await authority.authorize_debits(session, actor, legs, locked)
    await check_legs_named(
        session, legs, locked
    )  # an unknown payer is refused here (it has no grant)
    await check_voucher_debits(session, legs, locked)
    (grant,) = grants
    hold_id = uuid7()
    try:
        row = await repo.insert_hold(
            session,
            id=hold_id,
            payer=payer,
            payee=payee,
            currency=currency,
            amount=hold.amount,
            expires_at=hold.expires_at,
            metadata=dict(metadata),
            authorized_by=actor.principal,
            basis=grant.basis.value,
            mandate_id=grant.mandate_id,
        )
    except IntegrityError as exc:
        raise bounds_error(exc) from exc
    await emit(
        session,
        HoldCreated(
            hold_id=str(hold_id),
            currency=currency,
            payer=str(payer),
            payee=str(payee),
            amount=amount,
            expires_at=hold.expires_at,
        ),
        str(hold_id),
    )
    return hold_view(row)


async def require_hold(session: AsyncSession, hold_id: UUID, *, lock: bool = False) -> RowMapping:
    row = await repo.get_hold(session, hold_id, lock=lock)
    if row is None:
        raise NotFound(f"no hold {hold_id}")
    return row


def authoriser(row: Mapping[Any, Any]) -> Actor:
    """The actor a hold was placed by, with the authority it had then over the payer: the
    capture debits under it (a mandate's limits are checked again, and counted, then)."""
    principal = row["authorized_by"]
    basis = Basis(row["basis"])
    if basis is Basis.CARD:
        return Actor(principal).with_card(row["payer"])
    if basis is Basis.OPERATOR:
        return Actor(principal, frozenset({row["currency"]}))
    return Actor(principal)


async def ensure_may_settle(
    session: AsyncSession, row: Mapping[Any, Any], actor: Actor, *, act: str
) -> None:
    """Capturing or voiding a hold is for whoever placed it, the payee's holder, or the
    operator; voiding also for the payer's holder (it only gives the payer its money back)."""
    if actor.principal == row["authorized_by"] or actor.operates(row["currency"]):
        return
    parties = [row["payee"]] if act == "capture" else [row["payee"], row["payer"]]
    for account_id in parties:
        account = await accounts.require_account(session, account_id)
        if account["holder"] == actor.principal:
            return
    raise NoDebitAuthority(
        f"{actor.principal!r} may not {act} hold {row['id']}: it did not place it, does not "
        "hold its payee and does not operate its currency",
        hold_id=str(row["id"]),
    )


async def capture_hold(
    session: AsyncSession, *, hold_id: UUID, amount: int | None, actor: Actor
) -> dict[str, Any]:
    row = await require_hold(session, hold_id, lock=True)
    await ensure_may_settle(session, row, actor, act="capture")
    if amount is not None:
        check_positive(amount)
    captured = hold_rules.capture(_hold_domain(row), now=datetime.now(UTC), amount=amount)
    await lock_accounts(session, (row["payer"], row["payee"]))
    # Capturing releases the hold (trigger on holds) before the payment is posted against
    # the same funds; both happen in this one transaction.
    await repo.finish_hold(session, hold_id, status="captured", captured=captured.captured)
    view = await post(
        session,
        actor=authoriser(row),
        legs=hold_rules.capture_postings(captured),
        kind="hold_capture",
        metadata={"hold_id": str(hold_id), "captured_by": actor.principal},
    )
    done = await repo.finish_hold(
        session,
        hold_id,
        status="captured",
        captured=captured.captured,
        transaction_id=UUID(view["id"]),
    )
    await emit(
        session,
        HoldCaptured(hold_id=str(hold_id), captured=captured.captured, transaction_id=view["id"]),
        str(hold_id),
    )
    return hold_view(done)


async def void_hold(session: AsyncSession, *, hold_id: UUID, actor: Actor) -> dict[str, Any]:
    row = await require_hold(session, hold_id, lock=True)
    await ensure_may_settle(session, row, actor, act="void")
    hold_rules.void(_hold_domain(row), now=datetime.now(UTC))
    done = await repo.finish_hold(session, hold_id, status="voided")
    await emit(session, HoldVoided(hold_id=str(hold_id)), str(hold_id))
    return hold_view(done)


async def expire_due_holds(
    session: AsyncSession, *, limit: int = 500, currency: str | None = None
) -> int:
    """Expire authorized holds past their deadline (of one currency, for its schedule);
    returns how many."""
    now = datetime.now(UTC)
    due = await repo.due_holds(session, now=now, limit=limit, currency=currency)
    for row in due:
        hold_rules.expire(_hold_domain(row), now=now)
        await repo.finish_hold(session, row["id"], status="expired")
        await emit(session, HoldExpired(hold_id=str(row["id"])), str(row["id"]))
    return len(due)


# --- as the HTTP routes ask: the caller's token, its tenancy --------------------------------


async def place_hold(
    session: AsyncSession,
    principal: Principal,
    *,
    payer: UUID,
    payee: UUID,
    currency: str,
    amount: int,
    expires_at: datetime,
    metadata: Mapping[Any, Any],
) -> dict[str, Any]:
    """`authorize_hold` as the caller (its tenancy is checked by the route, before the
    idempotency key is claimed)."""
    return await authorize_hold(
        session,
        payer=payer,
        payee=payee,
        currency=currency,
        amount=amount,
        expires_at=expires_at,
        metadata=metadata,
        actor=authority.actor(principal),
    )


async def visible_hold(
    session: AsyncSession, principal: Principal, hold_id: UUID, *, lock: bool
) -> RowMapping:
    """The hold, once the caller's tenancy allows its currency (403)."""
    row = await require_hold(session, hold_id, lock=lock)
    principal.ensure_access("currencies", row["currency"])
    return row


async def read_hold(session: AsyncSession, principal: Principal, hold_id: UUID) -> dict[str, Any]:
    """One hold: for whoever placed it, or may read its payer or payee."""
    row = await visible_hold(session, principal, hold_id, lock=False)
    if row["authorized_by"] != principal.client_id:
        await accounts.readable_party(session, principal, (row["payer"], row["payee"]))
    return hold_view(row)


async def list_holds(
    session: AsyncSession, principal: Principal, *, currency: str, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """Holds of one currency, oldest first (the operator's read, or an auditor's)."""
    principal.ensure_access("currencies", currency)
    authority.ensure_operator_read(principal, currency, what="every hold of a currency")
    rows = await repo.list_holds(session, currency=currency, after=after, limit=limit)
    return [hold_view(r) for r in rows]


async def capture(
    session: AsyncSession, principal: Principal, hold_id: UUID, *, amount: int | None
) -> dict[str, Any]:
    """`capture_hold` of a hold of the caller's tenancy."""
    await visible_hold(session, principal, hold_id, lock=True)
    return await capture_hold(
        session, hold_id=hold_id, amount=amount, actor=authority.actor(principal)
    )


async def void(session: AsyncSession, principal: Principal, hold_id: UUID) -> dict[str, Any]:
    """`void_hold` of a hold of the caller's tenancy."""
    await visible_hold(session, principal, hold_id, lock=True)
    return await void_hold(session, hold_id=hold_id, actor=authority.actor(principal))
