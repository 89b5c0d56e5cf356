"""Voucher programmes (M'Ra-style youth card) on real PostgreSQL: each rule, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.ledger.ledger_support import Ledger, operator
from tests.integration.ledger.test_ledger_api_transactions import expect_problem
from tests.integration.ledger.test_ledger_events import outbox_events

PASS = "PASSJ"
BASE = f"/currencies/{PASS}"


def soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


class Programme:
    """A youth card: the region and a département fund it; a bookshop and a club accept it."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.a: dict[str, str] = {}

    async def setup(self, **overrides: Any) -> Programme:
        ledger = self.ledger
        await ledger.currency(PASS, "voucher")
        issuer = await ledger.account(PASS, "issuer")
        self.a = {
            "region": await ledger.account(PASS, "programme", name="Région"),
            "dept": await ledger.account(PASS, "fund", name="Département"),
            "youth": await ledger.account(PASS, "member"),
            "bookshop": await ledger.account(PASS, "merchant", merchant_category="books"),
            "club": await ledger.account(PASS, "merchant", merchant_category="sport"),
            "casino": await ledger.account(PASS, "merchant", merchant_category="books"),
        }
        for funder in ("region", "dept"):
            r = await ledger.transfer(issuer, self.a[funder], 100_000, PASS)
            assert r.status_code == 201, r.text
        body = {
            "allowed_categories": ["books", "culture", "sport"],
            "category_caps": {"books": 3_000},
            "cap_period": "month",
            "approved_merchants": [self.a["bookshop"], self.a["club"]],
            "funders": [self.a["region"], self.a["dept"]],
            **overrides,
        }
        r = await ledger.client.put(f"{BASE}/programme", json=body, headers=ledger.headers)
        assert r.status_code == 200, r.text
        return self

    async def grant_raw(self, funder: str, amount: int, **extra: Any) -> httpx.Response:
        body = {
            "funder_account_id": self.a[funder],
            "beneficiary_account_id": self.a["youth"],
            "amount": amount,
            "expires_at": soon(days=30),
            **extra,
        }
        return await self.ledger.client.post(
            f"{BASE}/credits", json=body, headers=self.ledger.headers
        )

    async def grant(self, funder: str, amount: int, **extra: Any) -> dict[str, Any]:
        r = await self.grant_raw(funder, amount, **extra)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def buy(self, merchant: str, amount: int, **extra: Any) -> httpx.Response:
        body = {
            "beneficiary_account_id": self.a["youth"],
            "merchant_account_id": self.a[merchant],
            "amount": amount,
            **extra,
        }
        return await self.ledger.client.post(
            f"{BASE}/purchases", json=body, headers=self.ledger.headers
        )

    async def posted(self, name: str) -> int:
        return int((await self.ledger.balance(self.a[name]))["posted"])

    async def report(self) -> dict[str, dict[str, Any]]:
        r = await self.ledger.client.get(f"{BASE}/programme-report", headers=self.ledger.headers)
        assert r.status_code == 200, r.text
        return {item["funder_account_id"]: item for item in r.json()["items"]}

    async def sweep(self) -> dict[str, Any]:
        r = await self.ledger.client.post(f"{BASE}/expiry-sweeps", headers=self.ledger.headers)
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture
async def programme(ledger: Ledger) -> Programme:
    return await Programme(ledger).setup()


async def test_purchase_spends_the_earliest_expiring_lot_first_and_names_its_funder(
    programme: Programme,
) -> None:
    region_lot = await programme.grant("region", 2_000, expires_at=soon(days=30))
    dept_lot = await programme.grant("dept", 1_500, expires_at=soon(days=10))
    assert region_lot["transaction"]["kind"] == "programme_credit"
    assert region_lot["lot"]["remaining"] == 2_000
    assert await programme.posted("youth") == 3_500

    r = await programme.buy("bookshop", 2_500)
    assert r.status_code == 201, r.text
    bought = r.json()
    assert bought["category"] == "books"
    assert bought["transaction"]["kind"] == "programme_purchase"
    assert [(d["lot_id"], d["amount"]) for d in bought["draws"]] == [
        (dept_lot["lot"]["id"], 1_500),
        (region_lot["lot"]["id"], 1_000),
    ]
    assert await programme.posted("youth") == 1_000
    assert await programme.posted("bookshop") == 2_500

    report = await programme.report()
    region, dept = report[programme.a["region"]], report[programme.a["dept"]]
    assert (region["granted"], region["spent"], region["outstanding"]) == (2_000, 1_000, 1_000)
    assert (dept["granted"], dept["spent"], dept["outstanding"]) == (1_500, 1_500, 0)
    assert region["by_category"] == [{"category": "books", "amount": 1_000}]
    assert region["by_merchant"] == [
        {"merchant_account_id": programme.a["bookshop"], "amount": 1_000}
    ]


async def test_voucher_purchases_count_in_the_currency_figures(programme: Programme) -> None:
    await programme.grant("region", 2_000)
    assert (await programme.buy("bookshop", 1_200)).status_code == 201
    assert (await programme.buy("club", 300)).status_code == 201

    r = await programme.ledger.client.get(
        f"{BASE}/figures", params={"window_days": 1}, headers=programme.ledger.headers
    )

    assert r.status_code == 200, r.text
    # The setup's two plain transfers funding the funders (2 × 100000) and the two purchases
    # (1200 + 300); the grant (a programme_credit) is not spending.
    assert (r.json()["transfer_count"], r.json()["transfer_volume"]) == (4, 201_500)


async def test_purchases_refused_by_the_programme_rules_write_nothing(
    programme: Programme,
) -> None:
    await programme.grant("region", 5_000)
    await programme.grant("dept", 500, categories=["sport"], expires_at=soon(days=20))

    await expect_problem(await programme.buy("casino", 100), 422, "merchant-not-approved")
    await expect_problem(
        await programme.buy("bookshop", 100, category="games"), 422, "category-not-allowed"
    )
    assert (await programme.buy("bookshop", 2_500)).status_code == 201
    # 2,500 of a 3,000 monthly books cap spent: 600 more would pass it, 500 does not
    await expect_problem(await programme.buy("bookshop", 600), 409, "category-cap-exceeded")
    assert (await programme.buy("bookshop", 500)).status_code == 201
    # the sport-only lot cannot pay for culture; 2,000 culture credit is left in the region lot
    await expect_problem(
        await programme.buy("bookshop", 2_100, category="culture"),
        409,
        "insufficient-voucher-credit",
    )
    # the sport lot expires first, so it pays first; the region lot pays the rest
    assert (await programme.buy("club", 700)).status_code == 201
    assert await programme.posted("youth") == 5_500 - 3_000 - 700
    assert await programme.posted("casino") == 0
    report = await programme.report()
    assert report[programme.a["dept"]]["by_category"] == [{"category": "sport", "amount": 500}]
    assert report[programme.a["region"]]["by_category"] == [
        {"category": "books", "amount": 3_000},
        {"category": "sport", "amount": 200},
    ]
    await expect_problem(await programme.buy("bookshop", 0), 422, "validation-failed")


async def test_expired_lots_sweep_back_to_their_funder_once(
    programme: Programme, ledger: Ledger
) -> None:
    short = await programme.grant("dept", 800, expires_at=soon(seconds=1))
    await programme.grant("region", 300)
    assert await programme.sweep() == {
        "currency": PASS,
        "lots_swept": 0,
        "transactions": 0,
        "amount_swept": 0,
        "more": False,
    }
    await asyncio.sleep(1.2)
    # the expired lot can no longer pay
    await expect_problem(await programme.buy("bookshop", 500), 409, "insufficient-voucher-credit")
    assert (await programme.report())[programme.a["dept"]]["expired_unswept"] == 800

    swept = await programme.sweep()
    assert (swept["lots_swept"], swept["transactions"], swept["amount_swept"]) == (1, 1, 800)
    assert (await programme.sweep())["lots_swept"] == 0  # idempotent
    (expired,) = await outbox_events(ledger, "proxima.ledger.voucher_lot.expired.v1")
    assert expired["lot_id"] == short["lot"]["id"] and expired["amount"] == 800
    assert expired["funder_account_id"] == programme.a["dept"]
    posted = await outbox_events(ledger, "proxima.ledger.transaction.posted.v1")
    assert [e["kind"] for e in posted if e["transaction_id"] == expired["transaction_id"]] == [
        "programme_expiry"
    ]
    assert await programme.posted("dept") == 100_000
    assert await programme.posted("youth") == 300
    dept = (await programme.report())[programme.a["dept"]]
    assert (dept["swept"], dept["expired_unswept"], dept["spent"]) == (800, 0, 0)

    r = await ledger.client.get(
        f"{BASE}/credits",
        params={"beneficiary": programme.a["youth"], "limit": 1},
        headers=ledger.headers,
    )
    assert r.status_code == 200, r.text
    first = r.json()
    assert [lot["id"] for lot in first["items"]] == [short["lot"]["id"]]
    assert first["items"][0]["remaining"] == 0
    r = await ledger.client.get(
        f"{BASE}/credits",
        params={"beneficiary": programme.a["youth"], "cursor": first["next_cursor"]},
        headers=ledger.headers,
    )
    assert [lot["remaining"] for lot in r.json()["items"]] == [300]
    assert r.json()["next_cursor"] is None


async def test_grants_check_funder_beneficiary_expiry_and_earmarks(
    programme: Programme,
) -> None:
    await expect_problem(await programme.grant_raw("bookshop", 100), 422, "funder-not-approved")
    await expect_problem(
        await programme.grant_raw("region", 100, expires_at=soon(seconds=-1)),
        422,
        "invalid-lot-expiry",
    )
    await expect_problem(
        await programme.grant_raw("region", 100, expires_at="2030-01-01T00:00:00"),
        422,
        "validation-failed",
    )
    await expect_problem(
        await programme.grant_raw("region", 100, categories=["casino"]),
        422,
        "category-not-allowed",
    )
    await expect_problem(await programme.grant_raw("region", 200_000), 409, "insufficient-funds")
    body = {
        "funder_account_id": programme.a["region"],
        "beneficiary_account_id": programme.a["club"],
        "amount": 100,
        "expires_at": soon(days=1),
    }
    r = await programme.ledger.client.post(
        f"{BASE}/credits", json=body, headers=programme.ledger.headers
    )
    await expect_problem(r, 422, "invalid-programme-account")
    assert await programme.posted("youth") == 0


async def test_grants_and_purchases_are_idempotent(programme: Programme) -> None:
    expires = soon(days=5)
    first = await programme.grant_raw("region", 1_000, expires_at=expires, idempotency_key="g1")
    again = await programme.grant_raw("region", 1_000, expires_at=expires, idempotency_key="g1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    await expect_problem(
        await programme.grant_raw("region", 999, expires_at=expires, idempotency_key="g1"),
        409,
        "idempotency-key-reused",
    )
    paid = await programme.buy("bookshop", 400, idempotency_key="p1")
    replay = await programme.buy("bookshop", 400, idempotency_key="p1")
    assert (paid.status_code, replay.status_code) == (201, 200)
    assert await programme.posted("youth") == 600


async def test_programme_configuration_is_validated(ledger: Ledger) -> None:
    await expect_problem(
        await ledger.client.put(
            "/currencies/GONETTE/programme",
            json={"allowed_categories": ["books"], "funders": [await ledger.account()]},
            headers=ledger.headers,
        ),
        422,
        "not-a-voucher-currency",
    )
    await ledger.currency(PASS, "voucher")
    funder = await ledger.account(PASS, "programme")
    member = await ledger.account(PASS, "member")
    foreign_shop = await ledger.account(type="merchant")

    async def put(**body: Any) -> httpx.Response:
        return await ledger.client.put(f"{BASE}/programme", json=body, headers=ledger.headers)

    await expect_problem(
        await ledger.client.post(
            f"{BASE}/purchases",
            json={"beneficiary_account_id": member, "merchant_account_id": member, "amount": 1},
            headers=ledger.headers,
        ),
        409,
        "programme-not-configured",
    )
    await expect_problem(
        await put(allowed_categories=["books"], category_caps={"sport": 10}, funders=[funder]),
        422,
        "invalid-programme-rules",
    )
    await expect_problem(
        await put(allowed_categories=["books"], category_caps={"books": -1}, funders=[funder]),
        422,
        "invalid-programme-rules",
    )
    await expect_problem(
        await put(allowed_categories=["books"], funders=[member]), 422, "invalid-programme-account"
    )
    await expect_problem(
        await put(
            allowed_categories=["books"], funders=[funder], approved_merchants=[foreign_shop]
        ),
        422,
        "currency-mismatch",
    )
    await expect_problem(
        await put(allowed_categories=[], funders=[funder]), 422, "validation-failed"
    )
    ok = await put(allowed_categories=["books"], funders=[funder])
    assert ok.status_code == 200, ok.text
    r = await ledger.client.get(f"{BASE}/programme", headers=ledger.headers)
    assert r.json()["funders"] == [funder] and r.json()["cap_period"] == "month"


async def test_programme_routes_check_scopes_and_tenants(programme: Programme) -> None:
    client = programme.ledger.client
    reader = operator(PASS, scopes=("ledger:read",))
    other = operator("GONETTE")
    body = {"allowed_categories": ["books"], "funders": [programme.a["region"]]}
    await expect_problem(
        await client.put(f"{BASE}/programme", json=body, headers=reader), 403, "forbidden"
    )
    await expect_problem(
        await client.post(f"{BASE}/expiry-sweeps", headers=reader), 403, "forbidden"
    )
    for method, path in (
        ("GET", "/programme-report"),
        ("GET", "/credits"),
        ("GET", "/programme"),
        ("POST", "/expiry-sweeps"),
    ):
        r = await client.request(method, f"{BASE}{path}", headers=other)
        await expect_problem(r, 403, "forbidden")
    assert (await client.get(f"{BASE}/programme-report", headers=reader)).status_code == 200
    r = await client.get(f"{BASE}/programme-report", params={"cursor": "%%%"}, headers=reader)
    await expect_problem(r, 422, "invalid-cursor")


async def test_the_database_guards_lots_and_draws(
    programme: Programme, ledger_db: str, engine_for: Callable[[str], AsyncEngine]
) -> None:
    lot = (await programme.grant("region", 1_000))["lot"]
    assert (await programme.buy("bookshop", 100)).status_code == 201
    engine = engine_for(ledger_db)
    for statement in (
        "UPDATE credit_lots SET remaining = -1 WHERE id = :lot",
        "UPDATE credit_lots SET remaining = amount + 1 WHERE id = :lot",
        "UPDATE lot_draws SET amount = 1 WHERE lot_id = :lot",
        "DELETE FROM lot_draws WHERE lot_id = :lot",
    ):
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(text(statement), {"lot": lot["id"]})


async def test_beneficiary_credit_leaves_only_through_purchases_and_sweeps(
    programme: Programme, ledger: Ledger
) -> None:
    await programme.grant("region", 1_000)
    youth, shop = programme.a["youth"], programme.a["casino"]
    for kind in ("transfer", "programme_purchase"):
        r = await ledger.transfer(youth, shop, 100, PASS, kind=kind)
        await expect_problem(r, 422, "voucher-credit-restricted")
    item = {
        "postings": [
            {"account_id": youth, "currency": PASS, "amount": -100},
            {"account_id": shop, "currency": PASS, "amount": 100},
        ]
    }
    r = await ledger.client.post("/batches", json={"items": [item]}, headers=ledger.headers)
    await expect_problem(r, 422, "voucher-credit-restricted")
    hold = {
        "payer": youth,
        "payee": shop,
        "currency": PASS,
        "amount": 100,
        "expires_at": soon(minutes=5),
    }
    r = await ledger.client.post("/holds", json=hold, headers=ledger.headers)
    await expect_problem(r, 422, "voucher-credit-restricted")
    assert await programme.posted("youth") == 1_000
    # funders and merchants of a voucher currency move freely
    assert (
        await ledger.transfer(programme.a["region"], programme.a["dept"], 10, PASS)
    ).status_code == 201


async def test_programme_movements_are_not_reversed(programme: Programme, ledger: Ledger) -> None:
    granted = await programme.grant("region", 1_000)
    bought = (await programme.buy("bookshop", 300)).json()
    for tx in (granted["transaction"], bought["transaction"]):
        r = await ledger.client.post(
            f"/transactions/{tx['id']}/reversal", json={}, headers=ledger.headers
        )
        await expect_problem(r, 422, "voucher-credit-restricted")
    assert await programme.posted("youth") == 700


async def test_concurrent_purchases_and_sweeps_never_overspend(programme: Programme) -> None:
    await programme.grant("region", 1_000)
    results = await asyncio.gather(*(programme.buy("bookshop", 150) for _ in range(12)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] * 6 + [409] * 6, [r.text for r in results if r.status_code >= 500]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {
        "insufficient-voucher-credit"
    }
    assert await programme.posted("youth") == 100
    assert await programme.posted("bookshop") == 900

    await programme.grant("dept", 400, expires_at=soon(seconds=1))
    await asyncio.sleep(1.2)
    sweeps = await asyncio.gather(*(programme.sweep() for _ in range(4)))
    assert sum(s["amount_swept"] for s in sweeps) == 400
    assert await programme.posted("dept") == 100_000
