"""Monthly load cap and mutual-credit debt cap: enforced by the database, on every posting
path, under concurrency; a breach has its own problem code and writes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from tests.integration.ledger.ledger_support import Ledger
from tests.integration.ledger.test_ledger_api_transactions import expect_problem

YOUTH = "FONTE"
WIR = "WIR"


async def scalar(ledger: Ledger, sql: str, **params: Any) -> Any:
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def capped(ledger: Ledger, cap: int = 1_000) -> tuple[str, str]:
    """(issuer, member) of a currency whose members may receive ``cap`` per month."""
    await ledger.currency(YOUTH, "euro_backed", monthly_load_cap=cap)
    return await ledger.account(YOUTH, "issuer"), await ledger.account(YOUTH, "member")


async def test_credits_beyond_the_monthly_load_cap_are_refused_and_write_nothing(
    ledger: Ledger,
) -> None:
    issuer, member = await capped(ledger)
    shop = await ledger.account(YOUTH, "merchant")
    assert (await ledger.transfer(issuer, member, 700, YOUTH)).status_code == 201
    outbox = await scalar(ledger, "SELECT count(*) FROM outbox")
    refused = await ledger.transfer(issuer, member, 301, YOUTH)
    await expect_problem(refused, 409, "monthly-load-cap-exceeded")
    assert (await ledger.balance(member))["posted"] == 700
    assert await scalar(ledger, "SELECT count(*) FROM outbox") == outbox
    # Spending does not give back room: the cap is on what the account receives.
    assert (await ledger.transfer(member, shop, 500, YOUTH)).status_code == 201
    await expect_problem(
        await ledger.transfer(issuer, member, 301, YOUTH), 409, "monthly-load-cap-exceeded"
    )
    assert (await ledger.transfer(issuer, member, 300, YOUTH)).status_code == 201
    # Merchants are not capped.
    assert (await ledger.transfer(issuer, shop, 5_000, YOUTH)).status_code == 201
    # The same rule holds in a batch: the atomic batch is refused whole.
    other = await ledger.account(YOUTH, "member")
    leg = {
        "postings": [
            {"account_id": issuer, "currency": YOUTH, "amount": -600},
            {"account_id": other, "currency": YOUTH, "amount": 600},
        ]
    }
    r = await ledger.client.post("/batches", json={"items": [leg, leg]}, headers=ledger.headers)
    await expect_problem(r, 409, "monthly-load-cap-exceeded")
    assert (await ledger.balance(other))["posted"] == 0


async def test_a_reversal_credit_is_not_a_load(ledger: Ledger) -> None:
    issuer, member = await capped(ledger)
    shop = await ledger.account(YOUTH, "merchant")
    assert (await ledger.transfer(issuer, member, 1_000, YOUTH)).status_code == 201
    paid = (await ledger.transfer(member, shop, 400, YOUTH)).json()
    r = await ledger.client.post(
        f"/transactions/{paid['id']}/reversal", json={}, headers=ledger.headers
    )
    assert r.status_code == 201, r.text
    assert (await ledger.balance(member))["posted"] == 1_000


async def test_concurrent_loads_never_exceed_the_monthly_cap(ledger: Ledger) -> None:
    issuer, member = await capped(ledger, cap=1_000)
    statuses: list[tuple[int, str]] = []

    async def load() -> None:
        r = await ledger.transfer(issuer, member, 100, YOUTH)
        statuses.append((r.status_code, r.json().get("code", "posted")))

    await asyncio.gather(*(load() for _ in range(30)))
    assert statuses.count((201, "posted")) == 10
    assert statuses.count((409, "monthly-load-cap-exceeded")) == 20
    assert (await ledger.balance(member))["posted"] == 1_000
    loaded = await scalar(
        ledger, "SELECT loaded FROM account_monthly_loads WHERE account_id = :a", a=member
    )
    assert loaded == 1_000


async def wir(ledger: Ledger, *, members: int, max_total_debt: int) -> list[str]:
    await ledger.currency(
        WIR,
        "mutual_credit",
        credit_limit={"default_limit": 1_000, "max_limit": 1_000, "max_total_debt": max_total_debt},
    )
    return [await ledger.account(WIR, "member") for _ in range(members)]


async def test_the_sum_of_negative_balances_stays_under_the_debt_cap(ledger: Ledger) -> None:
    a, b, c = await wir(ledger, members=3, max_total_debt=1_500)
    assert (await ledger.transfer(a, c, 1_000, WIR)).status_code == 201
    outbox = await scalar(ledger, "SELECT count(*) FROM outbox")
    refused = await ledger.transfer(b, c, 600, WIR)
    await expect_problem(refused, 409, "debt-cap-exceeded")
    assert (await ledger.balance(b))["posted"] == 0
    assert await scalar(ledger, "SELECT count(*) FROM outbox") == outbox
    assert (await ledger.transfer(b, c, 500, WIR)).status_code == 201
    # Paying debt back is always allowed, and makes room again.
    assert (await ledger.transfer(c, a, 200, WIR)).status_code == 201
    assert (await ledger.transfer(b, c, 200, WIR)).status_code == 201
    total = await scalar(ledger, "SELECT total_debt FROM currency_debt WHERE currency = :c", c=WIR)
    assert total == 1_500


async def test_concurrent_borrowing_never_exceeds_the_debt_cap(ledger: Ledger) -> None:
    borrowers = await wir(ledger, members=10, max_total_debt=2_500)
    shop = await ledger.account(WIR, "merchant")
    statuses: list[tuple[int, str]] = []

    async def borrow(member: str) -> None:
        for _ in range(3):
            r = await ledger.transfer(member, shop, 300, WIR)
            statuses.append((r.status_code, r.json().get("code", "posted")))

    await asyncio.gather(*(borrow(m) for m in borrowers))
    assert set(statuses) <= {(201, "posted"), (409, "debt-cap-exceeded")}, statuses
    assert statuses.count((201, "posted")) == 8  # 8 x 300 = 2,400 <= 2,500 < 9 x 300
    negatives = await scalar(
        ledger,
        "SELECT coalesce(sum(-posted), 0) FROM account_balances WHERE currency = :c AND posted < 0",
        c=WIR,
    )
    total = await scalar(ledger, "SELECT total_debt FROM currency_debt WHERE currency = :c", c=WIR)
    assert negatives == total == 2_400
    assert (await ledger.balance(shop))["posted"] == 2_400


async def test_a_transfer_that_moves_debt_between_members_at_the_cap_is_accepted(
    ledger: Ledger,
) -> None:
    a, b, c = await wir(ledger, members=3, max_total_debt=1_000)
    assert (await ledger.transfer(a, c, 1_000, WIR)).status_code == 201
    # b borrows 600 and pays it to a, who is in debt: total debt 1,000 -> 1,000, although it
    # passes through 1,600 between the two postings.
    assert (await ledger.transfer(b, a, 600, WIR)).status_code == 201
    total = await scalar(ledger, "SELECT total_debt FROM currency_debt WHERE currency = :c", c=WIR)
    assert total == 1_000


async def test_an_atomic_batch_over_the_debt_cap_is_refused_whole(ledger: Ledger) -> None:
    a, b, c = await wir(ledger, members=3, max_total_debt=1_000)

    def leg(src: str, amount: int) -> dict[str, Any]:
        return {
            "postings": [
                {"account_id": src, "currency": WIR, "amount": -amount},
                {"account_id": c, "currency": WIR, "amount": amount},
            ]
        }

    r = await ledger.client.post(
        "/batches", json={"items": [leg(a, 600), leg(b, 600)]}, headers=ledger.headers
    )
    await expect_problem(r, 409, "debt-cap-exceeded")
    assert (await ledger.balance(c))["posted"] == 0
    independent = await ledger.client.post(
        "/batches",
        json={"mode": "independent", "items": [leg(a, 600), leg(b, 600), leg(b, 400)]},
        headers=ledger.headers,
    )
    assert independent.status_code == 201, independent.text
    statuses = [
        (i["status"], (i["problem"] or {}).get("code")) for i in independent.json()["results"]
    ]
    assert statuses == [(201, None), (409, "debt-cap-exceeded"), (201, None)]
    assert (await ledger.balance(c))["posted"] == 1_000
