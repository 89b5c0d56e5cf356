"""Nobody reads or writes outside their credentials: scopes and currency tenants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.routing import APIRoute

from services.ledger.accounts import router as accounts
from services.ledger.authority import router as authority
from services.ledger.currencies import router as currencies
from services.ledger.demurrage import router as demurrage
from services.ledger.holds import router as holds
from services.ledger.payment_requests import router as payment_requests
from services.ledger.transactions import router as transactions
from shared.auth import declared_scopes
from tests.integration.ledger.ledger_support import CURRENCY, OTHER, Ledger, operator
from tests.integration.ledger.test_ledger_api_transactions import expect_problem


def test_every_ledger_route_declares_a_scope() -> None:
    routes = [
        route
        for router in (
            accounts.router,
            authority.router,
            transactions.batch_router,
            currencies.router,
            holds.router,
            payment_requests.router,
            currencies.reserve_router,
            demurrage.router,
            transactions.router,
        )
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    # 28 + statement.csv + holder + 4 of mandates and grant links + 6 of payment requests
    assert len(routes) == 40
    for route in routes:
        assert declared_scopes(route), route.path


async def test_an_operator_of_one_currency_cannot_touch_another(ledger: Ledger) -> None:
    await ledger.currency(OTHER)
    issuer_b = await ledger.account(OTHER, "issuer")
    member_b = await ledger.account(OTHER, "member")
    tx = (await ledger.transfer(issuer_b, member_b, 100, OTHER)).json()
    only_a = operator(CURRENCY)
    client = ledger.client
    body = {
        "postings": [
            {"account_id": member_b, "currency": OTHER, "amount": -1},
            {"account_id": issuer_b, "currency": OTHER, "amount": 1},
        ]
    }
    attempts = [
        client.get(f"/accounts/{member_b}", headers=only_a),
        client.get(f"/accounts/{member_b}/balance", headers=only_a),
        client.get(f"/accounts/{member_b}/postings", headers=only_a),
        client.get(f"/accounts?currency={OTHER}", headers=only_a),
        client.get(f"/transactions?currency={OTHER}", headers=only_a),
        client.get(f"/transactions/{tx['id']}", headers=only_a),
        client.get(f"/currencies/{OTHER}", headers=only_a),
        client.post("/transactions", json=body, headers=only_a),
        client.post(f"/transactions/{tx['id']}/reversal", json={}, headers=only_a),
        client.post("/accounts", json={"currency": OTHER, "type": "member"}, headers=only_a),
        client.post(f"/accounts/{member_b}/status", json={"status": "frozen"}, headers=only_a),
        client.post(
            "/holds",
            json={
                "payer": member_b,
                "payee": issuer_b,
                "currency": OTHER,
                "amount": 1,
                "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            },
            headers=only_a,
        ),
        client.post("/batches", json={"mode": "atomic", "items": [body]}, headers=only_a),
    ]
    for attempt in attempts:
        await expect_problem(await attempt, 403, "forbidden")
    listing = (await client.get("/currencies", headers=only_a)).json()
    assert [c["code"] for c in listing["items"]] == [CURRENCY]
    assert (await ledger.balance(member_b))["posted"] == 100


async def test_read_scope_cannot_write_and_post_scope_cannot_administer(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(100)
    reader = operator(CURRENCY, scopes=("ledger:read",))
    poster = operator(CURRENCY, scopes=("ledger:post",))
    assert (await ledger.client.get(f"/accounts/{member}", headers=reader)).status_code == 200
    body = {
        "postings": [
            {"account_id": member, "currency": CURRENCY, "amount": -1},
            {"account_id": issuer, "currency": CURRENCY, "amount": 1},
        ]
    }
    await expect_problem(
        await ledger.client.post("/transactions", json=body, headers=reader), 403, "forbidden"
    )
    await expect_problem(
        await ledger.client.post(
            "/accounts", json={"currency": CURRENCY, "type": "member"}, headers=poster
        ),
        403,
        "forbidden",
    )
    await expect_problem(
        await ledger.client.get(f"/accounts/{member}", headers=poster), 403, "forbidden"
    )
    assert (await ledger.client.post("/transactions", json=body, headers=poster)).status_code == 201


async def test_requests_without_a_valid_token_are_refused(ledger: Ledger) -> None:
    await expect_problem(await ledger.client.get("/currencies"), 401, "unauthorized")
    bad = {"Authorization": "Bearer not-a-jwt"}
    await expect_problem(await ledger.client.get("/currencies", headers=bad), 401, "unauthorized")
