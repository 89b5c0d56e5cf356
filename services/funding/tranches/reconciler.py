"""The payment saga's reconciler: an order in local currency or programme credits whose
answer has not come back after a while is asked again.

The saga crosses two databases, and backups of two databases are never taken at one
instant: restored, funding may hold a tranche ``ordered`` whose order the ledger never
saw (its backup predates the order) or whose answer funding never recorded (funding's
backup predates the answer), while Kafka's offsets have moved past both events. Nothing
would ever move that tranche again. So funding re-emits the order (the same order id,
under a new event id) for every tranche still ``ordered`` ``after_s`` after its order:
the ledger pays an order once per order id and answers a repeated one with the answer it
gave, and funding records an answer once. Asking again is therefore always safe, whether
the first order is lost, paid, refused or merely slow. Runs at startup, then every
``interval_s``; one short transaction per round, locked rows skipped (another replica
is on them)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.funding.applications.models import Application
from services.funding.db.repository import get
from services.funding.programmes.models import Programme
from services.funding.tranches import repository
from services.funding.tranches.events import payment_ordered_event
from shared.background import pause

log = structlog.get_logger(__name__)


async def reask_stale_orders(
    session: AsyncSession, *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Emit the order of every tranche ordered before ``now - older_than`` and still
    unanswered again; how many were asked."""
    before = (now or datetime.now(UTC)) - older_than
    stale = await repository.stale_orders(session, before=before)
    for tranche in stale:
        application = await get(session, Application, tranche.application_id)
        programme = await get(session, Programme, application.programme_id)
        await payment_ordered_event(
            session, tranche=tranche, application=application, programme=programme
        )
        log.info(
            "payment_order_asked_again",
            order_id=str(tranche.order_id),
            tranche_id=str(tranche.id),
            ordered_at=tranche.ordered_at.isoformat() if tranche.ordered_at else "",
        )
    return len(stale)


async def run(
    factory: async_sessionmaker[AsyncSession],
    *,
    interval_s: float,
    after_s: float,
    stop: asyncio.Event,
) -> None:
    """Reconcile at once, then every ``interval_s`` until ``stop`` is set."""
    while not stop.is_set():
        try:
            async with factory() as session, session.begin():
                await reask_stale_orders(session, older_than=timedelta(seconds=after_s))
        except Exception:
            log.exception("payment_reconciliation_failed")
        await pause(stop, interval_s)
