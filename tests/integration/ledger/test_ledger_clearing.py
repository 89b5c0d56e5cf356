"""Clearing between euro-backed currencies, on real PostgreSQL: a payment moves units out
of one currency and into another at par in one transaction; refusals change nothing;
fees; settlement of a period between the reserves; the report; the invariant."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from tests.integration.ledger.clearing_support import (
    A,
    B,
    invariant,
    member_headers,
    opt_in,
    pay,
    two_sides,
)
from tests.integration.ledger.ledger_support import Ledger, operator
from tests.integration.ledger.test_ledger_api_transactions import expect_problem
from tests.integration.ledger.test_ledger_events import outbox_events


def last_month() -> tuple[str, str]:
    """A day of last month (the last one: always within the default 31-day backdating)
    and that month as AAAA-MM."""
    day = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    return day.isoformat(), f"{day:%Y-%m}"


async def posted(ledger: Ledger, account: str) -> int:
    return int((await ledger.balance(account))["posted"])


async def query(ledger: Ledger, sql: str, **params: Any) -> list[Any]:
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        return list((await session.execute(text(sql), params)).all())


async def test_a_member_pays_a_merchant_of_another_currency_at_par(ledger: Ledger) -> None:
    a, b = await two_sides(ledger)
    r = await pay(ledger, a.member, b.shop, 2_500, headers=member_headers(a))
    assert r.status_code == 201, r.text
    paid = r.json()
    assert paid["amount"] == 2_500 and paid["debited"] == 2_500 and paid["credited"] == 2_500
    assert paid["payer_currency"] == A and paid["payee_currency"] == B
    assert await posted(ledger, a.member) == 97_500
    assert await posted(ledger, b.shop) == 2_500
    assert await posted(ledger, a.terms["clearing_account_id"]) == 2_500
    assert await posted(ledger, b.terms["clearing_account_id"]) == -2_500
    # One transaction, balanced per currency, with the payer's authority row (holder) and
    # the payee currency's standing authorisation (its operator, basis operator).
    tx = (
        await ledger.client.get(f"/transactions/{paid['transaction_id']}", headers=ledger.headers)
    ).json()
    assert tx["kind"] == "clearing_payment" and len(tx["postings"]) == 4
    for currency in (A, B):
        assert sum(p["amount"] for p in tx["postings"] if p["currency"] == currency) == 0
    rows = await query(
        ledger,
        "SELECT account_id::text, basis, principal, amount FROM posting_authorities "
        "WHERE transaction_id = :t ORDER BY amount",
        t=paid["transaction_id"],
    )
    assert sorted(rows) == sorted(
        [
            (a.member, "holder", "member-gonette", 2_500),
            (b.terms["clearing_account_id"], "operator", "operator", 2_500),
        ]
    )
    # reserve + net position = circulation, on both sides.
    ia, ib = await invariant(ledger, A), await invariant(ledger, B)
    assert ia["holds"] and ib["holds"]
    assert ia["net_clearing_position"] == -2_500 and ia["circulation"] == 97_500
    assert ib["net_clearing_position"] == 2_500 and ib["circulation"] == 102_500
    assert ia["reserve_balance"] == ib["reserve_balance"] == 100_000
    [event] = await outbox_events(ledger, "proxima.ledger.clearing.paid.v1")
    assert event["transaction_id"] == paid["transaction_id"] and event["amount"] == 2_500
    seen = await ledger.client.get(
        f"/clearing/payments/{paid['transaction_id']}", headers=member_headers(a)
    )
    assert seen.status_code == 200 and seen.json() == paid
    # A keyed payment is posted once; its replay answers 200 with the same body.
    keyed = await pay(ledger, a.member, b.shop, 10, headers=member_headers(a), idempotency_key="k")
    again = await pay(ledger, a.member, b.shop, 10, headers=member_headers(a), idempotency_key="k")
    assert (keyed.status_code, again.status_code) == (201, 200) and again.json() == keyed.json()
    other = await pay(ledger, a.member, b.shop, 11, headers=member_headers(a), idempotency_key="k")
    await expect_problem(other, 409, "idempotency-key-reused")
    assert await posted(ledger, a.member) == 97_490


async def test_the_payers_authority_applies_as_for_a_posting(ledger: Ledger) -> None:
    a, b = await two_sides(ledger)
    stranger = operator(A, scopes=("ledger:post",), client_id="stranger")
    r = await pay(ledger, a.member, b.shop, 100, headers=stranger)
    await expect_problem(r, 403, "no-debit-authority")
    outside = operator(B, scopes=("ledger:post",), client_id="member-gonette")
    await expect_problem(
        await pay(ledger, a.member, b.shop, 100, headers=outside), 403, "forbidden"
    )
    # A mandate lets someone else pay, within its limits, recorded as such.
    mandate = await ledger.client.post(
        f"/accounts/{a.member}/mandates",
        json={
            "grantee": "stranger",
            "may_read": False,
            "max_per_payment": 500,
            "max_per_period": 1_000,
            "period": "month",
            "expires_at": "2099-01-01T00:00:00Z",
        },
        headers=ledger.headers,
    )
    assert mandate.status_code == 201, mandate.text
    ok = await pay(ledger, a.member, b.shop, 400, headers=stranger)
    assert ok.status_code == 201, ok.text
    rows = await query(
        ledger,
        "SELECT basis, principal FROM posting_authorities WHERE transaction_id = :t "
        "AND account_id = :a",
        t=ok.json()["transaction_id"],
        a=a.member,
    )
    assert rows == [("mandate", "stranger")]
    await expect_problem(
        await pay(ledger, a.member, b.shop, 600, headers=stranger), 403, "mandate-limit-exceeded"
    )
    assert await posted(ledger, a.member) == 99_600


async def test_refusals_change_nothing(ledger: Ledger) -> None:
    a, b = await two_sides(ledger)
    await ledger.currency("WIR", "mutual_credit", credit_limit={"max_limit": 1_000})
    await ledger.currency("HOURS", "time")
    wir_shop = await ledger.account("WIR", "merchant")
    hours_shop = await ledger.account("HOURS", "merchant")
    for target in (wir_shop, hours_shop):
        r = await pay(ledger, a.member, target, 100)
        await expect_problem(r, 422, "currency-not-convertible")
    await expect_problem(await opt_in(ledger, "WIR"), 422, "currency-not-convertible")
    await expect_problem(await opt_in(ledger, "HOURS"), 422, "currency-not-convertible")
    # An operator opting out refuses new payments both ways.
    assert (await opt_in(ledger, B, enabled=False)).status_code == 200
    await expect_problem(await pay(ledger, a.member, b.shop, 100), 422, "currency-not-convertible")
    await expect_problem(await pay(ledger, b.member, a.shop, 100), 422, "currency-not-convertible")
    assert (await opt_in(ledger, B)).status_code == 200
    await expect_problem(await pay(ledger, a.member, a.shop, 100), 422, "clearing-same-currency")
    await expect_problem(
        await pay(ledger, a.member, b.member, 100), 422, "clearing-payee-not-merchant"
    )
    await expect_problem(await pay(ledger, a.fund, b.shop, 1), 422, "clearing-payer-not-eligible")
    await expect_problem(await pay(ledger, a.member, b.shop, 200_000), 409, "insufficient-funds")
    zero = await pay(ledger, a.member, b.shop, 0)
    assert zero.status_code == 422
    assert await posted(ledger, a.member) == 100_000
    assert await posted(ledger, b.shop) == 0
    assert await posted(ledger, a.terms["clearing_account_id"]) == 0
    assert (await query(ledger, "SELECT count(*) FROM clearing_payments")) == [(0,)]
    # A clearing account moves only by clearing: not even its operator can transfer from it.
    r = await ledger.transfer(b.terms["clearing_account_id"], b.shop, 100, B)
    await expect_problem(r, 409, "clearing-account-reserved")


async def test_fees_per_each_currencys_terms_rounded_half_up(ledger: Ledger) -> None:
    a, b = await two_sides(
        ledger,
        a_terms={"payer_fee_bp": 125, "payer_fee_min": 5},  # 1.25 % on top, at least 5 c
        b_terms={"payee_fee_bp": 50, "payee_fee_min": 2},  # 0.5 %, at least 2 c, deducted
    )
    r = await pay(ledger, a.member, b.shop, 1_000)  # 12.5 c → 13; 5 c
    assert r.status_code == 201, r.text
    paid = r.json()
    assert (paid["payer_fee"], paid["payee_fee"]) == (13, 5)
    assert (paid["debited"], paid["credited"]) == (1_013, 995)
    assert await posted(ledger, a.member) == 100_000 - 1_013
    assert await posted(ledger, a.fund) == 13
    assert await posted(ledger, b.fund) == 5
    assert await posted(ledger, b.shop) == 995
    small = (await pay(ledger, a.member, b.shop, 100)).json()  # 1.25 c → min 5; 0.5 c → min 2
    assert (small["payer_fee"], small["payee_fee"]) == (5, 2)
    half = (await pay(ledger, a.member, b.shop, 1_100)).json()  # 13.75 c → 14; 5.5 c → 6
    assert (half["payer_fee"], half["payee_fee"]) == (14, 6)
    await expect_problem(await pay(ledger, a.member, b.shop, 2), 422, "clearing-fee-exceeds-amount")
    for currency in (A, B):
        assert (await invariant(ledger, currency))["holds"]
    # Fees need a fee account, of the currency's own fund.
    await expect_problem(
        await ledger.client.put(
            f"/clearing/terms/{A}", json={"payer_fee_bp": 10}, headers=ledger.headers
        ),
        422,
        "clearing-terms-invalid",
    )
    await expect_problem(
        await opt_in(ledger, A, payer_fee_bp=10, fee_account_id=b.fund),
        422,
        "clearing-terms-invalid",
    )


async def test_settling_a_period_moves_the_net_between_the_reserves(ledger: Ledger) -> None:
    a, b = await two_sides(ledger)
    day, month = last_month()
    for payer, payee, amount in ((a.member, b.shop, 3_000), (b.member, a.shop, 1_000)):
        r = await pay(ledger, payer, payee, amount, effective_date=day)
        assert r.status_code == 201, r.text
        assert r.json()["period"] == month
    this_month = await pay(ledger, a.member, b.shop, 700)
    assert this_month.status_code == 201
    # Not before the period has ended.
    now = f"{datetime.now(UTC):%Y-%m}"
    r = await ledger.client.post(
        "/clearing/settlements",
        json={"currency_a": A, "currency_b": B, "period": now},
        headers=ledger.headers,
    )
    await expect_problem(r, 409, "clearing-period-not-ended")
    positions = await ledger.client.get(
        "/clearing/positions", params={"currency": B}, headers=ledger.headers
    )
    assert positions.status_code == 200, positions.text
    [current, past] = positions.json()["items"]
    assert (past["period"], past["low_to_high"], past["high_to_low"]) == (month, 3_000, 1_000)
    assert (past["payer_currency"], past["payee_currency"], past["net"]) == (A, B, 2_000)
    assert past["settlement_id"] is None and current["net"] == 700
    # GONETTE owes MESURE 2 000: euros leave GONETTE's reserve for MESURE's.
    body = {"currency_a": B, "currency_b": A, "period": month, "idempotency_key": "s-1"}
    r = await ledger.client.post("/clearing/settlements", json=body, headers=ledger.headers)
    assert r.status_code == 201, r.text
    settled = r.json()
    assert (settled["payer_currency"], settled["payee_currency"], settled["amount"]) == (
        A,
        B,
        2_000,
    )
    assert settled["payments"] == 2
    again = await ledger.client.post("/clearing/settlements", json=body, headers=ledger.headers)
    assert again.status_code == 200 and again.json() == settled
    body["idempotency_key"] = "s-2"
    r = await ledger.client.post("/clearing/settlements", json=body, headers=ledger.headers)
    await expect_problem(r, 409, "clearing-period-settled")
    assert await posted(ledger, a.reserve) == 100_000 - 2_000
    assert await posted(ledger, b.reserve) == 100_000 + 2_000
    # Only this month's 700 stays in the clearing accounts.
    assert await posted(ledger, a.terms["clearing_account_id"]) == 700
    assert await posted(ledger, b.terms["clearing_account_id"]) == -700
    ia, ib = await invariant(ledger, A), await invariant(ledger, B)
    assert ia["holds"] and ib["holds"]
    assert (ia["reserve_balance"], ia["net_clearing_position"], ia["circulation"]) == (
        98_000,
        -700,
        97_300,
    )
    assert ia["units_issued"] == 98_000 and ib["units_issued"] == 102_000
    # No payment lands in a settled period any more.
    late = await pay(ledger, a.member, b.shop, 10, effective_date=day)
    await expect_problem(late, 409, "clearing-period-settled")
    [event] = await outbox_events(ledger, "proxima.ledger.clearing.settled.v1")
    assert event["amount"] == 2_000 and event["settlement_id"] == settled["id"]
    # A member cannot settle; an operator of another currency neither.
    member = member_headers(a)
    r = await ledger.client.post("/clearing/settlements", json=body, headers=member)
    assert r.status_code == 403


async def test_the_settlement_report_as_json_pages_and_french_csv(ledger: Ledger) -> None:
    a, b = await two_sides(ledger)
    day, month = last_month()
    assert (await pay(ledger, b.member, a.shop, 1_234, effective_date=day)).status_code == 201
    r = await ledger.client.post(
        "/clearing/settlements",
        json={"currency_a": A, "currency_b": B, "period": month},
        headers=ledger.headers,
    )
    assert r.status_code == 201, r.text
    page = await ledger.client.get(
        "/clearing/settlements", params={"currency": A, "limit": 1}, headers=ledger.headers
    )
    assert page.status_code == 200, page.text
    [item] = page.json()["items"]
    assert (item["payer_currency"], item["payee_currency"], item["amount"]) == (B, A, 1_234)
    assert page.json()["next_cursor"] is not None
    rest = await ledger.client.get(
        "/clearing/settlements",
        params={"currency": A, "limit": 1, "cursor": page.json()["next_cursor"]},
        headers=ledger.headers,
    )
    assert rest.json() == {"items": [], "next_cursor": None}
    report = await ledger.client.get(
        "/clearing/settlements.csv", params={"currency": B, "period": month}, headers=ledger.headers
    )
    assert report.status_code == 200, report.text
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert len(rows) == 1
    assert rows[0]["Période"] == month and rows[0]["Monnaie débitrice"] == B
    assert rows[0]["Solde réglé en euros (centimes)"] == "1234"
    bad = await ledger.client.get(
        "/clearing/settlements", params={"currency": A, "period": "2026-13"}, headers=ledger.headers
    )
    assert bad.status_code == 422
    member = member_headers(a)
    denied = await ledger.client.get(
        "/clearing/settlements", params={"currency": A}, headers=member
    )
    assert denied.status_code == 403
