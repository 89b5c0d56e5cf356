"""Two-phase holds (authorize, capture, void, expire) and batches (atomic, independent)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.ledger.ledger_support import CURRENCY, Ledger
from tests.integration.ledger.test_ledger_api_transactions import expect_problem
from tests.support.waiting import eventually


def later(seconds: float = 3600) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def hold(ledger: Ledger, payer: str, payee: str, amount: int, **extra: Any) -> Any:
    body = {
        "payer": payer,
        "payee": payee,
        "currency": CURRENCY,
        "amount": amount,
        "expires_at": later(),
        **extra,
    }
    return await ledger.client.post("/holds", json=body, headers=ledger.headers)


async def test_a_hold_reduces_available_and_a_partial_capture_releases_the_rest(
    ledger: Ledger,
) -> None:
    issuer, member = await ledger.funded(1000)
    merchant = await ledger.account(type="merchant")
    h = await hold(ledger, member, merchant, 600)
    assert h.status_code == 201, h.text
    assert await ledger.balance(member) == {
        **await ledger.balance(member),
        "posted": 1000,
        "held": 600,
        "available": 400,
    }
    await expect_problem(await ledger.transfer(member, merchant, 401), 409, "insufficient-funds")
    await expect_problem(await hold(ledger, member, merchant, 401), 409, "insufficient-funds")
    hold_id = h.json()["id"]
    over = await ledger.client.post(
        f"/holds/{hold_id}/capture", json={"amount": 601}, headers=ledger.headers
    )
    await expect_problem(over, 422, "capture-exceeds-hold")
    cap = await ledger.client.post(
        f"/holds/{hold_id}/capture", json={"amount": 250}, headers=ledger.headers
    )
    assert cap.status_code == 200, cap.text
    assert cap.json()["status"] == "captured" and cap.json()["transaction_id"]
    member_balance = await ledger.balance(member)
    assert (member_balance["posted"], member_balance["held"]) == (750, 0)
    assert (await ledger.balance(merchant))["posted"] == 250
    again = await ledger.client.post(f"/holds/{hold_id}/void", headers=ledger.headers)
    await expect_problem(again, 409, "hold-not-authorized")


async def test_a_voided_hold_releases_everything(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    merchant = await ledger.account(type="merchant")
    hold_id = (await hold(ledger, member, merchant, 600)).json()["id"]
    voided = await ledger.client.post(f"/holds/{hold_id}/void", headers=ledger.headers)
    assert voided.json()["status"] == "voided"
    assert (await ledger.balance(member))["available"] == 1000
    cap = await ledger.client.post(f"/holds/{hold_id}/capture", json={}, headers=ledger.headers)
    await expect_problem(cap, 409, "hold-not-authorized")


async def test_holds_expire_in_the_background_and_cannot_be_captured_late(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    merchant = await ledger.account(type="merchant")
    h = await hold(ledger, member, merchant, 300, expires_at=later(0.5))
    hold_id = h.json()["id"]
    await asyncio.sleep(0.6)

    async def status() -> str:
        r = await ledger.client.get(f"/holds/{hold_id}", headers=ledger.headers)
        return str(r.json()["status"])

    await eventually(status, lambda s: s == "expired", timeout=10)
    assert (await ledger.balance(member))["held"] == 0
    cap = await ledger.client.post(f"/holds/{hold_id}/capture", json={}, headers=ledger.headers)
    await expect_problem(cap, 409, "hold-not-authorized")


async def test_hold_refusals(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    merchant = await ledger.account(type="merchant")
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    await expect_problem(
        await hold(ledger, member, merchant, 10, expires_at=past), 422, "invalid-hold-expiry"
    )
    await expect_problem(await hold(ledger, member, member, 10), 422, "duplicate-account-posting")
    await expect_problem(await hold(ledger, member, merchant, 0), 422, "validation-failed")
    naive = datetime.now().replace(tzinfo=None).isoformat()
    await expect_problem(
        await hold(ledger, member, merchant, 1, expires_at=naive), 422, "validation-failed"
    )
    missing = await ledger.client.post(
        "/holds/01890000-0000-7000-8000-000000000000/void", headers=ledger.headers
    )
    await expect_problem(missing, 404, "not-found")
    assert (await ledger.balance(member))["held"] == 0


async def test_hold_idempotency(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    merchant = await ledger.account(type="merchant")
    expires = later()
    body = {
        "payer": member,
        "payee": merchant,
        "currency": CURRENCY,
        "amount": 100,
        "expires_at": expires,
        "idempotency_key": "card-1",
    }
    first = await ledger.client.post("/holds", json=body, headers=ledger.headers)
    again = await ledger.client.post("/holds", json=body, headers=ledger.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert (await ledger.balance(member))["held"] == 100


def transfer_item(source: str, dest: str, amount: int) -> dict[str, Any]:
    return {
        "postings": [
            {"account_id": source, "currency": CURRENCY, "amount": -amount},
            {"account_id": dest, "currency": CURRENCY, "amount": amount},
        ]
    }


async def test_an_atomic_batch_of_1000_posts_everything(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(100_000)
    merchant = await ledger.account(type="merchant")
    items = [transfer_item(member, merchant, 1) for _ in range(1000)]
    r = await ledger.client.post("/batches", json={"items": items}, headers=ledger.headers)
    assert r.status_code == 201, r.text
    assert r.json()["posted"] == 1000 and r.json()["failed"] == 0
    assert (await ledger.balance(merchant))["posted"] == 1000
    too_many = await ledger.client.post(
        "/batches", json={"items": items + items[:1]}, headers=ledger.headers
    )
    await expect_problem(too_many, 422, "validation-failed")


async def test_an_atomic_batch_with_one_bad_item_writes_nothing(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(100)
    merchant = await ledger.account(type="merchant")
    items = [transfer_item(member, merchant, 60), transfer_item(member, merchant, 60)]
    r = await ledger.client.post("/batches", json={"items": items}, headers=ledger.headers)
    await expect_problem(r, 409, "insufficient-funds")
    assert r.json()["item"] == 1
    assert (await ledger.balance(member))["posted"] == 100


async def test_an_independent_batch_reports_each_item(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(100)
    merchant = await ledger.account(type="merchant")
    items = [
        transfer_item(member, merchant, 60),
        transfer_item(member, merchant, 60),
        transfer_item(member, merchant, 40),
    ]
    r = await ledger.client.post(
        "/batches", json={"mode": "independent", "items": items}, headers=ledger.headers
    )
    assert r.status_code == 201, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 409, 201]
    assert results[1]["problem"]["code"] == "insufficient-funds"
    assert (await ledger.balance(merchant))["posted"] == 100


async def test_a_batch_replayed_under_its_key_returns_the_original_response(
    ledger: Ledger,
) -> None:
    issuer, member = await ledger.funded(1_000)
    merchant = await ledger.account(type="merchant")
    items = [transfer_item(member, merchant, n) for n in (1, 2, 3)]
    items[1]["metadata"] = {"z": "dernière", "a": "1"}
    items[2]["description"] = 'café "3"'
    headers = {**ledger.headers, "Idempotency-Key": "batch-1"}
    first = await ledger.client.post("/batches", json={"items": items}, headers=headers)
    assert first.status_code == 201, first.text
    # the same body again, its metadata keys in another order and the key in the body
    items[1]["metadata"] = {"a": "1", "z": "dernière"}
    again = await ledger.client.post(
        "/batches", json={"items": items, "idempotency_key": "batch-1"}, headers=ledger.headers
    )
    assert again.status_code == 200, again.text
    assert again.content == first.content
    assert (await ledger.balance(merchant))["posted"] == 6
    other = await ledger.client.post("/batches", json={"items": items[:2]}, headers=headers)
    await expect_problem(other, 409, "idempotency-key-reused")


async def test_an_independent_batch_replays_its_refusals(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(100)
    merchant = await ledger.account(type="merchant")
    items = [transfer_item(member, merchant, 60), transfer_item(member, merchant, 60)]
    body = {"mode": "independent", "items": items}
    headers = {**ledger.headers, "Idempotency-Key": "batch-2"}
    first = await ledger.client.post("/batches", json=body, headers=headers)
    again = await ledger.client.post("/batches", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert [x["status"] for x in again.json()["results"]] == [201, 409]
