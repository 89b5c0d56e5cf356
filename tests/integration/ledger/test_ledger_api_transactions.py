"""Posting, reading and reversing transactions through the API; each refusal is a specific
problem+json and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.http.idempotency import body_digest
from services.ledger.transactions.schemas import TransactionFields
from shared.problems import PROBLEM_MEDIA_TYPE
from tests.integration.ledger.ledger_support import CURRENCY, Ledger


async def test_a_transfer_moves_money_and_is_readable(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant", territory="69123", merchant_category="food")
    r = await ledger.transfer(member, merchant, 120, description="bread")
    assert r.status_code == 201, r.text
    tx = r.json()
    assert tx["kind"] == "transfer" and tx["description"] == "bread"
    assert sorted(p["amount"] for p in tx["postings"]) == [-120, 120]
    assert (await ledger.balance(member))["available"] == 380
    assert (await ledger.balance(merchant))["posted"] == 120
    assert (await ledger.balance(issuer))["posted"] == -500
    got = await ledger.client.get(f"/transactions/{tx['id']}", headers=ledger.headers)
    assert got.status_code == 200 and got.json() == tx


async def expect_problem(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == code


async def test_refused_transfers_change_nothing(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant")
    wir = await ledger.currency("WIR", "mutual_credit", credit_limit={"max_limit": 1000})
    assert wir["code"] == "WIR"
    wir_member = await ledger.account("WIR", "member")
    unknown = "01890000-0000-7000-8000-000000000000"

    def legs(*pairs):  # type: ignore[no-untyped-def]
        return {"postings": [{"account_id": a, "currency": c, "amount": m} for a, c, m in pairs]}

    cases = [
        (legs((member, CURRENCY, 0), (merchant, CURRENCY, 0)), 422, "invalid-amount"),
        (legs((member, CURRENCY, -10)), 422, "too-few-postings"),
        (legs((member, CURRENCY, -10), (merchant, CURRENCY, 9)), 422, "unbalanced-transaction"),
        (legs((member, CURRENCY, -10), (member, CURRENCY, 10)), 422, "duplicate-account-posting"),
        (legs((member, CURRENCY, -10), (unknown, CURRENCY, 10)), 422, "unknown-account"),
        (legs((member, CURRENCY, -10), (wir_member, CURRENCY, 10)), 422, "currency-mismatch"),
        # A code the ledger does not know (FONTE is in the binding, never created) is named
        # as such, not as a mismatch with the account.
        (legs((member, "FONTE", -10), (merchant, "FONTE", 10)), 404, "currency-not-found"),
        (legs((member, CURRENCY, -501), (merchant, CURRENCY, 501)), 409, "insufficient-funds"),
        (legs((member, CURRENCY, -1.5), (merchant, CURRENCY, 1.5)), 422, "validation-failed"),
        (legs((member, CURRENCY, "-1"), (merchant, CURRENCY, "1")), 422, "validation-failed"),
        (
            legs((member, CURRENCY, -(10**16)), (merchant, CURRENCY, 10**16)),
            422,
            "validation-failed",
        ),
        ({"postings": []}, 422, "validation-failed"),
    ]
    for body, status, code in cases:
        r = await ledger.client.post("/transactions", json=body, headers=ledger.headers)
        await expect_problem(r, status, code)
    assert (await ledger.balance(member))["posted"] == 500
    assert (await ledger.balance(merchant))["posted"] == 0
    listing = await ledger.client.get(f"/transactions?currency={CURRENCY}", headers=ledger.headers)
    assert len(listing.json()["items"]) == 1


async def test_frozen_accounts_receive_but_cannot_pay_and_closed_ones_do_neither(
    ledger: Ledger,
) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant")
    frozen = await ledger.client.post(
        f"/accounts/{member}/status", json={"status": "frozen"}, headers=ledger.headers
    )
    assert frozen.json()["status"] == "frozen"
    await expect_problem(await ledger.transfer(member, merchant, 1), 409, "account-frozen")
    assert (await ledger.transfer(issuer, member, 5)).status_code == 201
    await expect_problem(
        await ledger.client.post(
            f"/accounts/{member}/status", json={"status": "closed"}, headers=ledger.headers
        ),
        409,
        "account-not-empty",
    )
    closed = await ledger.client.post(
        f"/accounts/{merchant}/status", json={"status": "closed"}, headers=ledger.headers
    )
    assert closed.json()["status"] == "closed"
    await expect_problem(await ledger.transfer(issuer, merchant, 1), 409, "account-closed")
    again = await ledger.client.post(
        f"/accounts/{merchant}/status", json={"status": "active"}, headers=ledger.headers
    )
    await expect_problem(again, 409, "invalid-status-transition")


async def test_member_balances_are_capped_where_the_currency_says_so(ledger: Ledger) -> None:
    await ledger.currency("MESURE", "euro_backed", max_balance=1000)
    issuer = await ledger.account("MESURE", "issuer")
    member = await ledger.account("MESURE", "member")
    assert (await ledger.transfer(issuer, member, 1000, "MESURE")).status_code == 201
    await expect_problem(
        await ledger.transfer(issuer, member, 1, "MESURE"), 409, "balance-limit-exceeded"
    )


async def test_mutual_credit_limits_have_history_and_bound_debits(ledger: Ledger) -> None:
    await ledger.currency(
        "WIR", "mutual_credit", credit_limit={"default_limit": 100, "max_limit": 1000}
    )
    a = await ledger.account("WIR", "member")
    b = await ledger.account("WIR", "member")
    assert (await ledger.transfer(a, b, 100, "WIR")).status_code == 201
    await expect_problem(await ledger.transfer(a, b, 1, "WIR"), 409, "credit-limit-exceeded")
    raised = await ledger.client.put(
        f"/accounts/{a}/credit-limit",
        json={"credit_limit": 300, "reason": "committee"},
        headers=ledger.headers,
    )
    assert raised.status_code == 200 and raised.json()["lower_bound"] == -300
    assert (await ledger.transfer(a, b, 200, "WIR")).status_code == 201
    lowered = await ledger.client.put(
        f"/accounts/{a}/credit-limit", json={"credit_limit": 100}, headers=ledger.headers
    )
    await expect_problem(lowered, 409, "credit-limit-exceeded")
    over = await ledger.client.put(
        f"/accounts/{a}/credit-limit", json={"credit_limit": 5000}, headers=ledger.headers
    )
    await expect_problem(over, 422, "credit-limit-out-of-policy")
    history = await ledger.client.get(f"/accounts/{a}/credit-limit/history", headers=ledger.headers)
    changes = history.json()["items"]
    assert [(c["old_limit"], c["new_limit"]) for c in changes] == [(100, 300)]
    # The currency's system total stays zero.
    assert (await ledger.balance(a))["posted"] + (await ledger.balance(b))["posted"] == 0


async def test_euro_currencies_cannot_get_credit_lines(ledger: Ledger) -> None:
    r = await ledger.client.post(
        "/accounts",
        json={"currency": CURRENCY, "type": "member", "credit_limit": 10},
        headers=ledger.headers,
    )
    await expect_problem(r, 422, "credit-limit-out-of-policy")


async def test_invalid_currency_rules_are_refused(ledger: Ledger) -> None:
    body = {
        "code": "HOURS",
        "kind": "time",
        "operator": "accorderie",
        "rules": {"convertible": True},
    }
    r = await ledger.client.post("/currencies", json=body, headers=ledger.headers)
    await expect_problem(r, 422, "invalid-currency-rules")
    dup = {"code": CURRENCY, "kind": "euro_backed", "operator": "x"}
    await expect_problem(
        await ledger.client.post("/currencies", json=dup, headers=ledger.headers),
        409,
        "currency-exists",
    )


async def test_same_idempotency_key_and_body_replays_the_original(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant")
    first = await ledger.transfer(member, merchant, 100, idempotency_key="pay-1")
    assert first.status_code == 201
    again = await ledger.transfer(member, merchant, 100, idempotency_key="pay-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert (await ledger.balance(member))["posted"] == 400
    other = await ledger.transfer(member, merchant, 101, idempotency_key="pay-1")
    await expect_problem(other, 409, "idempotency-key-reused")
    headers = {**ledger.headers, "Idempotency-Key": "pay-1"}
    body = {
        "postings": [
            {"account_id": member, "currency": CURRENCY, "amount": -100},
            {"account_id": merchant, "currency": CURRENCY, "amount": 100},
        ]
    }
    via_header = await ledger.client.post("/transactions", json=body, headers=headers)
    assert via_header.status_code == 200 and via_header.json()["id"] == first.json()["id"]
    mismatch = await ledger.client.post(
        "/transactions", json={**body, "idempotency_key": "x"}, headers=headers
    )
    await expect_problem(mismatch, 422, "idempotency-keys-differ")
    assert (await ledger.balance(member))["posted"] == 400


async def test_a_reversal_undoes_a_transaction_once(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant")
    tx = (await ledger.transfer(member, merchant, 200)).json()
    r = await ledger.client.post(
        f"/transactions/{tx['id']}/reversal", json={}, headers=ledger.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["reverses"] == tx["id"] and r.json()["kind"] == "reversal"
    assert (await ledger.balance(member))["posted"] == 500
    twice = await ledger.client.post(
        f"/transactions/{tx['id']}/reversal", json={}, headers=ledger.headers
    )
    await expect_problem(twice, 409, "already-reversed")
    missing = await ledger.client.post(
        "/transactions/01890000-0000-7000-8000-000000000000/reversal",
        json={},
        headers=ledger.headers,
    )
    await expect_problem(missing, 404, "not-found")


async def test_a_reversal_cannot_overdraw_the_payee(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant")
    tx = (await ledger.transfer(member, merchant, 200)).json()
    assert (await ledger.transfer(merchant, member, 150)).status_code == 201
    r = await ledger.client.post(
        f"/transactions/{tx['id']}/reversal", json={}, headers=ledger.headers
    )
    await expect_problem(r, 409, "insufficient-funds")


async def test_lists_are_keyset_paginated(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    for _ in range(4):
        assert (await ledger.transfer(issuer, member, 1)).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"currency": CURRENCY, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await ledger.client.get("/transactions", params=params, headers=ledger.headers)
        ).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 == len(set(seen))
    history = (
        await ledger.client.get(f"/accounts/{member}/postings?limit=3", headers=ledger.headers)
    ).json()
    assert [e["amount"] for e in history["items"]] == [1000, 1, 1]
    rest = (
        await ledger.client.get(
            f"/accounts/{member}/postings",
            params={"cursor": history["next_cursor"]},
            headers=ledger.headers,
        )
    ).json()
    assert [e["amount"] for e in rest["items"]] == [1, 1] and rest["next_cursor"] is None
    accounts = (
        await ledger.client.get(f"/accounts?currency={CURRENCY}&limit=1", headers=ledger.headers)
    ).json()
    assert accounts["next_cursor"] is not None
    bad = await ledger.client.get(
        "/transactions", params={"currency": CURRENCY, "cursor": "!!"}, headers=ledger.headers
    )
    await expect_problem(bad, 422, "invalid-cursor")


async def test_statement_and_balance_at_an_instant(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    middle = datetime.now(UTC)
    merchant = await ledger.account(type="merchant")
    assert (await ledger.transfer(member, merchant, 300)).status_code == 201
    at = await ledger.client.get(
        f"/accounts/{member}/balance", params={"at": middle.isoformat()}, headers=ledger.headers
    )
    assert at.json()["posted"] == 1000
    # The instant is written as every other answer writes one (UTC as Z).
    assert at.json()["at"] == middle.isoformat().replace("+00:00", "Z")
    params = {"since": middle.isoformat(), "until": (middle + timedelta(hours=1)).isoformat()}
    statement = (
        await ledger.client.get(
            f"/accounts/{member}/statement", params=params, headers=ledger.headers
        )
    ).json()
    assert statement["opening_balance"] == 1000 and statement["closing_balance"] == 700
    assert statement["total_debits"] == 300 and len(statement["entries"]) == 1
    reversed_period = {"since": params["until"], "until": params["since"]}
    r = await ledger.client.get(
        f"/accounts/{member}/statement", params=reversed_period, headers=ledger.headers
    )
    await expect_problem(r, 422, "invalid-period")


@pytest.mark.parametrize("path", ["/transactions/not-a-uuid", "/accounts/42/balance"])
async def test_malformed_ids_are_validation_problems(ledger: Ledger, path: str) -> None:
    await expect_problem(
        await ledger.client.get(path, headers=ledger.headers), 422, "validation-failed"
    )


async def test_a_replay_is_the_original_response_byte_for_byte(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant")
    first = await ledger.transfer(
        member,
        merchant,
        7,
        idempotency_key="pay-bytes",
        description="café",
        metadata={"b": "2", "a": "1"},
    )
    again = await ledger.transfer(
        member,
        merchant,
        7,
        idempotency_key="pay-bytes",
        description="café",
        metadata={"a": "1", "b": "2"},
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.content == first.content


async def test_a_key_holding_a_whole_response_replays_it_as_stored(
    ledger: Ledger, ledger_db: str, engine_for: Callable[[str], AsyncEngine]
) -> None:
    """A key's row may hold a whole response rather than a compact record: a replay
    returns it as stored, and another body under the key is still refused."""
    issuer, member = await ledger.funded(500)
    merchant = await ledger.account(type="merchant")
    body = {
        "postings": [
            {"account_id": member, "currency": CURRENCY, "amount": -5},
            {"account_id": merchant, "currency": CURRENCY, "amount": 5},
        ]
    }
    fields = TransactionFields.model_validate(body)
    stored = {"id": "0195f3c4-1111-7abc-8def-0123456789ab", "kind": "transfer", "note": "old"}
    async with engine_for(ledger_db).begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO idempotency_keys (client_id, key, request_hash, response) "
                "VALUES ('operator', 'old-key', :h, CAST(:r AS jsonb))"
            ),
            {"h": body_digest("POST /transactions", fields), "r": json.dumps(stored)},
        )
    headers = {**ledger.headers, "Idempotency-Key": "old-key"}
    replay = await ledger.client.post("/transactions", json=body, headers=headers)
    assert replay.status_code == 200 and replay.json() == stored
    body["postings"][0]["amount"], body["postings"][1]["amount"] = -6, 6
    other = await ledger.client.post("/transactions", json=body, headers=headers)
    await expect_problem(other, 409, "idempotency-key-reused")
    assert (await ledger.balance(member))["posted"] == 500


async def test_a_body_not_sent_as_json_is_refused_like_fastapi_refuses_it(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(500)
    body = json.dumps(
        {
            "postings": [
                {"account_id": member, "currency": CURRENCY, "amount": -5},
                {"account_id": issuer, "currency": CURRENCY, "amount": 5},
            ]
        }
    )
    for path in ("/transactions", "/batches"):
        sent = body if path == "/transactions" else f'{{"items": [{body}]}}'
        plain = {**ledger.headers, "Content-Type": "text/plain"}
        refused = await ledger.client.post(path, content=sent, headers=plain)
        await expect_problem(refused, 422, "validation-failed")
        typed = {**ledger.headers, "Content-Type": "application/json; charset=utf-8"}
        assert (await ledger.client.post(path, content=sent, headers=typed)).status_code == 201
        broken = await ledger.client.post(path, content=sent[:-1], headers=typed)
        await expect_problem(broken, 422, "validation-failed")
    assert (await ledger.balance(member))["posted"] == 490
