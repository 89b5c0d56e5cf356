"""Reversals: the exact opposite of a transaction, linked to it (the ledger is append-only,
so a correction is a new transaction)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority.rules import OPERATOR_KINDS, Actor
from services.ledger.authority.service import checks as authority
from services.ledger.database.outbox import emit
from services.ledger.transactions import repository as repo
from services.ledger.transactions.errors import AlreadyReversed, VoucherCreditRestricted
from services.ledger.transactions.rules import Posting, reversal_of
from services.ledger.transactions.service.single import ensure_visible, load_transaction, post
from shared.auth import Principal
from shared.events.catalog.ledger import TransactionReversed


async def reverse(
    session: AsyncSession,
    *,
    original: dict[str, Any],
    actor: Actor,
    description: str,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Post the exact opposite of ``original``, linked to it; a transaction reverses once.

    It debits the original's payees, so it needs the same authority over them as any
    debit (the payee refunding, its mandate, or the operator); an operator act (issuance,
    reconversion, demurrage, a grant payment, programme credits) is reversed only by the
    operator of every currency it touches.
    """
    original_id = UUID(original["id"])
    if original["kind"] in OPERATOR_KINDS or original["kind"] == "reversal":
        for currency in sorted({p["currency"] for p in original["postings"]}):
            authority.ensure_operator(actor, currency, act=f"reversing a {original['kind']}")
    if await repo.is_programme_movement(session, original_id):
        raise VoucherCreditRestricted(
            "programme credits, purchases and expiries are not reversed: their lots would no "
            "longer match the balances",
            transaction_id=str(original_id),
        )
    if await repo.reversed_by(session, original_id) is not None:
        raise AlreadyReversed(f"transaction {original_id} is already reversed")
    legs = reversal_of(
        Posting(account_id=UUID(p["account_id"]), currency=p["currency"], amount=p["amount"])
        for p in original["postings"]
    )
    try:
        async with session.begin_nested():
            view = await post(
                session,
                actor=actor,
                legs=legs,
                kind="reversal",
                description=description or f"reversal of {original_id}",
                metadata={"reverses_kind": original["kind"]},
                reverses=original_id,
                idempotency_key=idempotency_key,
            )
    except IntegrityError as exc:
        # Two concurrent reversals: the unique constraint on ``reverses`` lets one win.
        raise AlreadyReversed(f"transaction {original_id} is already reversed") from exc
    await emit(
        session,
        TransactionReversed(transaction_id=str(original_id), reversal_id=view["id"]),
        str(original_id),
    )
    return view


async def reverse_request(
    session: AsyncSession,
    principal: Principal,
    transaction_id: UUID,
    *,
    description: str,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """`reverse` as a client asks it, on a transaction of its tenancy."""
    original = await load_transaction(session, transaction_id)
    ensure_visible(principal, original)
    return await reverse(
        session,
        original=original,
        actor=authority.actor(principal),
        description=description,
        idempotency_key=idempotency_key,
    )
