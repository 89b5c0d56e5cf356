"""The posting path: one balanced transaction, checked by the pure rules, written by one
statement with its postings, authority rows and events; and the reads of transactions.

Every function runs inside the caller's unit of work (one request, or one event handled)
and only flushes; a raised domain error rolls the whole unit back, so a refused operation
writes nothing. The events a change causes go to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts import service as accounts
from services.ledger.accounts.errors import CurrencyMismatch
from services.ledger.accounts.rules import AccountType
from services.ledger.authority.rules import Actor, Grant
from services.ledger.authority.service import checks as authority
from services.ledger.closings import service as closings
from services.ledger.currencies.errors import UnknownCurrency
from services.ledger.currencies.rules.currency import CurrencyKind
from services.ledger.currencies.service.registry import currency_kind
from services.ledger.currencies.service.reserve import check_reserves
from services.ledger.database.outbox import SOURCE
from services.ledger.transactions import repository as repo
from services.ledger.transactions.errors import (
    VoucherCreditRestricted,
)
from services.ledger.transactions.events import posted_rows, posted_transaction
from services.ledger.transactions.rules import (
    Posting,
    check_legs,
    constraint_refusal,
    debt_may_grow,
    validate_transaction,
)
from services.ledger.transactions.schemas import TransactionFields
from shared.auth import Principal
from shared.ids import uuid7
from shared.problems import NotFound


async def lock_accounts(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, repo.Row]:
    """Lock the balance rows of ``ids`` in id order, before any write (why concurrent
    writers never deadlock); the accounts found, with their balances, by id."""
    return await repo.lock_accounts(session, ids)


async def check_voucher_debits(
    session: AsyncSession, legs: Sequence[Posting], locked: Mapping[UUID, Mapping[Any, Any]]
) -> None:
    """Refuse debiting a member account of a voucher currency outside the programme paths.

    Why: a beneficiary's voucher balance is the sum of its credit lots; only purchases
    (which draw on lots) and expiry sweeps may take it out, or lots and balance would drift
    apart and the sweep could no longer return expired credit.
    """
    for leg in legs:
        account = locked.get(leg.account_id)
        if leg.amount >= 0 or account is None or account["type"] != AccountType.MEMBER.value:
            continue
        if await currency_kind(session, account["currency"]) == CurrencyKind.VOUCHER.value:
            raise VoucherCreditRestricted(
                "voucher credit of a beneficiary is spent through the programme's purchases",
                account_id=str(leg.account_id),
            )


async def check_legs_named(
    session: AsyncSession, legs: Sequence[Posting], locked: Mapping[UUID, Mapping[Any, Any]]
) -> None:
    """`check_legs`, with a posting currency the ledger does not know named as such.

    The pure rule only sees that the account holds another currency; a typo in a code
    ("CAIRM") should read "currency not found", not "wrong currency for the account". The
    lookup runs only on that refusal, never on the posting path."""
    try:
        check_legs(legs, locked)
    except CurrencyMismatch as exc:
        code = str(exc.extra.get("posting_currency", ""))
        if code and await currency_kind(session, code) is None:
            raise UnknownCurrency(f"no currency {code}", currency=code) from exc
        raise


async def enforce_debt_caps(session: AsyncSession) -> None:
    """Run the (deferred) mutual-credit debt-cap check now, so a breach is this request's
    409 rather than a failed commit."""
    try:
        await repo.check_debt_caps_now(session)
    except IntegrityError as exc:
        raise bounds_error(exc) from exc


def bounds_error(exc: IntegrityError) -> Exception:
    """The domain error for a constraint the database enforced (`constraint_refusal`), else
    ``exc`` itself."""
    name = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None) or ""
    return constraint_refusal(name) or exc


def transaction_view(tx: Mapping[Any, Any], legs: Sequence[repo.Leg]) -> dict[str, Any]:
    return {
        "id": str(tx["id"]),
        "kind": tx["kind"],
        "effective_date": tx["effective_date"].isoformat(),
        "inserted_at": tx["inserted_at"].isoformat(),
        "description": tx["description"],
        "metadata": tx["metadata"],
        "reverses": str(tx["reverses"]) if tx["reverses"] else None,
        "postings": [
            {"account_id": str(account), "currency": currency, "amount": amount}
            for account, currency, amount in legs
        ],
    }


async def post(
    session: AsyncSession,
    *,
    actor: Actor,
    legs: Sequence[Posting],
    kind: str = "transfer",
    effective_date: date | None = None,
    description: str = "",
    metadata: Mapping[Any, Any] | None = None,
    reverses: UUID | None = None,
    idempotency_key: str | None = None,
    programme_debit: bool = False,
    standing: Sequence[Grant] = (),
) -> dict[str, Any]:
    """Post one balanced transaction as ``actor``; returns its JSON view.

    Every debit leg needs ``actor``'s authority over its account (`authority.service`); the
    authority rows go in with the postings. ``standing`` carries the grants of debit legs
    that move under an operator's standing authorisation rather than the actor's (a
    clearing account debited under its currency's clearing terms): those legs are not
    checked against ``actor``, and their grants are written as given.

    ``programme_debit`` is set only by programme purchases and expiry sweeps, which may
    debit a voucher beneficiary (see ``check_voucher_debits``).
    """
    canonical = validate_transaction(legs)
    locked = await repo.lock_accounts(session, (leg.account_id for leg in canonical))
    # Authority first: a caller without it learns nothing of the account's state (no 409
    # "insufficient funds" where the answer is "not yours").
    standing_accounts = {grant.account_id for grant in standing}
    own = [leg for leg in canonical if leg.account_id not in standing_accounts]
    grants = [*await authority.authorize_debits(session, actor, own, locked), *standing]
    await check_legs_named(session, canonical, locked)
    if not programme_debit:
        await check_voucher_debits(session, canonical, locked)
    tx_id = uuid7()
    rows = [(leg.account_id, leg.currency, leg.amount) for leg in canonical]
    # No savepoint: a refused insert aborts the caller's unit of work, which is what every
    # caller wants except per-item batches and reversals, which open their own savepoint.
    effective = effective_date or datetime.now(UTC).date()
    # The events go out with the transaction's own INSERT (one round trip); a refusal
    # below rolls them back with it.
    event = posted_transaction(
        tx_id=tx_id,
        kind=kind,
        effective_date=effective,
        reverses=reverses,
        legs=canonical,
        accounts=locked,
    )
    try:
        tx = await repo.insert_transaction(
            session,
            legs=rows,
            authorities=authority.authority_rows(grants),
            outbox=posted_rows([event], source=SOURCE),
            id=tx_id,
            kind=kind,
            effective_date=effective,
            description=description,
            metadata=dict(metadata or {}),
            client_id=actor.principal,
            idempotency_key=idempotency_key,
            reverses=reverses,
        )
    except IntegrityError as exc:
        raise bounds_error(exc) from exc
    if debt_may_grow(canonical, locked):
        await enforce_debt_caps(session)
    if tx["touches_reserve"]:
        await check_reserves(session, list(locked))
    return transaction_view(tx, rows)


async def post_request(
    session: AsyncSession, principal: Principal, body: TransactionFields, key: str | None
) -> dict[str, Any]:
    """`post` as a client asks it: the tenant of every currency and the effective date's
    bounds checked first."""
    currencies = sorted({p.currency for p in body.postings})
    for currency in currencies:
        principal.ensure_access("currencies", currency)
    if body.effective_date is not None:
        await closings.check_effective_dates(session, [(body.effective_date, currencies)])
    return await post(
        session,
        actor=authority.actor(principal),
        legs=[
            Posting(account_id=p.account_id, currency=p.currency, amount=p.amount)
            for p in body.postings
        ],
        kind=body.kind,
        effective_date=body.effective_date,
        description=body.description,
        metadata=body.metadata,
        idempotency_key=key,
    )


async def load_transaction(session: AsyncSession, transaction_id: UUID) -> dict[str, Any]:
    found = (await repo.transactions_with_legs(session, [transaction_id])).get(transaction_id)
    if found is None:
        raise NotFound(f"no transaction {transaction_id}")
    tx, legs = found
    return transaction_view(tx, legs)


def ensure_visible(principal: Principal, view: Mapping[str, Any]) -> None:
    """Refuse a transaction touching a currency outside the caller's tenancy."""
    for currency in sorted({p["currency"] for p in view["postings"]}):
        principal.ensure_access("currencies", currency)


async def read_transaction(
    session: AsyncSession, principal: Principal, transaction_id: UUID
) -> dict[str, Any]:
    """A transaction, for whoever may read one of its accounts (a payer, a payee, their
    mandates, the operator)."""
    view = await load_transaction(session, transaction_id)
    ensure_visible(principal, view)
    await accounts.readable_party(
        session, principal, (UUID(p["account_id"]) for p in view["postings"])
    )
    return view


async def list_transactions(
    session: AsyncSession, principal: Principal, *, currency: str, after: int | None, limit: int
) -> list[tuple[dict[str, Any], int]]:
    """Transactions touching one currency, in posting order, with their ``seq`` (the
    operator's read, or an auditor's)."""
    principal.ensure_access("currencies", currency)
    authority.ensure_operator_read(principal, currency, what="every transaction of a currency")
    rows = await repo.list_transactions(session, currency=currency, after=after, limit=limit)
    legs = await repo.legs_of(session, [r["id"] for r in rows])
    return [(transaction_view(r, legs[r["id"]]), r["seq"]) for r in rows]


async def transactions_with_legs(
    session: AsyncSession, ids: Sequence[UUID]
) -> dict[UUID, tuple[repo.Row, list[repo.Leg]]]:
    """Transactions by id (those that exist) with their legs in canonical order."""
    return await repo.transactions_with_legs(session, ids)
