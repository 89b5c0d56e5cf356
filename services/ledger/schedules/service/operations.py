"""What one occurrence of each scheduled operation does: the same service functions the
on-demand endpoints call, run in the name of the operator who recorded the schedule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ledger.authority.rules import Actor
from services.ledger.closings import service as closings
from services.ledger.currencies.service import reserve
from services.ledger.currencies.service.registry import currency_rules
from services.ledger.database.outbox import emit
from services.ledger.demurrage import rules as demurrage_rules
from services.ledger.demurrage import service as demurrage
from services.ledger.holds import service as holds
from services.ledger.programmes.service import sweeps
from services.ledger.schedules import rules
from services.ledger.schedules.rules import Operation, Outcome
from shared.events.catalog.ledger import ReserveReconciliationDue

Progress = Callable[[dict[str, Any]], Awaitable[None]]
Factory = async_sessionmaker[AsyncSession]


def standing_actor(schedule: Mapping[Any, Any]) -> Actor:
    """The operator who recorded the schedule, as the operator of this currency only."""
    return Actor(schedule["authorised_by"], frozenset({schedule["currency"]}))


async def _demurrage(
    factory: Factory, schedule: Mapping[Any, Any], occurrence: datetime, progress: Progress
) -> tuple[Outcome, dict[str, Any]]:
    """Charge the demurrage period that ended by the occurrence's day, if one did."""
    currency = schedule["currency"]
    day = rules.run_day(occurrence)
    async with factory() as session:
        rule = (await currency_rules(session, currency)).demurrage
    if rule is None:
        return Outcome.SKIPPED, {"reason": "no demurrage rule"}
    start, end = demurrage_rules.period_bounds(rule.period, day - timedelta(days=1))
    if end > day:
        return Outcome.SKIPPED, {"reason": "period not over", "period_start": start.isoformat()}
    run = await demurrage.run_demurrage(
        factory,
        currency=currency,
        period_start=start,
        fund=schedule["fund_account"],
        today=day,
        actor=standing_actor(schedule),
        on_progress=lambda view: progress(_jsonable(view)),
    )
    return Outcome.SUCCEEDED, _jsonable(run)


async def _voucher_expiry(
    factory: Factory, schedule: Mapping[Any, Any], occurrence: datetime, progress: Progress
) -> tuple[Outcome, dict[str, Any]]:
    """Sweep expired lots, a batch per transaction, until none is left."""
    totals = {"lots_swept": 0, "transactions": 0, "amount_swept": 0}
    more = True
    while more:
        async with factory() as session, session.begin():
            done = await sweeps.sweep(
                session, currency=schedule["currency"], actor=standing_actor(schedule)
            )
        for key in totals:
            totals[key] += done[key]
        more = done["more"]
        await progress(dict(totals))
    return Outcome.SUCCEEDED, totals


async def _hold_expiry(
    factory: Factory, schedule: Mapping[Any, Any], occurrence: datetime, progress: Progress
) -> tuple[Outcome, dict[str, Any]]:
    """Expire the currency's holds past their deadline, a batch per transaction."""
    expired, batch = 0, -1
    while batch != 0:
        async with factory() as session, session.begin():
            batch = await holds.expire_due_holds(session, currency=schedule["currency"])
        expired += batch
        await progress({"holds_expired": expired})
    return Outcome.SUCCEEDED, {"holds_expired": expired}


async def _closing(
    factory: Factory, schedule: Mapping[Any, Any], occurrence: datetime, progress: Progress
) -> tuple[Outcome, dict[str, Any]]:
    """Close the books through the Paris day before the occurrence. Idempotent: closed
    through that very day is a success (a crash between the closing and its record);
    closed further by hand, the closing is refused and the run fails, recorded."""
    through = rules.closing_through(occurrence)
    async with factory() as session, session.begin():
        latest = await closings.latest_closing(session, schedule["currency"])
        if latest == through:
            return Outcome.SUCCEEDED, {"through": through.isoformat(), "already_closed": True}
        await closings.close_as(
            session, standing_actor(schedule), currency=schedule["currency"], through=through
        )
    return Outcome.SUCCEEDED, {"through": through.isoformat()}


async def _reserve_reconciliation(
    factory: Factory, schedule: Mapping[Any, Any], occurrence: datetime, progress: Progress
) -> tuple[Outcome, dict[str, Any]]:
    """Record the ledger's reserve figures and announce that a reconciliation is due.
    Once per occurrence: the run's unique row already guards it, and the event's subject
    names the occurrence, so a consumer may also drop a repeat."""
    currency = schedule["currency"]
    async with factory() as session, session.begin():
        circulating, reserve_balance = await reserve.ledger_position(session, currency)
        figures = {
            "units_in_circulation": circulating,
            "reserve_balance": reserve_balance,
            "ledger_drift": reserve_balance - circulating,
        }
        due = ReserveReconciliationDue(currency=currency, scheduled_for=occurrence, **figures)
        await emit(session, due, f"{currency}/{occurrence.isoformat()}")
    return Outcome.SUCCEEDED, figures


PERFORM = {
    Operation.DEMURRAGE: _demurrage,
    Operation.VOUCHER_EXPIRY: _voucher_expiry,
    Operation.HOLD_EXPIRY: _hold_expiry,
    Operation.CLOSING: _closing,
    Operation.RESERVE_RECONCILIATION: _reserve_reconciliation,
}


def _jsonable(view: Mapping[Any, Any]) -> dict[str, Any]:
    """A run's view as the JSON its history stores (dates and ids as strings)."""
    value: dict[str, Any] = to_jsonable_python(dict(view))
    return value


async def perform(
    factory: Factory, schedule: Mapping[Any, Any], occurrence: datetime, progress: Progress
) -> tuple[Outcome, dict[str, Any]]:
    """Run one occurrence; returns its outcome and final progress. Domain refusals raise."""
    return await PERFORM[Operation(schedule["operation"])](factory, schedule, occurrence, progress)
