"""Group commit, the posting side: many single posting requests (`POST /transactions`),
each with its own principal, body and idempotency key, posted in one database transaction,
each with its own answer.

The work of one request is done once for the whole group: the keys are claimed in one
statement, the balance rows of every account locked in one statement (in account order:
two groups never deadlock), the mandates of each grantee read once, and every accepted
transaction written with its postings, authority rows, outbox rows and key answer in one
statement (`repository.insert_group`). Between the lock and the write, the pure rules run
item by item, in arrival order, against running balances and running mandate use, so one
request's refusal (its authority, funds, bounds, an account's status) is its own and the
next item sees the state the accepted ones leave. The database checks everything again
(triggers, deferred constraints at commit).

What only the database can refuse (a monthly load cap, the currency's debt cap, a reserve,
a deferred constraint at commit, a concurrent writer's unique key) would abort the group's
transaction without naming an item: `post_group` raises `Isolate`, the caller rolls the
group back and runs each of its requests alone (`post_alone`: today's one-request path, its
own transaction), so the request at fault gets its own refusal and the others are posted.
Why a transaction per item rather than a savepoint per item: each item then commits as it
would have alone, and no session carries more than a few subtransactions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ledger.authority.service import checks as authority
from services.ledger.closings import service as closings
from services.ledger.currencies.service.reserve import check_reserves
from services.ledger.database.outbox import SOURCE
from services.ledger.errors import LedgerDomainError
from services.ledger.idempotency import service as keys
from services.ledger.idempotency.errors import IdempotencyKeyReused
from services.ledger.transactions import repository as repo
from services.ledger.transactions.events import OutboxRow, posted_rows, posted_transaction
from services.ledger.transactions.rules import (
    Posting,
    debt_may_grow,
    validate_transaction,
)
from services.ledger.transactions.schemas import TransactionFields
from services.ledger.transactions.service.single import (
    check_legs_named,
    check_voucher_debits,
    post_request,
    transaction_view,
)
from shared.auth import Principal
from shared.ids import uuid7
from shared.observability import correlation_id_var
from shared.problems import Problem
from shared.tracing import current_span_context, linked_span, within

REFUSALS = (LedgerDomainError, Problem)


@dataclass(frozen=True, slots=True)
class Replay:
    """A request whose key was answered before: the record its key's row keeps."""

    record: Any


Outcome = dict[str, Any] | Replay | BaseException
"""A request's answer: the posted transaction's view, a replay, or its refusal."""


@dataclass(slots=True)
class Item:
    """One posting request waiting for its group."""

    principal: Principal
    body: TransactionFields
    key: str | None
    digest: str | None
    correlation_id: str | None = field(default_factory=correlation_id_var.get)
    span_context: Any = field(default_factory=current_span_context)  # None: tracing off

    @property
    def claim(self) -> tuple[str, str] | None:
        return (self.principal.client_id, self.key) if self.key is not None else None


class Isolate(Exception):
    """The database refused the group as a whole: run each request alone."""


@dataclass(slots=True)
class _Accepted:
    index: int
    tx_id: UUID
    legs: tuple[Posting, ...]
    grants: list[Any]
    debt_grows: bool


def _legs(body: TransactionFields) -> tuple[Posting, ...]:
    return validate_transaction(
        Posting(account_id=p.account_id, currency=p.currency, amount=p.amount)
        for p in body.postings
    )


def _valid(item: Item) -> tuple[Posting, ...]:
    """What `post_request` checks before it locks and needs no database: tenancy, the
    double-entry rules. Run before the claim, answered after it (a replay comes first)."""
    for currency in sorted({p.currency for p in item.body.postings}):
        item.principal.ensure_access("currencies", currency)
    return _legs(item.body)


async def _dated(
    session: AsyncSession, item: Item, valid: tuple[Posting, ...] | BaseException
) -> tuple[Posting, ...]:
    """The item's legs once `_valid` passed (its refusal raised here, after the claim, as
    `post_request` refuses after it) and an explicit effective date is allowed."""
    if isinstance(valid, BaseException):
        raise valid
    if item.body.effective_date is not None:
        currencies = sorted({p.currency for p in item.body.postings})
        await closings.check_effective_dates(session, [(item.body.effective_date, currencies)])
    return valid


async def post_group(session: AsyncSession, items: Sequence[Item]) -> list[Outcome]:
    """Post ``items`` (distinct keys) in ``session``'s transaction; each item's answer, in
    order. Raises `Isolate` when the database refuses the group as a whole. Traced as one
    span linked to each item's request span (its events carry their request's trace)."""
    with linked_span("ledger group commit", (item.span_context for item in items)):
        return await _post_group(session, items)


async def _post_group(session: AsyncSession, items: Sequence[Item]) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(items)
    claims = [(*item.claim, item.digest or "") for item in items if item.claim]
    valid: dict[int, tuple[Posting, ...] | BaseException] = {}
    for index, item in enumerate(items):
        try:
            valid[index] = _valid(item)
        except REFUSALS as exc:
            valid[index] = exc
    # One round trip: the keys claimed, then the balance rows of every well-formed item
    # locked (a replay's too: it is known only once claimed).
    claimed, locked = await repo.claim_and_lock(
        session,
        claims,
        (leg.account_id for ls in valid.values() if isinstance(ls, tuple) for leg in ls),
    )
    earlier = await keys.settle_claims(session, claims, claimed)
    legs: dict[int, tuple[Posting, ...]] = {}
    for index, item in enumerate(items):
        found = earlier.get(item.claim) if item.claim else None
        if found is not None:
            outcomes[index] = found if isinstance(found, BaseException) else Replay(found)
            continue
        try:
            legs[index] = await _dated(session, item, valid[index])
        except REFUSALS as exc:
            outcomes[index] = exc
    accepted = await _accept(session, items, legs, outcomes, locked)
    if accepted:
        views = await _write(session, items, accepted, outcomes, locked)
        for entry, view in zip(accepted, views, strict=True):
            outcomes[entry.index] = view
    elif released := _released(items, outcomes):
        await repo.insert_group(
            session, transactions=(), legs=(), outbox=(), authorities=(), released=released
        )
    return [outcome for outcome in outcomes if outcome is not None]


async def _accept(
    session: AsyncSession,
    items: Sequence[Item],
    legs: dict[int, tuple[Posting, ...]],
    outcomes: list[Outcome | None],
    locked: dict[UUID, repo.Row],
) -> list[_Accepted]:
    """Check each item in order against the running balances of the ``locked`` accounts and
    mandate use; the accepted ones (refusals go to ``outcomes``)."""
    running = {account: dict(row) for account, row in locked.items()}
    actors = {index: authority.actor(items[index].principal) for index in legs}
    wanted: defaultdict[str, list[UUID]] = defaultdict(list)
    for index, item_legs in legs.items():
        wanted[actors[index].principal] += authority.needs_mandate(actors[index], item_legs, locked)
    now = datetime.now(UTC)
    mandates = await authority.debit_mandates(session, wanted, now) if any(wanted.values()) else {}
    used: dict[tuple[str, UUID], int] = {}
    accepted: list[_Accepted] = []
    for index, item_legs in legs.items():
        try:
            grants = authority.grant_debits(actors[index], item_legs, running, mandates, used, now)
            await check_legs_named(session, item_legs, running)
            await check_voucher_debits(session, item_legs, running)
        except REFUSALS as exc:
            outcomes[index] = exc
            continue
        authority.count_use(used, grants, mandates)
        grows = debt_may_grow(item_legs, running)
        for leg in item_legs:
            running[leg.account_id]["posted"] += leg.amount
        accepted.append(_Accepted(index, uuid7(), item_legs, grants, grows))
    return accepted


def _released(items: Sequence[Item], outcomes: Sequence[Outcome | None]) -> list[tuple[str, str]]:
    """The claims of refused requests, given back (a replay's key was not claimed now)."""
    return [
        claim
        for item, outcome in zip(items, outcomes, strict=True)
        if (claim := item.claim) is not None
        and isinstance(outcome, REFUSALS)
        and not isinstance(outcome, IdempotencyKeyReused)
    ]


async def _write(
    session: AsyncSession,
    items: Sequence[Item],
    accepted: Sequence[_Accepted],
    outcomes: Sequence[Outcome | None],
    locked: dict[UUID, repo.Row],
) -> list[dict[str, Any]]:
    """One statement for every accepted item, then the checks the database makes only on
    request (debt cap, reserves); `Isolate` if any refuses."""
    today = datetime.now(UTC).date()
    transactions: list[tuple[UUID, str, date, str, dict[str, Any], str, str | None]] = []
    rows: list[tuple[UUID, UUID, str, int]] = []
    authorities: list[tuple[UUID, UUID, str, str, UUID | None, int]] = []
    events: list[OutboxRow] = []
    debt_grows = any(entry.debt_grows for entry in accepted)
    for entry in accepted:
        item = items[entry.index]
        body = item.body
        day = body.effective_date or today
        transactions.append(
            (
                entry.tx_id,
                body.kind,
                day,
                body.description,
                dict(body.metadata),
                item.principal.client_id,
                item.key,
            )
        )
        rows.extend((entry.tx_id, leg.account_id, leg.currency, leg.amount) for leg in entry.legs)
        authorities.extend((entry.tx_id, *row) for row in authority.authority_rows(entry.grants))
        event = posted_transaction(
            tx_id=entry.tx_id,
            kind=body.kind,
            effective_date=day,
            reverses=None,
            legs=entry.legs,
            accounts=locked,
        )
        token = correlation_id_var.set(item.correlation_id)
        try:
            with within(item.span_context):
                events.extend(posted_rows([event], source=SOURCE))
        finally:
            correlation_id_var.reset(token)
    try:
        inserted = await repo.insert_group(
            session,
            transactions=transactions,
            legs=rows,
            outbox=events,
            authorities=authorities,
            released=_released(items, outcomes),
        )
        if debt_grows:
            await repo.check_debt_caps_now(session)
    except IntegrityError as exc:
        raise Isolate("the database refused an item of the group") from exc
    if inserted and inserted[0]["touches_reserve"]:
        try:
            await check_reserves(
                session, list({leg.account_id for e in accepted for leg in e.legs})
            )
        except REFUSALS as exc:
            raise Isolate("a reserve refused an item of the group") from exc
    by_id = {row["id"]: row for row in inserted}
    return [
        transaction_view(
            by_id[e.tx_id], [(leg.account_id, leg.currency, leg.amount) for leg in e.legs]
        )
        for e in accepted
    ]


async def post_alone(factory: async_sessionmaker[AsyncSession], item: Item) -> Outcome:
    """One request in its own transaction, as without group commit: the key claimed, the
    transaction posted (its key answered by the same statement), committed."""
    try:
        with within(item.span_context):  # its spans and events in its request's trace
            async with factory() as session, session.begin():
                if item.claim is not None:
                    stored = await keys.claim(
                        session,
                        client_id=item.claim[0],
                        key=item.claim[1],
                        digest=item.digest or "",
                    )
                    if stored is not None:
                        return Replay(stored)
                return await post_request(session, item.principal, item.body, item.key)
    except Exception as exc:  # its own answer: a refusal, or what would have been a 500
        return exc
