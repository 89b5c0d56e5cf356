"""Events the ledger owes: currency.issued / reconverted, and its answers to payment orders
paid as programme credits (once per order) or rejected with a code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from shared.events.catalog.funding import PaymentOrdered
from tests.integration.ledger.ledger_support import CURRENCY, Ledger
from tests.integration.ledger.test_ledger_api_programmes import PASS, Programme
from tests.integration.ledger.test_ledger_api_reserves import reserve_setup
from tests.integration.ledger.test_ledger_events import (
    outbox_events,
    publish,
    rejections,
    settlements,
)
from tests.support.waiting import eventually


async def test_issuance_and_reconversion_are_announced(ledger: Ledger) -> None:
    a = await reserve_setup(ledger, reconversion_fees={"default_bp": 200})
    issued = await ledger.client.post(
        "/currencies/MESURE/issuances",
        json={"account_id": a["member"], "euros": 2_000},
        headers=ledger.headers,
    )
    assert issued.status_code == 201, issued.text
    assert (await ledger.transfer(a["member"], a["shop"], 1_000, "MESURE")).status_code == 201
    back = await ledger.client.post(
        "/currencies/MESURE/reconversions",
        json={"account_id": a["shop"], "units": 1_000},
        headers=ledger.headers,
    )
    assert back.status_code == 201, back.text
    announced = await outbox_events(ledger, "proxima.ledger.currency.issued.v1")
    assert announced == [
        {
            "currency": "MESURE",
            "account_id": a["member"],
            "euros": 2_000,
            "units": 2_000,
            "bonus": 0,
            "transaction_id": issued.json()["id"],
        }
    ]
    [reconverted] = await outbox_events(ledger, "proxima.ledger.currency.reconverted.v1")
    assert reconverted == {
        "currency": "MESURE",
        "account_id": a["shop"],
        "units": 1_000,
        "fee": 20,
        "euros": 980,
        "transaction_id": back.json()["id"],
    }


async def programme_paying_grants(ledger: Ledger) -> Programme:
    """The voucher programme, its Region funder mandated to the funding service for
    PASS_REGION, and the youth's account linked to application app-9."""
    p = await Programme(ledger).setup()
    await ledger.mandate_to_programme(p.a["region"], "PASS_REGION")
    await ledger.link_grant(p.a["youth"], "PASS_REGION", "app-9")
    return p


def order_for(p: Programme, **changes: object) -> PaymentOrdered:
    base = PaymentOrdered(
        order_id=str(uuid.uuid4()),
        application_id="app-9",
        tranche_id="t-9",
        programme_code="PASS_REGION",
        currency=PASS,
        amount=4_000,
        beneficiary_account_id=p.a["youth"],
        funding_account_id=p.a["region"],
        mode="programme_credits",
        credit_expires_at=datetime.now(UTC) + timedelta(days=90),
        credit_categories=["books"],
    )
    return base.model_copy(update=changes)


async def test_a_grant_paid_in_programme_credits_is_one_lot_once(ledger: Ledger) -> None:
    p = await programme_paying_grants(ledger)
    order = order_for(p)
    await publish(ledger, order)
    await publish(ledger, order)  # replayed under another event id: paid once
    answers = await eventually(lambda: settlements(ledger), lambda s: len(s) >= 1)
    assert answers[0]["order_id"] == order.order_id and answers[0]["status"] == "settled"
    lots = await ledger.client.get(
        f"/currencies/{PASS}/credits",
        params={"beneficiary": p.a["youth"]},
        headers=ledger.headers,
    )
    [lot] = lots.json()["items"]
    assert (lot["amount"], lot["funder_account_id"], lot["categories"]) == (
        4_000,
        p.a["region"],
        ["books"],
    )
    assert lot["grant_transaction_id"] == answers[0]["transaction_id"]
    assert (await ledger.balance(p.a["youth"]))["posted"] == 4_000
    # Spendable under the programme's rules, like any lot.
    bought = await p.buy("bookshop", 1_000)
    assert bought.status_code == 201, bought.text
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        n = (
            await session.execute(
                text("SELECT count(*) FROM transactions WHERE kind = 'programme_credit'")
            )
        ).scalar_one()
    assert n == 1
    # the replayed order got the same answer again, not a second lot
    again = await eventually(lambda: settlements(ledger), lambda s: len(s) >= 2)
    assert len(again) == 2 and again[0] == again[1]


async def test_payment_orders_the_ledger_cannot_pay_are_rejected_with_a_code(
    ledger: Ledger,
) -> None:
    p = await programme_paying_grants(ledger)
    not_a_funder = order_for(p, funding_account_id=p.a["bookshop"])
    await publish(ledger, not_a_funder)
    wrong_currency = order_for(p, currency=CURRENCY)
    await publish(ledger, wrong_currency)
    answers = await eventually(lambda: rejections(ledger), lambda s: len(s) >= 2)
    codes = {a["order_id"]: a["code"] for a in answers}
    assert codes == {
        not_a_funder.order_id: "funder-not-approved",
        wrong_currency.order_id: "not-a-voucher-currency",
    }
    assert (await ledger.balance(p.a["youth"]))["posted"] == 0
    # A plain local-currency order in a voucher currency still goes through the lots.
    plain = order_for(p, mode="local_currency", credit_categories=None, credit_expires_at=None)
    await publish(ledger, plain)
    paid = await eventually(lambda: settlements(ledger), lambda s: len(s) >= 1)
    assert paid[0]["order_id"] == plain.order_id
    lots = await ledger.client.get(f"/currencies/{PASS}/credits", headers=ledger.headers)
    [lot] = lots.json()["items"]
    assert lot["categories"] is None and lot["amount"] == 4_000
