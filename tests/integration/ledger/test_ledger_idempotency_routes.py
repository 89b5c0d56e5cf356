"""The idempotency dependency reads a keyed request's route from the route FastAPI
matched, filled with its path parameters: a key repeated on the same path is a replay
(whatever the spelling of an id), on another path a reuse (409)."""

from __future__ import annotations

from tests.integration.ledger.ledger_support import CURRENCY, Ledger
from tests.integration.ledger.test_ledger_api_transactions import expect_problem


async def test_a_key_means_one_route_with_its_path_parameters(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1_000)
    first = (await ledger.transfer(issuer, member, 10)).json()["id"]
    second = (await ledger.transfer(issuer, member, 20)).json()["id"]
    headers = {**ledger.headers, "Idempotency-Key": "undo-once"}

    def reverse(transaction_id: str):  # type: ignore[no-untyped-def]
        return ledger.client.post(
            f"/transactions/{transaction_id}/reversal", json={}, headers=headers
        )

    done = await reverse(first)
    assert done.status_code == 201, done.text
    again = await reverse(first.upper())
    assert again.status_code == 200, again.text
    assert again.json()["id"] == done.json()["id"]
    await expect_problem(await reverse(second), 409, "idempotency-key-reused")
    # The same key on another route is another request too.
    r = await ledger.client.post(
        "/transactions",
        json={
            "postings": [
                {"account_id": member, "currency": CURRENCY, "amount": -1},
                {"account_id": issuer, "currency": CURRENCY, "amount": 1},
            ]
        },
        headers=headers,
    )
    await expect_problem(r, 409, "idempotency-key-reused")
    assert (await ledger.balance(member))["posted"] == 1_000 + 10 + 20 - 10
