"""Live currency aggregates: apply one posted ledger transaction, publish what changed,
recompute everything from the raw transfers (which must give the same numbers), and read
them: pages of aggregates, and circulation recomputed from the transfers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates import events, repository
from services.diagnostics.aggregates.repository import AggregateFilters
from services.diagnostics.aggregates.rules.circulation import (
    Circulation,
    Transfer,
    circulation,
    velocity_from_sums,
)
from services.diagnostics.aggregates.rules.postings import (
    Counters,
    Key,
    Leg,
    active_accounts,
    instant_within,
    month_bounds,
    period_of,
    recompute,
    recompute_active_accounts,
    transaction_counters,
    transfers_from_legs,
)
from services.diagnostics.errors import UndefinedIndicator
from shared.auth import Principal
from shared.events.catalog.ledger import TransactionPosted
from shared.events.envelope import Event


async def apply_transaction(session: AsyncSession, event: Event) -> dict[Key, Counters]:
    """Store the transaction's transfers, add its counters, and mark the changed rows for
    publication (`publish_pending` sends the AggregateUpdated events, coalesced).

    Runs inside the consumer's inbox transaction, so it takes effect exactly once.
    """
    posted = event.data
    assert isinstance(posted, TransactionPosted)
    legs = [Leg(p.account_id, p.account_type, p.territory, p.amount) for p in posted.postings]
    at = instant_within(posted.effective_date, event.time)
    period = period_of(posted.effective_date)
    transfers = transfers_from_legs(legs, at=at)
    await repository.add_transfers(
        session,
        transaction_id=posted.transaction_id,
        currency=posted.currency,
        period=period,
        transfers=transfers,
    )
    await repository.add_active_accounts(
        session, currency=posted.currency, period=period, accounts=active_accounts(transfers)
    )
    deltas = transaction_counters(transfers, currency=posted.currency, period=period)
    totals = await repository.add_counters(session, deltas)
    await repository.mark_pending(session, list(totals))
    return totals


async def publish_pending(session: AsyncSession, *, limit: int = 200) -> int:
    """Publish the current value of every aggregate row changed since its last publication,
    in the caller's transaction; return how many rows were published.

    Why coalesced: docs/decisions/diagnostics-coalesced-aggregate-publication.md.
    """
    keys = await repository.take_pending(session, limit=limit)
    if not keys:
        return 0
    counters = await repository.counters_for(session, keys)
    active = await repository.active_account_counts(session, keys)
    for key in sorted(counters):
        await _publish(session, key, counters[key], active.get(key, 0))
    return len(keys)


async def territory_velocity(
    session: AsyncSession, *, territory: str, currency: str, period: str
) -> float | None:
    """Velocity of the currency in the territory over the month (None when nothing held):
    the same figure as ``rules.circulation.velocity`` on the stored transfers, from three
    sums the database computes (``repository.velocity_sums``), so that publishing costs
    the same after a million transfers as after ten."""
    start, end = month_bounds(period)
    spent, held_at_start, weighted = await repository.velocity_sums(
        session, currency=currency, territory=territory, start=start, end=end
    )
    return velocity_from_sums(spent, held_at_start, weighted, start=start, end=end)


async def _publish(session: AsyncSession, key: Key, counters: Counters, active: int) -> None:
    territory, currency, period = key
    values = events.metrics(counters)
    values["active_accounts"] = (float(active), "count")
    values["velocity"] = (
        await territory_velocity(session, territory=territory, currency=currency, period=period),
        "per month",
    )
    await events.record_updates(session, key, values)


async def recompute_from_transfers(session: AsyncSession) -> dict[Key, Counters]:
    """Every aggregate rebuilt from the stored raw transfers (equal to the live rows)."""
    return recompute(await repository.stored_transfers(session))


async def recompute_active_accounts_from_transfers(session: AsyncSession) -> dict[Key, int]:
    """Active accounts per key rebuilt from the stored raw transfers."""
    return recompute_active_accounts(await repository.stored_transfers(session))


async def list_aggregates(
    session: AsyncSession,
    principal: Principal,
    *,
    after: Key | None,
    limit: int,
    **filters: Unpack[AggregateFilters],
) -> list[dict[str, Any]]:
    """A page of the aggregates the client may read, with their active accounts and shares."""
    rows = await repository.list_readable(session, principal, after=after, limit=limit, **filters)
    active = await repository.active_account_counts(
        session, [(r.territory, r.currency, r.period) for r in rows]
    )
    items = []
    for r in rows:
        c = repository.counters_of(r)
        items.append(
            {
                "territory": r.territory,
                "currency": r.currency,
                "period": r.period,
                **c.as_dict(),
                "volume": c.volume,
                "active_accounts": active.get((r.territory, r.currency, r.period), 0),
                "local_respend_share": c.share("spent_locally"),
                "external_spend_share": c.share("spent_outside"),
                "reconversion_leakage": c.share("reconverted"),
                "updated_at": r.updated_at,
            }
        )
    return items


async def circulation_between(
    session: AsyncSession, *, code: str, currency: str, start: datetime, end: datetime
) -> Circulation:
    """Velocity, flows and LM3 of one currency in one territory over [start, end)."""
    stored = await repository.stored_transfers(session, currency=currency, before=end)
    return circulation([s.transfer for s in stored], territory=code, start=start, end=end)


def _defined(compute: Callable[[], float]) -> float | None:
    try:
        return compute()
    except UndefinedIndicator:
        return None


async def month_circulation(
    session: AsyncSession, principal: Principal, *, territory: str, currency: str, period: str
) -> dict[str, Any]:
    """Circulation of one currency in one territory for one month, for a client bound to
    both, recomputed from the raw transfers."""
    principal.ensure_access("territories", territory)
    principal.ensure_access("currencies", currency)
    start, end = month_bounds(period)
    c = await circulation_between(session, code=territory, currency=currency, start=start, end=end)
    return {
        "territory": territory,
        "currency": currency,
        "period": period,
        "velocity": c.velocity,
        "issued": c.flows.issued,
        "received_from_outside": c.flows.received_from_outside,
        "spent_locally": c.flows.spent_locally,
        "spent_outside": c.flows.spent_outside,
        "reconverted": c.flows.reconverted,
        "local_respend_share": _defined(lambda: c.flows.local_respend_share),
        "reconversion_leakage": _defined(lambda: c.flows.reconversion_leakage),
        "r1": c.multiplier.r1,
        "r2": c.multiplier.r2,
        "r3": c.multiplier.r3,
        "lm3": _defined(lambda: c.multiplier.lm3),
    }


async def currency_transfers(
    session: AsyncSession, *, currency: str, before: datetime
) -> list[Transfer]:
    """One currency's raw transfers before ``before``, in posting order (open data)."""
    stored = await repository.stored_transfers(session, currency=currency, before=before)
    return [s.transfer for s in stored]


async def transfers_version(
    session: AsyncSession, *, currency: str, before: datetime
) -> tuple[int, int]:
    """A version of `currency_transfers` (count, highest sequence), cheap to read."""
    return await repository.transfers_version(session, currency=currency, before=before)
