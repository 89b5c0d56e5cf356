"""Events: every posting goes to the outbox; funding's payment orders are paid once."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select

from services.ledger.database.tables import transactions
from shared.events.catalog.funding import PaymentOrdered
from shared.events.tables import outbox
from tests.integration.ledger.ledger_support import CURRENCY, Ledger
from tests.support.events import owned_event, publish_as_owner
from tests.support.waiting import eventually


async def outbox_events(ledger: Ledger, event_type: str) -> list[dict[str, Any]]:
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        rows = (
            (
                await session.execute(
                    select(outbox.c.payload)
                    .where(outbox.c.event_type == event_type)
                    .order_by(outbox.c.position)
                )
            )
            .scalars()
            .all()
        )
    return [json.loads(bytes(r))["data"] for r in rows]


async def test_a_posted_transaction_is_in_the_outbox_with_leg_types_and_territories(
    ledger: Ledger,
) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant", territory="69123")
    tx = (await ledger.transfer(member, merchant, 120)).json()
    events = await outbox_events(ledger, "proxima.ledger.transaction.posted.v1")
    posted = next(e for e in events if e["transaction_id"] == tx["id"])
    assert posted["currency"] == CURRENCY and posted["kind"] == "transfer"
    legs = {leg["account_id"]: leg for leg in posted["postings"]}
    assert legs[merchant] == {
        "account_id": merchant,
        "account_type": "merchant",
        "territory": "69123",
        "amount": 120,
    }
    assert legs[member]["amount"] == -120
    refused = await ledger.transfer(member, merchant, 10_000)
    assert refused.status_code == 409
    assert len(await outbox_events(ledger, "proxima.ledger.transaction.posted.v1")) == len(events)


async def publish(ledger: Ledger, order: PaymentOrdered) -> None:
    """Funding's order, published by funding (the embedded log records who wrote it)."""
    settings = ledger.client.app.state.settings  # type: ignore[attr-defined]
    await publish_as_owner(settings, [owned_event(order, subject=order.application_id)])


async def settlements(ledger: Ledger) -> list[dict[str, Any]]:
    return await outbox_events(ledger, "proxima.ledger.payment.settled.v1")


async def rejections(ledger: Ledger) -> list[dict[str, Any]]:
    return await outbox_events(ledger, "proxima.ledger.payment.rejected.v1")


async def test_a_payment_order_is_paid_once_and_answered(ledger: Ledger) -> None:
    issuer, fund = await ledger.funded(10_000)
    beneficiary = await ledger.account(type="merchant", territory="38185")
    await ledger.mandate_to_programme(fund, "IDECLIC")
    await ledger.link_grant(beneficiary, "IDECLIC", "app-1")
    order = PaymentOrdered(
        order_id=str(uuid.uuid4()),
        application_id="app-1",
        tranche_id="t-1",
        programme_code="IDECLIC",
        currency=CURRENCY,
        amount=2_500,
        beneficiary_account_id=beneficiary,
        funding_account_id=fund,
    )
    await publish(ledger, order)
    await publish(ledger, order)  # the same order again, under a new event id
    answers = await eventually(lambda: settlements(ledger), lambda s: len(s) >= 1)
    assert answers[0]["status"] == "settled" and answers[0]["order_id"] == order.order_id
    assert (await ledger.balance(beneficiary))["posted"] == 2_500
    tx = await ledger.client.get(
        f"/transactions/{answers[0]['transaction_id']}", headers=ledger.headers
    )
    assert tx.json()["kind"] == "grant_payment"

    failing = order.model_copy(update={"order_id": str(uuid.uuid4()), "amount": 1_000_000})
    await publish(ledger, failing)
    await publish(ledger, failing)
    rejected = await eventually(lambda: rejections(ledger), lambda s: len(s) >= 1)
    assert rejected[0]["order_id"] == failing.order_id
    assert rejected[0]["code"] == "insufficient-funds"
    assert (await ledger.balance(beneficiary))["posted"] == 2_500
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        grants = (
            await session.execute(
                select(transactions.c.id).where(transactions.c.kind == "grant_payment")
            )
        ).all()
    assert len(grants) == 1
    # asked twice, answered twice with the same answer (funding asks again when it lost
    # the first, e.g. after a restore): paid once, refused once
    settled = await eventually(lambda: settlements(ledger), lambda s: len(s) >= 2)
    refused = await eventually(lambda: rejections(ledger), lambda s: len(s) >= 2)
    assert len(settled) == 2 and settled[0] == settled[1]
    assert len(refused) == 2 and refused[0] == refused[1]


async def test_an_atomic_batch_records_one_event_per_transaction(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant")
    legs = {
        "postings": [
            {"account_id": member, "currency": CURRENCY, "amount": -1},
            {"account_id": merchant, "currency": CURRENCY, "amount": 1},
        ]
    }
    r = await ledger.client.post("/batches", json={"items": [legs] * 3}, headers=ledger.headers)
    assert r.status_code == 201, r.text
    ids = {t["transaction"]["id"] for t in r.json()["results"]}
    posted = await outbox_events(ledger, "proxima.ledger.transaction.posted.v1")
    ours = Counter(e["transaction_id"] for e in posted if e["transaction_id"] in ids)
    assert ours == dict.fromkeys(ids, 1)
