"""Loans and guarantees through the ledger: funding's repayment order is a direct debit the
ledger posts only under the borrower's mandate to ``repayments:<programme>`` (once per
order), crediting the programme's funding account; a guarantee call order pays that fund
to the account linked to the file. Both are answered like a grant tranche's order."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.ledger.database.tables import transactions
from shared.events.catalog.funding import GuaranteeCallOrdered, RepaymentOrdered
from tests.integration.ledger.ledger_support import CURRENCY, Ledger
from tests.integration.ledger.test_ledger_events import publish, rejections, settlements
from tests.support.waiting import eventually


def _order(kind: type[RepaymentOrdered | GuaranteeCallOrdered], amount: int) -> Any:
    return kind(
        order_id=str(uuid.uuid4()),
        instrument_id="loan-1",
        application_id="app-loan",
        programme_code="IDECLIC",
        territory="38",
        currency=CURRENCY,
        amount=amount,
    )


async def _mandate(ledger: Ledger, account: str, grantee: str) -> None:
    body = {
        "grantee": grantee,
        "may_read": False,
        "max_per_payment": 5_000,
        "max_per_period": 60_000,
        "period": "year",
        "expires_at": "2099-01-01T00:00:00Z",
        "purpose": "Prélèvement des échéances du prêt d'honneur",
    }
    r = await ledger.client.post(f"/accounts/{account}/mandates", json=body, headers=ledger.headers)
    assert r.status_code == 201, r.text


async def _kinds(ledger: Ledger) -> list[str]:
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        rows = await session.execute(select(transactions.c.kind))
    return sorted(k for (k,) in rows if k in {"loan_repayment", "guarantee_call"})


async def test_a_repayment_is_debited_only_under_the_borrowers_mandate_once(
    ledger: Ledger,
) -> None:
    issuer, fund = await ledger.funded(50_000)
    borrower = await ledger.account(type="member", territory="38185")
    assert (await ledger.transfer(issuer, borrower, 8_000)).status_code == 201
    await ledger.mandate_to_programme(fund, "IDECLIC")
    await ledger.link_grant(borrower, "IDECLIC", "app-loan")

    unmandated = _order(RepaymentOrdered, 3_000)
    await publish(ledger, unmandated)
    [refused] = await eventually(lambda: rejections(ledger), lambda s: len(s) >= 1)
    assert (refused["order_id"], refused["code"]) == (unmandated.order_id, "no-debit-authority")
    assert (await ledger.balance(borrower))["posted"] == 8_000

    # The borrower signs the direct debit to the programme's collection of repayments; it
    # does not make the borrower's account a funding account of the programme.
    await _mandate(ledger, borrower, "repayments:IDECLIC")
    order = _order(RepaymentOrdered, 3_000)
    await publish(ledger, order)
    await publish(ledger, order)  # the same order under another event id: debited once
    # ... and answered again, identically (funding's payment reconciler relies on it)
    answers = await eventually(lambda: settlements(ledger), lambda s: len(s) >= 2)
    settled = answers[0]
    assert answers == [settled, settled]
    assert (settled["order_id"], settled["status"], settled["units"]) == (
        order.order_id,
        "settled",
        3_000,
    )
    assert (settled["beneficiary_account_id"], settled["funding_account_id"]) == (borrower, fund)
    assert (await ledger.balance(borrower))["posted"] == 5_000
    assert (await ledger.balance(fund))["posted"] == 50_000 + 3_000
    above_limit = _order(RepaymentOrdered, 5_001)  # the mandate's per-payment limit holds
    await publish(ledger, above_limit)
    codes = await eventually(lambda: rejections(ledger), lambda s: len(s) >= 2)
    assert codes[1]["order_id"] == above_limit.order_id
    assert codes[1]["code"] == "mandate-limit-exceeded"
    assert await _kinds(ledger) == ["loan_repayment"]  # one posting for the order asked twice
    assert len(await settlements(ledger)) == 2


async def test_a_guarantee_call_is_paid_from_the_fund_to_the_linked_account(
    ledger: Ledger,
) -> None:
    _, fund = await ledger.funded(50_000)
    lender = await ledger.account(type="merchant", territory="38185")
    await ledger.mandate_to_programme(fund, "IDECLIC")
    await ledger.link_grant(lender, "IDECLIC", "app-loan")
    call = _order(GuaranteeCallOrdered, 7_500)
    await publish(ledger, call)
    await publish(ledger, call)  # asked twice: paid once, answered twice identically
    answers = await eventually(lambda: settlements(ledger), lambda s: len(s) >= 2)
    settled = answers[0]
    assert answers == [settled, settled]
    assert (settled["order_id"], settled["units"]) == (call.order_id, 7_500)
    assert (await ledger.balance(lender))["posted"] == 7_500
    tx = await ledger.client.get(
        f"/transactions/{settled['transaction_id']}", headers=ledger.headers
    )
    assert tx.json()["kind"] == "guarantee_call"
    assert tx.json()["metadata"]["instrument_id"] == "loan-1"
    unlinked = _order(GuaranteeCallOrdered, 100).model_copy(update={"application_id": "app-x"})
    await publish(ledger, unlinked)
    [refused] = await eventually(lambda: rejections(ledger), lambda s: len(s) >= 1)
    assert refused["order_id"] == unlinked.order_id
    assert await _kinds(ledger) == ["guarantee_call"]
