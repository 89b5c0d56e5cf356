"""A tranche paid in local currency: funding orders it through the outbox, the ledger's
answer comes back on the embedded bus, the consumer marks the tranche paid exactly once.

The ledger decides which accounts pay and are paid (the order's account ids are optional
hints it checks) and converts the euro amount: the tranche keeps what its answer says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.events.catalog.ledger import PaymentSettled
from shared.events.envelope import decode, encode, new_event
from shared.events.registry import topic_for
from shared.events.transports.base import OutgoingRecord
from shared.events.transports.embedded import EmbeddedProducer
from tests.integration.funding.conftest import APPLICANT, OFFICER, Funding, ok
from tests.support.waiting import eventually

LOCAL_ORDER = {"mode": "local_currency", "currency_code": "GONETTE"}
WITH_HINTS = {
    **LOCAL_ORDER,
    "beneficiary_account_id": "acc-beneficiary",
    "funding_account_id": "acc-region",
}


async def _payable_tranche(funding: Funding, amount: int) -> dict[str, Any]:
    application_id = await funding.approved(amount=amount)
    ok(await funding.act(application_id, "start_payment", OFFICER))
    ok(await funding.act(application_id, "receive_final_report", APPLICANT, final_report_id="R"))
    [tranche] = await funding.tranches(application_id)
    return tranche


async def _answer(events_db: str, **fields: Any) -> None:
    payload = PaymentSettled(**fields)
    event = new_event(payload, source="/proxima/ledger", subject=fields["order_id"])
    producer = EmbeddedProducer(events_db, service="ledger")  # the ledger answers
    await producer.start()
    try:
        record = OutgoingRecord(
            topic=topic_for(payload.event_type), key=fields["order_id"], value=encode(event)
        )
        await producer.send_many([record, record])  # delivered twice: applied once
    finally:
        await producer.stop()


async def _published(events_db: str, engine_for: Callable[[str], AsyncEngine]) -> list[Any]:
    async with engine_for(events_db).connect() as conn:
        rows = await conn.execute(
            text("SELECT value FROM event_log WHERE topic = 'proxima.funding.payment'")
        )
        return [decode(r[0]) for r in rows]


async def _stored_accounts(
    funding_db: str, engine_for: Callable[[str], AsyncEngine], tranche_id: str
) -> tuple[str | None, str | None]:
    async with engine_for(funding_db).connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT beneficiary_account_id, funding_account_id FROM tranches WHERE id = :id"
                ),
                {"id": tranche_id},
            )
        ).one()
        return row[0], row[1]


async def test_a_tranche_paid_in_local_currency_round_trips_through_the_ledger_answer(
    funding: Funding,
    client: httpx.AsyncClient,
    funding_db: str,
    events_db: str,
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    tranche = await _payable_tranche(funding, 800_000)
    ordered = ok(
        await client.post(
            f"/tranches/{tranche['id']}/payment-orders", json=LOCAL_ORDER, headers=OFFICER
        )
    )  # no account ids: the ledger resolves them
    order_id = ordered["order_id"]
    assert ordered["status"] == "ordered"
    assert (ordered["paid_units"], ordered["conversion_rate"], ordered["conversion_rounding"]) == (
        None,
        None,
        None,
    )
    again = await client.post(
        f"/tranches/{tranche['id']}/payment-orders", json=LOCAL_ORDER, headers=OFFICER
    )
    assert again.status_code == 409  # one order per tranche at a time

    published = await eventually(
        lambda: _published(events_db, engine_for),
        lambda events: any(e.type == "proxima.funding.payment.ordered.v1" for e in events),
    )
    order = next(e for e in published if e.type == "proxima.funding.payment.ordered.v1")
    assert order.data.order_id == order_id
    assert (order.data.currency, order.data.amount) == ("GONETTE", 800_000)
    assert order.data.programme_code == "IDECLIC" and order.data.territory == "38"
    assert (order.data.beneficiary_account_id, order.data.funding_account_id) == ("", "")
    assert order.data.mode == "local_currency"

    await _answer(
        events_db,
        order_id=order_id,
        status="settled",
        transaction_id="tx-1",
        beneficiary_account_id="acc-linked-by-beneficiary",
        funding_account_id="acc-mandated-to-programme",
        units=800_000,
        rate="1",
        rounding="half-even",
    )

    async def current() -> dict[str, Any]:
        return (await funding.tranches(tranche["application_id"]))[0]

    paid = await eventually(current, lambda t: t["status"] == "paid")
    assert paid["transaction_id"] == "tx-1"
    assert (paid["paid_units"], paid["conversion_rate"], paid["conversion_rounding"]) == (
        800_000,
        "1",
        "half-even",
    )
    assert await _stored_accounts(funding_db, engine_for, tranche["id"]) == (
        "acc-linked-by-beneficiary",
        "acc-mandated-to-programme",
    )
    figures = await funding.envelope_figures()
    assert (figures["paid_cents"], figures["ordered_cents"]) == (800_000, 0)
    application = await funding.application(tranche["application_id"])
    assert application["paid_cents"] == 800_000

    paid_events = await eventually(
        lambda: _published(events_db, engine_for),
        lambda events: any(e.type == "proxima.funding.payment.paid.v1" for e in events),
    )
    assert sum(e.type == "proxima.funding.payment.paid.v1" for e in paid_events) == 1


async def test_a_failed_ledger_payment_frees_the_credits_and_can_be_ordered_again(
    funding: Funding, client: httpx.AsyncClient, events_db: str
) -> None:
    tranche = await _payable_tranche(funding, 500_000)
    path = f"/tranches/{tranche['id']}/payment-orders"
    order_id = ok(await client.post(path, json=LOCAL_ORDER, headers=OFFICER))["order_id"]
    assert (await funding.envelope_figures())["ordered_cents"] == 500_000

    await _answer(events_db, order_id=order_id, status="failed", reason="account frozen")

    async def current() -> dict[str, Any]:
        return (await funding.tranches(tranche["application_id"]))[0]

    failed = await eventually(current, lambda t: t["status"] == "failed")
    assert failed["failure_reason"] == "account frozen"
    assert (await funding.envelope_figures())["ordered_cents"] == 0
    reordered = ok(await client.post(path, json=LOCAL_ORDER, headers=OFFICER))
    assert reordered["status"] == "ordered" and reordered["order_id"] != order_id


async def test_a_payment_beyond_the_payment_credits_is_refused_and_writes_nothing(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    from tests.integration.funding.conftest import ADMIN, ENVELOPE

    tranche = await _payable_tranche(funding, 700_000)
    ok(
        await client.put(
            f"/envelopes/{ENVELOPE}/credits",
            json={"ap_cents": 10_000_000, "cp_cents": 600_000},
            headers=ADMIN,
        )
    )
    refused = await client.post(
        f"/tranches/{tranche['id']}/payment-orders", json={"mode": "euro"}, headers=OFFICER
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment-credits-exceeded"
    assert refused.json()["remaining_cents"] == 600_000
    assert (await funding.tranches(tranche["application_id"]))[0]["status"] == "scheduled"
    assert (await funding.envelope_figures())["ordered_cents"] == 0


async def test_a_ledger_rejection_fails_the_tranche_with_its_code_and_frees_the_credits(
    funding: Funding, client: httpx.AsyncClient, events_db: str
) -> None:
    from shared.events.catalog.ledger import PaymentRejected

    tranche = await _payable_tranche(funding, 400_000)
    path = f"/tranches/{tranche['id']}/payment-orders"
    order_id = ok(await client.post(path, json=LOCAL_ORDER, headers=OFFICER))["order_id"]
    payload = PaymentRejected(order_id=order_id, code="account-frozen", reason="Account is frozen")
    event = new_event(payload, source="/proxima/ledger", subject=order_id)
    producer = EmbeddedProducer(events_db, service="ledger")  # the ledger answers
    await producer.start()
    try:
        record = OutgoingRecord(
            topic=topic_for(payload.event_type), key=order_id, value=encode(event)
        )
        await producer.send_many([record, record])  # delivered twice: applied once
    finally:
        await producer.stop()

    async def current() -> dict[str, Any]:
        return (await funding.tranches(tranche["application_id"]))[0]

    failed = await eventually(current, lambda t: t["status"] == "failed")
    assert failed["failure_reason"] == "account-frozen: Account is frozen"
    assert (await funding.envelope_figures())["ordered_cents"] == 0
    reordered = ok(await client.post(path, json=LOCAL_ORDER, headers=OFFICER))
    assert reordered["status"] == "ordered"


async def test_account_hints_given_with_the_order_go_to_the_ledger_which_has_the_last_word(
    funding: Funding,
    client: httpx.AsyncClient,
    funding_db: str,
    events_db: str,
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    tranche = await _payable_tranche(funding, 300_000)
    path = f"/tranches/{tranche['id']}/payment-orders"
    order_id = ok(await client.post(path, json=WITH_HINTS, headers=OFFICER))["order_id"]

    published = await eventually(
        lambda: _published(events_db, engine_for),
        lambda events: any(e.type == "proxima.funding.payment.ordered.v1" for e in events),
    )
    order = next(e for e in published if e.type == "proxima.funding.payment.ordered.v1")
    assert (order.data.beneficiary_account_id, order.data.funding_account_id) == (
        "acc-beneficiary",
        "acc-region",
    )
    assert await _stored_accounts(funding_db, engine_for, tranche["id"]) == (
        "acc-beneficiary",
        "acc-region",
    )

    await _answer(
        events_db,
        order_id=order_id,
        status="settled",
        transaction_id="tx-2",
        beneficiary_account_id="acc-beneficiary",
        funding_account_id="acc-region-2",
        units=300_000,
        rate="1",
        rounding="half-even",
    )

    async def current() -> dict[str, Any]:
        return (await funding.tranches(tranche["application_id"]))[0]

    paid = await eventually(current, lambda t: t["status"] == "paid")
    assert paid["paid_units"] == 300_000
    assert await _stored_accounts(funding_db, engine_for, tranche["id"]) == (
        "acc-beneficiary",
        "acc-region-2",
    )


async def test_an_answer_from_before_account_authority_keeps_the_hints_and_no_conversion(
    funding: Funding,
    client: httpx.AsyncClient,
    funding_db: str,
    events_db: str,
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    tranche = await _payable_tranche(funding, 200_000)
    path = f"/tranches/{tranche['id']}/payment-orders"
    order_id = ok(await client.post(path, json=WITH_HINTS, headers=OFFICER))["order_id"]

    await _answer(events_db, order_id=order_id, status="settled", transaction_id="tx-3")

    async def current() -> dict[str, Any]:
        return (await funding.tranches(tranche["application_id"]))[0]

    paid = await eventually(current, lambda t: t["status"] == "paid")
    assert (paid["paid_units"], paid["conversion_rate"], paid["conversion_rounding"]) == (
        None,
        None,
        None,
    )
    assert await _stored_accounts(funding_db, engine_for, tranche["id"]) == (
        "acc-beneficiary",
        "acc-region",
    )


async def test_a_euro_tranche_settled_by_the_treasury_has_no_conversion(
    funding: Funding, client: httpx.AsyncClient
) -> None:
    tranche = await _payable_tranche(funding, 100_000)
    ok(
        await client.post(
            f"/tranches/{tranche['id']}/payment-orders", json={"mode": "euro"}, headers=OFFICER
        )
    )
    paid = ok(
        await client.post(
            f"/tranches/{tranche['id']}/settlement",
            json={"status": "paid", "transaction_id": "virement-1"},
            headers=OFFICER,
        )
    )
    assert paid["status"] == "paid" and paid["currency_code"] == "EUR"
    assert (paid["paid_units"], paid["conversion_rate"], paid["conversion_rounding"]) == (
        None,
        None,
        None,
    )
