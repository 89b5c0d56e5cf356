"""Atomic batches in bulk: one lock of every account, checks against running balances in
Python, then all transactions, all postings and all their events in three array statements,
whatever the batch size.

The database still checks everything it always does (balance triggers, per posting and
per statement, with their bound checks; per-transaction zero-sum at commit); this path
only saves round trips and Python objects: the accounts of a batch are locked until
commit, so everything built after the lock (rows, events) is built from plain tuples, and
the response is written by the caller straight from the rows returned here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority.rules import Actor
from services.ledger.authority.service import checks as authority
from services.ledger.closings import service as closings
from services.ledger.currencies.rules.currency import CurrencyKind
from services.ledger.currencies.service.registry import currency_kind
from services.ledger.currencies.service.reserve import check_reserves
from services.ledger.database.outbox import SOURCE
from services.ledger.errors import LedgerDomainError
from services.ledger.transactions import repository as repo
from services.ledger.transactions.events import posted_rows, posted_transaction
from services.ledger.transactions.rules import (
    Posting,
    debt_may_grow,
    validate_transaction,
)
from services.ledger.transactions.schemas import BatchCreate, TransactionFields
from services.ledger.transactions.service.single import (
    bounds_error,
    check_legs_named,
    check_voucher_debits,
    enforce_debt_caps,
    post_request,
)
from shared.auth import Principal
from shared.ids import uuid7
from shared.problems import Problem, problem_body

Posted = tuple[dict[str, Any], tuple[Posting, ...]]
"""A posted transaction's row (as RETURNING gave it) and its legs in canonical order."""


def _validated(items: Sequence[TransactionFields]) -> list[tuple[Posting, ...]]:
    canonical: list[tuple[Posting, ...]] = []
    for index, item in enumerate(items):
        try:
            canonical.append(
                validate_transaction(
                    Posting(account_id=p.account_id, currency=p.currency, amount=p.amount)
                    for p in item.postings
                )
            )
        except LedgerDomainError as exc:
            exc.extra["item"] = index
            raise
    return canonical


async def _voucher_currencies(session: AsyncSession, locked: dict[UUID, Any]) -> set[str]:
    """Currencies of the locked member accounts that are voucher currencies: only debits of
    those need `check_voucher_debits` (one cached look-up per currency, not per leg)."""
    found = set()
    for currency in {a["currency"] for a in locked.values() if a["type"] == "member"}:
        if await currency_kind(session, currency) == CurrencyKind.VOUCHER.value:
            found.add(currency)
    return found


async def post_atomic(
    session: AsyncSession, *, actor: Actor, items: Sequence[TransactionFields]
) -> list[Posted]:
    """Post every item or none, as ``actor`` (its authority over every debited account is
    checked first); a refusal names its item (``extra["item"]``)."""
    canonical = _validated(items)
    locked = await repo.lock_accounts(
        session, (leg.account_id for legs in canonical for leg in legs)
    )
    running = {account_id: dict(row) for account_id, row in locked.items()}
    vouchers = await _voucher_currencies(session, locked)
    grants = await authority.authorize_batch(session, actor, canonical, locked)
    authorities: list[tuple[UUID, UUID, str, str, UUID | None, int]] = []
    today = datetime.now(UTC).date()
    ids: list[UUID] = []
    kinds: list[str] = []
    days: list[Any] = []
    descriptions: list[str] = []
    metadata: list[Mapping[str, str]] = []
    leg_tx: list[UUID] = []
    leg_account: list[UUID] = []
    leg_currency: list[str] = []
    leg_amount: list[int] = []
    debt_grows = False
    for index, (item, legs) in enumerate(zip(items, canonical, strict=True)):
        try:
            await check_legs_named(session, legs, running)
            if vouchers and any(leg.currency in vouchers for leg in legs):
                await check_voucher_debits(session, legs, running)
        except LedgerDomainError as exc:
            exc.extra["item"] = index
            raise
        tx_id = uuid7()
        debt_grows = debt_grows or debt_may_grow(legs, running)
        authorities.extend((tx_id, *row) for row in authority.authority_rows(grants[index]))
        for leg in legs:
            running[leg.account_id]["posted"] += leg.amount
            leg_tx.append(tx_id)
            leg_account.append(leg.account_id)
            leg_currency.append(leg.currency)
            leg_amount.append(leg.amount)
        ids.append(tx_id)
        kinds.append(item.kind)
        days.append(item.effective_date or today)
        descriptions.append(item.description)
        metadata.append(item.metadata)
    try:
        inserted = await repo.insert_transaction_columns(
            session,
            ids=ids,
            kinds=kinds,
            effective_dates=days,
            descriptions=descriptions,
            metadata=metadata,
            client_id=actor.principal,
            legs=(leg_tx, leg_account, leg_currency, leg_amount),
            authorities=authorities,
        )
    except IntegrityError as exc:
        raise bounds_error(exc) from exc
    if debt_grows:
        await enforce_debt_caps(session)
    await check_reserves(session, list(locked))
    by_id = {row["id"]: row for row in inserted}
    posted = [(by_id[tx_id], legs) for tx_id, legs in zip(ids, canonical, strict=True)]
    events = (
        posted_transaction(
            tx_id=tx["id"],
            kind=tx["kind"],
            effective_date=tx["effective_date"],
            reverses=tx["reverses"],
            legs=legs,
            accounts=locked,
        )
        for tx, legs in posted
    )
    await repo.insert_outbox(session, posted_rows(events, source=SOURCE))
    return posted


async def post_atomic_request(
    session: AsyncSession, principal: Principal, body: BatchCreate
) -> list[Posted]:
    """`post_atomic` as a client asks it: the tenant of every currency and each item's
    effective date checked first (a refusal names its item)."""
    currencies = sorted({p.currency for item in body.items for p in item.postings})
    for currency in currencies:
        principal.ensure_access("currencies", currency)
    await closings.check_effective_dates(
        session,
        [(item.effective_date, {p.currency for p in item.postings}) for item in body.items],
        batch=True,
    )
    return await post_atomic(session, actor=authority.actor(principal), items=body.items)


def _problem(exc: LedgerDomainError | Problem, index: int) -> dict[str, Any]:
    return problem_body(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        instance=f"/batches#items/{index}",
        **exc.extra,
    )


async def post_independent(
    session: AsyncSession, principal: Principal, body: BatchCreate
) -> list[dict[str, Any]]:
    """Each item in its own savepoint, with its own result."""
    # Lock every account of the batch at once, in id order: two batches never deadlock.
    await repo.lock_accounts(session, (p.account_id for item in body.items for p in item.postings))
    results: list[dict[str, Any]] = []
    for index, item in enumerate(body.items):
        try:
            async with session.begin_nested():
                view = await post_request(session, principal, item, None)
            results.append({"index": index, "status": 201, "transaction": view})
        except (LedgerDomainError, Problem) as exc:
            results.append({"index": index, "status": exc.status, "problem": _problem(exc, index)})
        except IntegrityError:
            results.append(
                {
                    "index": index,
                    "status": 409,
                    "problem": problem_body(
                        status=409,
                        code="conflict",
                        title="Refused by the database",
                        detail="a database constraint refused this item",
                        instance=f"/batches#items/{index}",
                    ),
                }
            )
    return results
