"""Repayments and guarantee calls in local currency go through the ledger, as grant
tranches do: funding publishes the order, the ledger's answer (delivered twice on the
embedded bus) settles it once. A repayment counts only once settled, orders in flight
count against the balance, a refused one is kept with its reason; a guarantee call holds
its payment credits until the ledger pays, gives them back when refused, and may be made
again."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.events.catalog.ledger import PaymentRejected, PaymentSettled
from shared.events.envelope import decode, encode, new_event
from shared.events.registry import EventPayload, topic_for
from shared.events.transports.base import OutgoingRecord
from shared.events.transports.embedded import EmbeddedProducer
from tests.integration.funding.conftest import OFFICER, Funding, ok
from tests.integration.funding.test_funding_instruments_api import (
    ADVANCE,
    GUARANTEE,
    _awarded,
    _disburse,
    _instrument,
    _instrument_events,
)
from tests.support.waiting import eventually


async def _answer(events_db: str, payload: EventPayload, order_id: str) -> None:
    """The ledger's answer, delivered twice: applied once."""
    event = new_event(payload, source="/proxima/ledger", subject=order_id)
    producer = EmbeddedProducer(events_db, service="ledger")
    await producer.start()
    try:
        record = OutgoingRecord(
            topic=topic_for(payload.event_type), key=order_id, value=encode(event)
        )
        await producer.send_many([record, record])
    finally:
        await producer.stop()


def _settled(order_id: str, units: int) -> PaymentSettled:
    return PaymentSettled(
        order_id=order_id,
        status="settled",
        transaction_id=f"tx-{order_id[:8]}",
        beneficiary_account_id="acc-linked",
        funding_account_id="acc-fund",
        units=units,
        rate="1",
        rounding="half-even",
    )


async def _figures_events(
    funding_db: str, engine_for: Callable[[str], AsyncEngine]
) -> list[dict[str, Any]]:
    """The territory figures funding published, oldest first."""
    async with engine_for(funding_db).connect() as conn:
        published = await conn.execute(
            text(
                "SELECT payload FROM outbox WHERE event_type = "
                "'proxima.funding.instrument.figures.v1' ORDER BY position"
            )
        )
        return [json.loads(p)["data"] for (p,) in published]


async def _orders(events_db: str, engine_for: Callable[[str], AsyncEngine]) -> list[Any]:
    async with engine_for(events_db).connect() as conn:
        rows = await conn.execute(
            text("SELECT value FROM event_log WHERE topic = 'proxima.funding.payment'")
        )
        return [
            e
            for e in (decode(r[0]) for r in rows)
            if "ordered" in e.type and "payment.ordered" not in e.type
        ]


async def test_a_repayment_in_local_currency_counts_once_the_ledger_settles_it(
    funding: Funding,
    client: httpx.AsyncClient,
    funding_db: str,
    events_db: str,
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    application_id, response = await _awarded(funding, 1_000_000, ADVANCE, "CP-2026-12-101")
    ok(response, 201)
    await _disburse(funding, application_id)
    instrument = await _instrument(funding, application_id)
    base = f"/instruments/{instrument['id']}"
    body = {"amount_cents": 600_000, "received_on": "2025-07-15", "currency_code": "GONETTE"}
    ordered = ok(await client.post(f"{base}/repayments", json=body, headers=OFFICER), 201)
    assert (ordered["status"], ordered["currency_code"]) == ("ordered", "GONETTE")
    position = ok(await client.get(f"{base}/position", headers=OFFICER))
    assert (position["repaid_cents"], position["owed_cents"]) == (0, 1_000_000)
    # 400,001 more would pass the balance once the order in flight is collected.
    above = {**body, "amount_cents": 400_001}
    refused = await client.post(f"{base}/repayments", json=above, headers=OFFICER)
    assert refused.status_code == 409 and refused.json()["code"] == "repayment-above-balance"

    [order] = await eventually(
        lambda: _orders(events_db, engine_for), lambda found: len(found) >= 1
    )
    assert order.type == "proxima.funding.payment.repayment_ordered.v1"
    assert (order.data.order_id, order.data.instrument_id) == (
        ordered["order_id"],
        instrument["id"],
    )
    assert (order.data.currency, order.data.amount, order.data.territory) == (
        "GONETTE",
        600_000,
        "38",
    )

    await _answer(events_db, _settled(ordered["order_id"], 600_000), ordered["order_id"])

    async def repayments() -> list[dict[str, Any]]:
        page = ok(await client.get(f"{base}/repayments", headers=OFFICER))
        return list(page["items"])

    [settled] = await eventually(repayments, lambda rs: rs[0]["status"] == "settled")
    assert (settled["paid_units"], settled["transaction_id"]) == (600_000, ordered_tx(ordered))
    position = ok(await client.get(f"{base}/position", headers=OFFICER))
    assert (position["repaid_cents"], position["owed_cents"]) == (600_000, 400_000)

    second = ok(
        await client.post(
            f"{base}/repayments", json={**body, "amount_cents": 400_000}, headers=OFFICER
        ),
        201,
    )
    rejection = PaymentRejected(
        order_id=second["order_id"], code="no-debit-authority", reason="aucun mandat"
    )
    await _answer(events_db, rejection, second["order_id"])
    rows = await eventually(repayments, lambda rs: any(r["status"] == "failed" for r in rs))
    [failed] = [r for r in rows if r["status"] == "failed"]
    assert failed["failure_reason"] == "no-debit-authority: aucun mandat"
    position = ok(await client.get(f"{base}/position", headers=OFFICER))
    assert position["owed_cents"] == 400_000  # a refused debit repays nothing
    events = await _instrument_events(funding_db, engine_for)
    repaid = [d for k, d in events if k == "proxima.funding.instrument.repaid.v1"]
    assert [(d["amount_cents"], d["owed_cents"]) for d in repaid] == [(600_000, 400_000)]
    territory = await _figures_events(funding_db, engine_for)
    # At the award (nothing disbursed: no leverage yet), at the disbursement, at the
    # settled repayment; not at the order nor at the refusal.
    assert [(f["public_cents"], f["repaid_cents"], f["leverage"]) for f in territory] == [
        (0, 0, None),
        (1_000_000, 0, 2.5),
        (1_000_000, 600_000, 2.5),
    ]
    figures = await funding.envelope_figures()
    assert (figures["expected_repayments_cents"], figures["repaid_cents"]) == (1_000_000, 600_000)
    assert figures["relendable_cents"] == 0  # the programme is not a revolving fund


def ordered_tx(ordered: dict[str, Any]) -> str:
    return f"tx-{ordered['order_id'][:8]}"


async def test_a_guarantee_call_in_local_currency_holds_its_credits_until_the_ledger_pays(
    funding: Funding,
    client: httpx.AsyncClient,
    funding_db: str,
    events_db: str,
    engine_for: Callable[[str], AsyncEngine],
) -> None:
    application_id, response = await _awarded(funding, 2_000_000, GUARANTEE, "CP-2026-12-102")
    ok(response, 201)
    instrument = await _instrument(funding, application_id)
    base = f"/instruments/{instrument['id']}"
    default = {
        "defaulted_on": "2026-06-30",
        "outstanding_cents": 3_000_000,
        "currency_code": "GONETTE",
    }
    call = ok(await client.post(f"{base}/guarantee-call", json=default, headers=OFFICER), 201)
    assert (call["status"], call["paid_cents"]) == ("ordered", 1_500_000)
    figures = await funding.envelope_figures()
    assert (figures["ordered_cents"], figures["paid_cents"]) == (1_500_000, 0)
    assert ok(await client.get(base, headers=OFFICER))["state"] == "active"
    twice = await client.post(f"{base}/guarantee-call", json=default, headers=OFFICER)
    assert twice.status_code == 409  # one call in flight
    recovery = {"amount_cents": 1_000, "received_on": "2026-07-01"}
    early = await client.post(f"{base}/recoveries", json=recovery, headers=OFFICER)
    assert early.status_code == 409  # nothing paid yet, nothing to recover

    refusal = PaymentRejected(
        order_id=call["order_id"], code="insufficient-funds", reason="fonds insuffisants"
    )
    await _answer(events_db, refusal, call["order_id"])
    freed = await eventually(funding.envelope_figures, lambda f: f["ordered_cents"] == 0)
    assert freed["paid_cents"] == 0

    again = ok(await client.post(f"{base}/guarantee-call", json=default, headers=OFFICER), 201)
    assert again["status"] == "ordered" and again["order_id"] != call["order_id"]
    await _answer(events_db, refusal, call["order_id"])  # a late answer to the old order
    await _answer(events_db, _settled(again["order_id"], 1_500_000), again["order_id"])

    async def state() -> str:
        return str(ok(await client.get(base, headers=OFFICER))["state"])

    await eventually(state, lambda s: s == "called")
    figures = await funding.envelope_figures()
    assert (figures["ordered_cents"], figures["paid_cents"]) == (0, 1_500_000)
    assert (await funding.application(application_id))["paid_cents"] == 1_500_000
    events = await _instrument_events(funding_db, engine_for)
    called = [d for k, d in events if k == "proxima.funding.guarantee.called.v1"]
    assert [d["amount_cents"] for d in called] == [1_500_000]
    assert (figures["losses_cents"], figures["recovered_cents"]) == (1_500_000, 0)
    territory = await _figures_events(funding_db, engine_for)
    # Published at the award and again when the ledger paid the call (not at the refusal).
    assert len(territory) == 2
    assert territory[-1]["territory"] == "38"
    assert (territory[-1]["public_cents"], territory[-1]["bank_loans_cents"]) == (
        2_000_000,
        6_000_000,
    )
    assert (territory[-1]["leverage"], territory[-1]["losses_cents"]) == (3.0, 1_500_000)
    ok(await client.post(f"{base}/recoveries", json=recovery, headers=OFFICER), 201)
    assert (await _figures_events(funding_db, engine_for))[-1]["losses_cents"] == 1_499_000
    figures = await funding.envelope_figures()
    assert (figures["losses_cents"], figures["recovered_cents"]) == (1_499_000, 1_000)


async def test_a_revolving_fund_lends_again_what_came_back(client: httpx.AsyncClient) -> None:
    funding = Funding(client)
    await funding.programme(revolving=True)
    await funding.envelope(ap=1_000_000, cp=1_000_000)
    await funding.accompanist()
    first, response = await _awarded(funding, 1_000_000, ADVANCE, "CP-2026-12-201")
    ok(response, 201)
    await _disburse(funding, first)
    second = await funding.to_committee(amount=500_000)
    session_id = await funding.session()
    await funding.on_agenda(session_id, second)
    await funding.open(session_id)
    for member in ("m1", "m2", "m3"):
        ok(await funding.vote(session_id, second, member, "for"), 204)

    async def decide() -> httpx.Response:
        return await funding.decide(
            session_id,
            second,
            outcome="approved",
            amount_cents=500_000,
            deliberation_number="CP-2026-12-202",
            instrument={**ADVANCE, "bank_loan_cents": 1_000_000},
        )

    spent = await decide()
    assert spent.status_code == 409, spent.text  # the AP is all lent
    instrument = await _instrument(funding, first)
    repayment = {"amount_cents": 600_000, "received_on": "2025-07-15"}
    path = f"/instruments/{instrument['id']}/repayments"
    ok(await client.post(path, json=repayment, headers=OFFICER), 201)
    figures = await funding.envelope_figures()
    assert (figures["repaid_cents"], figures["relendable_cents"]) == (600_000, 600_000)
    ok(await decide(), 201)  # what came back is lent again
    figures = await funding.envelope_figures()
    assert (figures["committed_cents"], figures["ap_cents"]) == (1_500_000, 1_000_000)
    assert figures["expected_repayments_cents"] == 1_500_000
