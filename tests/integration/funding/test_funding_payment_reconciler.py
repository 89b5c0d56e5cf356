"""The payment reconciler on real PostgreSQL: a tranche ordered through the ledger and
still unanswered past the delay has its order emitted again (same order id, new event);
a recent order, an answered one or a euro order is left alone. (The whole recovery, after
restoring dumps of different instants, is tests/resilience/test_saga_after_restore.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.funding.tranches.reconciler import reask_stale_orders
from shared.db import make_session_factory
from shared.events.catalog.funding import PaymentOrdered
from tests.integration.funding.conftest import APPLICANT, OFFICER, Funding, ok
from tests.integration.funding.test_funding_payment_saga import LOCAL_ORDER, _answer
from tests.support.waiting import eventually

LATER = datetime.now(UTC) + timedelta(hours=1)


async def _orders_emitted(engine: AsyncEngine, order_id: str) -> int:
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM outbox WHERE event_type = :t "
                        "AND convert_from(payload, 'UTF8') LIKE :o"
                    ),
                    {"t": PaymentOrdered.event_type, "o": f"%{order_id}%"},
                )
            ).scalar_one()
        )


async def _reask(engine: AsyncEngine, now: datetime) -> int:
    async with make_session_factory(engine)() as session, session.begin():
        return await reask_stale_orders(session, older_than=timedelta(minutes=5), now=now)


async def _ordered(funding: Funding, amount: int, order: dict[str, str]) -> dict[str, object]:
    application_id = await funding.approved(amount=amount, deliberation=f"CP-R-{amount}")
    ok(await funding.act(application_id, "start_payment", OFFICER))
    ok(await funding.act(application_id, "receive_final_report", APPLICANT, final_report_id="R"))
    [tranche] = await funding.tranches(application_id)
    return ok(
        await funding.client.post(
            f"/tranches/{tranche['id']}/payment-orders", json=order, headers=OFFICER
        )
    )


async def test_an_unanswered_order_is_asked_again_once_stale_and_never_after_its_answer(
    funding: Funding,
    funding_db: str,
    events_db: str,
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    engine = engine_for(funding_db)
    local = await _ordered(funding, 400_000, LOCAL_ORDER)
    euro = await _ordered(funding, 300_000, {"mode": "euro"})
    order_id = str(local["order_id"])
    assert await _orders_emitted(engine, order_id) == 1

    assert await _reask(engine, datetime.now(UTC)) == 0  # ordered just now: not yet
    assert await _reask(engine, LATER) == 1  # the euro order is the treasury's, not asked
    assert await _orders_emitted(engine, order_id) == 2
    assert euro["status"] == "ordered"

    await _answer(events_db, order_id=order_id, status="settled", transaction_id="tx-r")

    async def paid() -> str:
        [tranche] = await funding.tranches(str(local["application_id"]))
        return str(tranche["status"])

    assert await eventually(paid, lambda s: s == "paid") == "paid"
    assert await _reask(engine, LATER) == 0
    assert await _orders_emitted(engine, order_id) == 2
