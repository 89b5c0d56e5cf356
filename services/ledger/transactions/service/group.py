"""Group commit, the posting side: many single posting requests (`POST /transactions`),
each with its own principal, body and idempotency key, posted in one database transaction,
in one round trip, each with its own answer.

Python does what needs no database: the tenancy and double-entry rules of each body, and
who asks on what basis (the principal, the currencies it operates). The rest is one call
of ``ledger_post_group`` (migration ``ledger_0021``), run as its own transaction: it claims
the keys, locks the balance rows (account order) and the debit mandates the items need,
checks each item in arrival order against the running state the accepted ones leave
(authority and mandate limits, accounts, bounds, the monthly load and debt caps), writes
the accepted items' transactions, postings, authority rows, outbox rows and key answers,
and returns one outcome per item. The database checks everything again (triggers,
deferred constraints at commit).

An item the function refuses is answered by the one-request path (`post_alone`, its own
transaction), which words the refusal exactly as without group commit (problem type,
text and details); so is an item with an explicit effective date (its closing rules are
Python's) or touching a currency reserve's account (its check runs after the write). What
the function did not foresee (a deferred constraint at commit, a concurrent writer's unique
key) fails the whole call, nothing written: `post_group` raises `Isolate`, and the caller
runs each request alone, so the request at fault gets its own refusal and the others are
posted. Why a transaction per item rather than a savepoint per item: each item then
commits as it would have alone, and no session carries more than a few subtransactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ledger.authority.service import checks as authority
from services.ledger.database.outbox import SOURCE
from services.ledger.errors import LedgerDomainError
from services.ledger.idempotency import service as keys
from services.ledger.transactions import repository as repo
from services.ledger.transactions.events import count_posted, posted_templates
from services.ledger.transactions.rules import Posting, validate_transaction
from services.ledger.transactions.schemas import TransactionFields
from services.ledger.transactions.service.single import post_request, transaction_view
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


ALONE = Counter(
    "proxima_ledger_group_commit_alone_total",
    "Posting requests of a group answered by the one-request path: refused by the group "
    "function (worded there), dated explicitly, or touching a currency reserve's account",
)


def valid_legs(item: Item) -> tuple[Posting, ...]:
    """What `post_request` checks before it locks and needs no database: tenancy, the
    double-entry rules. Run before the call, answered after it (a replay comes first)."""
    for currency in sorted({p.currency for p in item.body.postings}):
        item.principal.ensure_access("currencies", currency)
    return validate_transaction(
        Posting(account_id=p.account_id, currency=p.currency, amount=p.amount)
        for p in item.body.postings
    )


async def post_group(
    factory: async_sessionmaker[AsyncSession], items: Sequence[Item]
) -> list[Outcome]:
    """Post ``items`` (distinct keys) in one database transaction; each item's answer, in
    order. Raises `Isolate` when the database refuses the group as a whole. Traced as one
    span linked to each item's request span (its events carry their request's trace)."""
    with linked_span("ledger group commit", (item.span_context for item in items)):
        outcomes, alone = await _post_group(factory, items)
    for index in alone:
        outcomes[index] = await post_alone(factory, items[index])
    ALONE.inc(len(alone))
    return [outcome for outcome in outcomes if outcome is not None]


async def _post_group(
    factory: async_sessionmaker[AsyncSession], items: Sequence[Item]
) -> tuple[list[Outcome | None], list[int]]:
    """The group's call: each item's answer (None for those left to `post_alone`, listed
    second)."""
    now = datetime.now(UTC)
    today = now.date()
    arrays = repo.GroupArrays()
    sent: list[int] = []
    legs: dict[int, tuple[Posting, ...]] = {}
    refused: dict[int, BaseException] = {}
    alone: list[int] = []
    for index, item in enumerate(items):
        if item.body.effective_date is not None:
            alone.append(index)
            continue
        try:
            legs[index] = valid_legs(item)
        except REFUSALS as exc:
            refused[index] = exc
        sent.append(index)
        add_item(arrays, item, legs.get(index, ()), today, now)
    outcomes: list[Outcome | None] = [None] * len(items)
    if not sent:
        return outcomes, alone
    engine = factory.kw["bind"]
    try:
        rows = await repo.post_group(engine, arrays, now)
    except IntegrityError as exc:
        raise Isolate("the database refused an item of the group") from exc
    posted_events = 0
    for row in rows:
        index = sent[row["item"] - 1]
        item = items[index]
        verdict = row["outcome"]
        if verdict == "posted":
            ls = legs[index]
            outcomes[index] = transaction_view(
                row, [(leg.account_id, leg.currency, leg.amount) for leg in ls]
            )
            posted_events += len({leg.currency for leg in ls})
        elif verdict == "replay":
            assert item.key is not None
            found = keys.answer(
                {"request_hash": row["earlier_hash"], "response": row["earlier_response"]},
                item.digest or "",
                item.key,
            )
            outcomes[index] = found if isinstance(found, BaseException) else Replay(found)
        elif verdict == "invalid":
            outcomes[index] = refused[index]
        else:  # refused by the function (its code), or deferred: worded by the one-request path
            alone.append(index)
    count_posted(posted_events)
    return outcomes, sorted(alone)


def add_item(
    arrays: repo.GroupArrays,
    item: Item,
    legs: Sequence[Posting],
    today: date,
    now: datetime,
) -> None:
    """Append one item (its ``legs``, empty when refused before the call) to ``arrays``."""
    number = len(arrays.tx) + 1
    tx_id = uuid7()
    who = authority.actor(item.principal)
    body = item.body
    arrays.client.append(item.principal.client_id)
    arrays.key.append(item.key)
    arrays.digest.append(item.digest or "")
    arrays.valid.append(bool(legs))
    arrays.operates_all.append(who.operator_of is None)
    arrays.tx.append(tx_id)
    arrays.kind.append(body.kind)
    arrays.effective.append(today)
    arrays.description.append(body.description)
    arrays.metadata.append(dict(body.metadata))
    arrays.leg_from.append(len(arrays.leg_item) + 1)
    for leg in legs:
        arrays.leg_item.append(number)
        arrays.leg_account.append(leg.account_id)
        arrays.leg_currency.append(leg.currency)
        arrays.leg_amount.append(leg.amount)
    arrays.leg_to.append(len(arrays.leg_item))
    for currency in sorted(who.operator_of or ()):
        arrays.op_item.append(number)
        arrays.op_currency.append(currency)
    if not legs:
        return
    token = correlation_id_var.set(item.correlation_id)
    try:
        with within(item.span_context):
            templates = posted_templates(
                tx_id, body.kind, today, (leg.currency for leg in legs), source=SOURCE, now=now
            )
    finally:
        correlation_id_var.reset(token)
    for event_id, event_type, topic, currency, template in templates:
        arrays.ev_item.append(number)
        arrays.ev_id.append(event_id)
        arrays.ev_type.append(event_type)
        arrays.ev_topic.append(topic)
        arrays.ev_currency.append(currency)
        arrays.ev_template.append(template)


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
