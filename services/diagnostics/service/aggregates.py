"""Live currency aggregates: apply one posted ledger transaction, publish what changed,
and recompute everything from the raw transfers (which must give the same numbers)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates.rules.circulation import velocity
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
from services.diagnostics.store import live
from shared.events.catalog.diagnostics import AggregateUpdated
from shared.events.catalog.ledger import TransactionPosted
from shared.events.envelope import Event
from shared.events.outbox import record_event

SOURCE = "/proxima/diagnostics"
MINOR_UNITS = "minor units"


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
    await live.add_transfers(
        session,
        transaction_id=posted.transaction_id,
        currency=posted.currency,
        period=period,
        transfers=transfers,
    )
    await live.add_active_accounts(
        session, currency=posted.currency, period=period, accounts=active_accounts(transfers)
    )
    deltas = transaction_counters(transfers, currency=posted.currency, period=period)
    totals = await live.add_counters(session, deltas)
    await live.mark_pending(session, list(totals))
    return totals


async def publish_pending(session: AsyncSession, *, limit: int = 200) -> int:
    """Publish the current value of every aggregate row changed since its last publication,
    in the caller's transaction; return how many rows were published.

    Coalescing keeps the live stream proportional to what changed per interval rather than
    to the transaction rate: one busy territory makes ~9 events per interval, not per
    transaction, and velocity (a scan of the month's transfers) is computed once per row.
    """
    keys = await live.take_pending(session, limit=limit)
    if not keys:
        return 0
    counters = await live.counters_for(session, keys)
    active = await live.active_account_counts(session, keys)
    for key in sorted(counters):
        await _publish(session, key, counters[key], active.get(key, 0))
    return len(keys)


async def territory_velocity(
    session: AsyncSession, *, territory: str, currency: str, period: str
) -> float | None:
    """Velocity of the currency in the territory over the month (None when nothing held)."""
    start, end = month_bounds(period)
    stored = await live.stored_transfers(
        session, currency=currency, before=end, territory=territory
    )
    transfers = [s.transfer for s in stored]
    try:
        return velocity(transfers, start=start, end=end, territory=territory)
    except UndefinedIndicator:
        return None


def metrics(counters: Counters) -> dict[str, tuple[float | None, str]]:
    """Published metrics of one aggregate row, with their units."""
    return {
        "currency_volume": (float(counters.volume), MINOR_UNITS),
        "transactions": (float(counters.transactions), "count"),
        "issuance": (float(counters.issued), MINOR_UNITS),
        "reconversion": (float(counters.reconverted), MINOR_UNITS),
        "reconversion_leakage": (counters.share("reconverted"), "ratio"),
        "local_respend_share": (counters.share("spent_locally"), "ratio"),
        "external_spend_share": (counters.share("spent_outside"), "ratio"),
    }


async def _publish(session: AsyncSession, key: Key, counters: Counters, active: int) -> None:
    territory, currency, period = key
    values = metrics(counters)
    values["active_accounts"] = (float(active), "count")
    values["velocity"] = (
        await territory_velocity(session, territory=territory, currency=currency, period=period),
        "per month",
    )
    for metric, (value, unit) in values.items():
        if value is None:
            continue
        await record_event(
            session,
            AggregateUpdated(
                territory=territory,
                metric=metric,
                period=period,
                currency=currency,
                value=value,
                unit=unit,
            ),
            source=SOURCE,
            subject=territory,
        )


async def recompute_from_transfers(session: AsyncSession) -> dict[Key, Counters]:
    """Every aggregate rebuilt from the stored raw transfers (equal to the live rows)."""
    return recompute(await live.stored_transfers(session))


async def recompute_active_accounts_from_transfers(session: AsyncSession) -> dict[Key, int]:
    """Active accounts per key rebuilt from the stored raw transfers."""
    return recompute_active_accounts(await live.stored_transfers(session))
