"""Payment requests: a merchant's holder asks a member's account for an amount, and only the
member's principal (its holder, a mandate within its limits, or the operator) accepting it
moves money, once; declines, cancellations, expired requests and strangers move nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.ledger.ledger_support import CURRENCY, OTHER, Ledger, operator
from tests.integration.ledger.test_ledger_api_transactions import expect_problem

MEMBER_APP, TERMINAL, STRANGER = "member-app", "merchant-terminal", "stranger-app"
CLIENT_SCOPES = ("ledger:post", "ledger:read")


def client_headers(client_id: str, *currencies: str) -> dict[str, str]:
    """A member's or a merchant's client: bound to the currency, posting and reading, no
    operator scope."""
    return operator(*(currencies or (CURRENCY,)), scopes=CLIENT_SCOPES, client_id=client_id)


@dataclass
class Parties:
    ledger: Ledger
    member: str
    merchant: str
    member_app: dict[str, str]
    terminal: dict[str, str]
    stranger: dict[str, str]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.ledger.client

    async def ask(self, amount: int = 250, **extra: Any) -> httpx.Response:
        body = {
            "payee_account_id": self.merchant,
            "payer_account_id": self.member,
            "amount": amount,
            "description": "bread and cheese",
            **extra,
        }
        return await self.client.post("/payment-requests", json=body, headers=self.terminal)

    async def asked(self, amount: int = 250, **extra: Any) -> dict[str, Any]:
        r = await self.ask(amount, **extra)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def act(self, request_id: str, what: str, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(f"/payment-requests/{request_id}/{what}", headers=headers)

    async def read(self, request_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(
            f"/payment-requests/{request_id}", headers=headers or self.member_app
        )

    async def balances(self) -> tuple[int, int]:
        member = await self.ledger.balance(self.member)
        merchant = await self.ledger.balance(self.merchant)
        return member["posted"], merchant["posted"]


async def parties(ledger: Ledger) -> Parties:
    """A member holding 1,000 (held by its wallet app) and a merchant (held by its
    terminal); a stranger bound to the currency with ``ledger:post`` holds neither."""
    issuer = await ledger.account(type="issuer")
    member = await ledger.account(type="member", holder=MEMBER_APP)
    merchant = await ledger.account(type="merchant", holder=TERMINAL)
    r = await ledger.transfer(issuer, member, 1_000)
    assert r.status_code == 201, r.text
    return Parties(
        ledger,
        member,
        merchant,
        client_headers(MEMBER_APP),
        client_headers(TERMINAL),
        client_headers(STRANGER),
    )


async def authorities(engine: AsyncEngine, transaction_id: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT account_id, basis, principal, amount FROM posting_authorities "
                "WHERE transaction_id = :t"
            ),
            {"t": UUID(transaction_id)},
        )
        return [tuple(row) for row in rows]


async def test_the_merchant_asks_and_the_member_accepts_once(
    ledger: Ledger, ledger_db: str, engine_for: Callable[[str], AsyncEngine]
) -> None:
    p = await parties(ledger)
    before = datetime.now(UTC)
    asked = await p.asked(250)
    assert (asked["status"], asked["requested_by"], asked["amount"]) == ("pending", TERMINAL, 250)
    assert (asked["payer_account_id"], asked["payee_account_id"]) == (p.member, p.merchant)
    assert asked["currency"] == CURRENCY and asked["transaction_id"] is None
    expires = datetime.fromisoformat(asked["expires_at"])
    assert before + timedelta(days=7) <= expires <= datetime.now(UTC) + timedelta(days=7)
    assert await p.balances() == (1_000, 0)  # asking moves nothing

    seen = await p.read(asked["id"])
    assert seen.status_code == 200 and seen.json() == asked

    accepted = await p.act(asked["id"], "acceptance", p.member_app)
    assert accepted.status_code == 200, accepted.text
    done = accepted.json()
    assert (done["status"], done["decided_by"]) == ("accepted", MEMBER_APP)
    tx = done["transaction"]
    assert done["transaction_id"] == tx["id"]
    assert tx["kind"] == "payment_request" and tx["description"] == "bread and cheese"
    assert tx["metadata"]["payment_request_id"] == asked["id"]
    assert sorted((q["account_id"], q["amount"]) for q in tx["postings"]) == sorted(
        [(p.member, -250), (p.merchant, 250)]
    )
    assert await p.balances() == (750, 250)
    assert await authorities(engine_for(ledger_db), tx["id"]) == [
        (UUID(p.member), "holder", MEMBER_APP, 250)
    ]

    # accepted once: a second acceptance is refused and moves nothing more
    await expect_problem(
        await p.act(asked["id"], "acceptance", p.member_app), 409, "payment-request-not-pending"
    )
    await expect_problem(
        await p.act(asked["id"], "decline", p.member_app), 409, "payment-request-not-pending"
    )
    assert await p.balances() == (750, 250)
    again = (await p.read(asked["id"], p.terminal)).json()
    assert (again["status"], again["transaction_id"]) == ("accepted", tx["id"])


async def test_only_the_payers_principal_may_accept(ledger: Ledger) -> None:
    p = await parties(ledger)
    asked = await p.asked(250)
    # a stranger bound to the currency with ledger:post, and the payee itself
    for headers in (p.stranger, p.terminal):
        await expect_problem(
            await p.act(asked["id"], "acceptance", headers), 403, "no-debit-authority"
        )
        await expect_problem(
            await p.act(asked["id"], "decline", headers), 403, "no-debit-authority"
        )
    await expect_problem(
        await p.act(asked["id"], "cancellation", p.stranger), 403, "no-debit-authority"
    )
    # a client of another currency is refused by its binding first
    await expect_problem(
        await p.act(asked["id"], "acceptance", client_headers(MEMBER_APP, OTHER)), 403, "forbidden"
    )
    assert await p.balances() == (1_000, 0)
    assert (await p.read(asked["id"])).json()["status"] == "pending"
    # nor may anyone but the payee's holder (or the operator) ask into the merchant's account
    body = {"payee_account_id": p.merchant, "payer_account_id": p.member, "amount": 5}
    r = await p.client.post("/payment-requests", json=body, headers=p.stranger)
    await expect_problem(r, 403, "no-debit-authority")
    # the operator may act for a member without an app
    by_operator = await p.act(asked["id"], "acceptance", ledger.headers)
    assert by_operator.status_code == 200, by_operator.text
    assert by_operator.json()["decided_by"] == "operator"
    assert await p.balances() == (750, 250)


async def test_a_mandate_accepts_within_its_limits(
    ledger: Ledger, ledger_db: str, engine_for: Callable[[str], AsyncEngine]
) -> None:
    p = await parties(ledger)
    mandate = {
        "grantee": "budget-app",
        "max_per_payment": 100,
        "max_per_period": 1_000,
        "expires_at": "2099-01-01T00:00:00Z",
    }
    r = await p.client.post(f"/accounts/{p.member}/mandates", json=mandate, headers=p.member_app)
    assert r.status_code == 201, r.text
    budget = client_headers("budget-app")
    large, small = await p.asked(250), await p.asked(80)
    await expect_problem(
        await p.act(large["id"], "acceptance", budget), 403, "mandate-limit-exceeded"
    )
    accepted = await p.act(small["id"], "acceptance", budget)
    assert accepted.status_code == 200, accepted.text
    tx_id = accepted.json()["transaction"]["id"]
    assert [row[1:] for row in await authorities(engine_for(ledger_db), tx_id)] == [
        ("mandate", "budget-app", 80)
    ]
    assert await p.balances() == (920, 80)


async def test_declines_and_cancellations_move_nothing(ledger: Ledger) -> None:
    p = await parties(ledger)
    declined, cancelled = await p.asked(100), await p.asked(200)

    r = await p.act(declined["id"], "decline", p.member_app)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decided_by"]) == ("declined", MEMBER_APP)
    assert r.json()["transaction_id"] is None

    await expect_problem(
        await p.act(cancelled["id"], "cancellation", p.member_app), 403, "no-debit-authority"
    )
    r = await p.act(cancelled["id"], "cancellation", p.terminal)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decided_by"]) == ("cancelled", TERMINAL)

    for request_id in (declined["id"], cancelled["id"]):
        await expect_problem(
            await p.act(request_id, "acceptance", p.member_app), 409, "payment-request-not-pending"
        )
        await expect_problem(
            await p.act(request_id, "cancellation", p.terminal), 409, "payment-request-not-pending"
        )
    assert await p.balances() == (1_000, 0)


async def test_an_expired_request_cannot_be_accepted(ledger: Ledger) -> None:
    p = await parties(ledger)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    asked = await p.asked(300, expires_at=soon.isoformat())
    live = await p.asked(10)
    await asyncio.sleep(1.2)
    assert (await p.read(asked["id"])).json()["status"] == "expired"
    for what, headers in (
        ("acceptance", p.member_app),
        ("decline", p.member_app),
        ("cancellation", p.terminal),
    ):
        await expect_problem(
            await p.act(asked["id"], what, headers), 409, "payment-request-expired"
        )
    assert await p.balances() == (1_000, 0)
    listed = await p.client.get(
        "/payment-requests",
        params={"account_id": p.member, "status": "expired"},
        headers=p.member_app,
    )
    assert [x["id"] for x in listed.json()["items"]] == [asked["id"]]
    pending = await p.client.get(
        "/payment-requests",
        params={"account_id": p.member, "status": "pending"},
        headers=p.member_app,
    )
    assert [x["id"] for x in pending.json()["items"]] == [live["id"]]


async def test_invalid_requests_are_refused_and_record_nothing(ledger: Ledger) -> None:
    p = await parties(ledger)
    await ledger.currency(OTHER)
    elsewhere = await ledger.account(OTHER, "member")
    frozen = await ledger.account(type="member")
    r = await p.client.post(
        f"/accounts/{frozen}/status", json={"status": "frozen"}, headers=ledger.headers
    )
    assert r.status_code == 200, r.text
    now = datetime.now(UTC)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"payer_account_id": p.merchant}, 422, "payment-request-payer-is-payee"),
        (
            {"expires_at": (now + timedelta(days=31)).isoformat()},
            422,
            "invalid-payment-request-expiry",
        ),
        (
            {"expires_at": (now - timedelta(minutes=1)).isoformat()},
            422,
            "invalid-payment-request-expiry",
        ),
        ({"expires_at": "2030-01-01T00:00:00"}, 422, "validation-failed"),  # naive
        ({"amount": 0}, 422, "validation-failed"),
        ({"amount": "5"}, 422, "validation-failed"),
        ({"payer_account_id": frozen}, 409, "account-frozen"),
        ({"payer_account_id": "01890000-0000-7000-8000-000000000000"}, 422, "unknown-account"),
    ]
    for extra, status, code in cases:
        body = {"payee_account_id": p.merchant, "payer_account_id": p.member, "amount": 5}
        r = await p.client.post("/payment-requests", json={**body, **extra}, headers=p.terminal)
        await expect_problem(r, status, code)
    # an account of another currency: refused by the terminal's binding, and to the
    # operator of both currencies as a currency mismatch
    body = {"payee_account_id": p.merchant, "payer_account_id": elsewhere, "amount": 5}
    r = await p.client.post("/payment-requests", json=body, headers=p.terminal)
    await expect_problem(r, 403, "forbidden")
    r = await p.client.post("/payment-requests", json=body, headers=ledger.headers)
    await expect_problem(r, 422, "currency-mismatch")
    listed = await p.client.get(
        "/payment-requests", params={"account_id": p.merchant}, headers=p.terminal
    )
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_listing_paginates_and_reads_are_refused_to_strangers(ledger: Ledger) -> None:
    p = await parties(ledger)
    other_member = await ledger.account(type="member", holder="other-app")
    ids = [(await p.asked(amount))["id"] for amount in (10, 20, 30)]
    body = {"payee_account_id": p.merchant, "payer_account_id": other_member, "amount": 40}
    r = await p.client.post("/payment-requests", json=body, headers=p.terminal)
    assert r.status_code == 201, r.text
    not_the_members = r.json()["id"]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"account_id": p.member, "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        got = await p.client.get("/payment-requests", params=params, headers=p.member_app)
        assert got.status_code == 200, got.text
        seen += [x["id"] for x in got.json()["items"]]
        cursor, pages = got.json()["next_cursor"], pages + 1
        if cursor is None:
            break
    assert seen == ids and pages == 2
    merchant_side = await p.client.get(
        "/payment-requests", params={"account_id": p.merchant}, headers=p.terminal
    )
    assert [x["id"] for x in merchant_side.json()["items"]] == [*ids, not_the_members]
    await expect_problem(
        await p.client.get(
            "/payment-requests",
            params={"account_id": p.member, "cursor": "not-ours!"},
            headers=p.member_app,
        ),
        422,
        "invalid-cursor",
    )

    # the member reads its own requests, not another member's; strangers read none
    await expect_problem(await p.read(not_the_members, p.member_app), 403, "no-read-authority")
    await expect_problem(await p.read(ids[0], p.stranger), 403, "no-read-authority")
    await expect_problem(
        await p.client.get(
            "/payment-requests", params={"account_id": p.member}, headers=p.stranger
        ),
        403,
        "no-read-authority",
    )
    await expect_problem(await p.read(ids[0], client_headers(MEMBER_APP, OTHER)), 403, "forbidden")
    missing = "01890000-0000-7000-8000-000000000000"
    await expect_problem(await p.read(missing), 404, "not-found")
    await expect_problem(await p.act(missing, "acceptance", p.member_app), 404, "not-found")
