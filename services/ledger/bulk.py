"""Atomic batches in bulk: one lock of every account, checks against running balances in
Python, then all transactions, all postings and all their events in three array statements,
whatever the batch size.

The database still checks everything it always does (per-posting balance triggers and
bound CHECKs, per-transaction zero-sum at commit); this path only saves round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.conversions import check_reserves
from services.ledger.domain.errors import LedgerDomainError
from services.ledger.domain.postings import Posting, validate_transaction
from services.ledger.outbox_rows import outbox_rows
from services.ledger.service import (
    SOURCE,
    bounds_error,
    check_legs,
    check_voucher_debits,
    posted_events,
    transaction_view,
)
from services.ledger.store import repository as repo
from shared.events.registry import EventPayload


async def post_atomic(
    session: AsyncSession, *, client_id: str, items: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Post every item or none; a refusal names its item (``extra["item"]``)."""
    canonical: list[tuple[Posting, ...]] = []
    for index, item in enumerate(items):
        try:
            canonical.append(validate_transaction(item["legs"]))
        except LedgerDomainError as exc:
            exc.extra["item"] = index
            raise
    locked = await repo.lock_accounts(
        session, (leg.account_id for legs in canonical for leg in legs)
    )
    running = {account_id: dict(row) for account_id, row in locked.items()}
    today = datetime.now(UTC).date()
    tx_rows: list[dict[str, Any]] = []
    leg_rows: list[dict[str, Any]] = []
    for index, (item, legs) in enumerate(zip(items, canonical, strict=True)):
        try:
            check_legs(legs, running)
            await check_voucher_debits(session, legs, running)
        except LedgerDomainError as exc:
            exc.extra["item"] = index
            raise
        for leg in legs:
            running[leg.account_id]["posted"] += leg.amount
        tx_id = repo.new_id()
        effective: date = item.get("effective_date") or today
        tx_rows.append(
            {
                "id": tx_id,
                "kind": item.get("kind", "transfer"),
                "effective_date": effective,
                "description": item.get("description", ""),
                "metadata": dict(item.get("metadata") or {}),
                "client_id": client_id,
                "idempotency_key": None,
                "reverses": None,
            }
        )
        leg_rows += [
            {
                "transaction_id": tx_id,
                "account_id": leg.account_id,
                "currency": leg.currency,
                "amount": leg.amount,
            }
            for leg in legs
        ]
    try:
        inserted = await repo.insert_transactions(session, rows=tx_rows, legs=leg_rows)
    except IntegrityError as exc:
        raise bounds_error(exc) from exc
    await check_reserves(session, list(locked))
    by_id = {row["id"]: row for row in inserted}
    views = []
    events: list[tuple[EventPayload, str]] = []
    for row, legs in zip(tx_rows, canonical, strict=True):
        tx = by_id[row["id"]]
        events += [(p, str(tx["id"])) for p in posted_events(tx=tx, legs=legs, accounts=locked)]
        views.append(
            transaction_view(
                tx,
                [
                    {"account_id": leg.account_id, "currency": leg.currency, "amount": leg.amount}
                    for leg in legs
                ],
            )
        )
    await repo.insert_outbox(session, outbox_rows(events, source=SOURCE))
    return views
