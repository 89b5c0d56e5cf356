"""Cards and tokens on real PostgreSQL: issue, list, block at once, pay by hold and capture."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text

from services.ledger.cards import repository as card_store
from services.ledger.cards import service as card_service
from tests.integration.ledger.ledger_support import CURRENCY, Ledger, operator
from tests.integration.ledger.test_ledger_api_programmes import Programme
from tests.integration.ledger.test_ledger_api_transactions import expect_problem
from tests.integration.ledger.test_ledger_events import outbox_events

PAN = "4970 1012 3456 7893"  # Luhn-valid test number
PAN_DIGITS = PAN.replace(" ", "")


async def issue(ledger: Ledger, account: str, **body: Any) -> httpx.Response:
    return await ledger.client.post(
        "/cards", json={"account_id": account, **body}, headers=ledger.headers
    )


async def authorize(ledger: Ledger, merchant: str, amount: int, **card: Any) -> httpx.Response:
    body = {"merchant_account_id": merchant, "amount": amount, **(card or {"card_number": PAN})}
    return await ledger.client.post("/cards/authorizations", json=body, headers=ledger.headers)


async def block(ledger: Ledger, card_id: str, reason: str = "lost") -> httpx.Response:
    return await ledger.client.post(
        f"/cards/{card_id}/block", json={"reason": reason}, headers=ledger.headers
    )


async def count(ledger: Ledger, table: str) -> int:
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_card_is_stored_as_a_fingerprint_and_its_last_four_digits_only(
    ledger: Ledger,
) -> None:
    _, member = await ledger.funded(1_000)
    r = await issue(ledger, member, card_number=PAN, label="plastic")
    assert r.status_code == 201, r.text
    card = r.json()
    assert (card["kind"], card["last4"], card["status"], card["token"]) == (
        "pan",
        "7893",
        "active",
        None,
    )
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        dump = (await session.execute(text("SELECT cards::text FROM cards"))).scalar_one()
        outbox = await session.execute(text("SELECT string_agg(payload::text, '') FROM outbox"))
        everything = str(outbox.scalar_one())
    assert PAN_DIGITS not in dump and PAN_DIGITS[:12] not in dump
    assert PAN_DIGITS not in everything
    issued = await outbox_events(ledger, "proxima.ledger.card.issued.v1")
    assert issued == [
        {
            "card_id": card["id"],
            "account_id": member,
            "currency": CURRENCY,
            "kind": "pan",
            "last4": "7893",
        }
    ]
    again = await issue(ledger, member, card_number=PAN_DIGITS)
    await expect_problem(again, 409, "card-already-issued")


async def test_bad_card_numbers_are_refused_with_a_specific_code(ledger: Ledger) -> None:
    _, member = await ledger.funded(1_000)
    await expect_problem(
        await issue(ledger, member, card_number="4970101234567890"), 422, "invalid-card-number"
    )
    await expect_problem(
        await issue(ledger, member, card_number=PAN, token="a" * 20), 422, "invalid-card-number"
    )
    await expect_problem(
        await issue(ledger, member, token="short!tok#en12"), 422, "invalid-card-number"
    )
    assert await count(ledger, "cards") == 0


async def test_a_generated_token_is_shown_once_and_pays(ledger: Ledger) -> None:
    _, member = await ledger.funded(1_000)
    shop = await ledger.account(type="merchant")
    card = (await issue(ledger, member)).json()
    assert card["kind"] == "token" and len(card["token"]) >= 40
    shown = await ledger.client.get(f"/cards/{card['id']}", headers=ledger.headers)
    assert "token" not in shown.json()
    r = await authorize(ledger, shop, 100, token=card["token"])
    assert r.status_code == 201, r.text


async def test_card_payment_is_a_hold_then_a_partial_capture(ledger: Ledger) -> None:
    _, member = await ledger.funded(1_000)
    shop = await ledger.account(type="merchant")
    card = (await issue(ledger, member, card_number=PAN)).json()
    r = await authorize(ledger, shop, 400)
    assert r.status_code == 201, r.text
    hold = r.json()
    assert (hold["payer"], hold["payee"], hold["status"]) == (member, shop, "authorized")
    assert hold["metadata"]["card_id"] == card["id"]
    assert (await ledger.balance(member))["available"] == 600
    captured = await ledger.client.post(
        f"/holds/{hold['id']}/capture", json={"amount": 250}, headers=ledger.headers
    )
    assert captured.status_code == 200, captured.text
    assert (await ledger.balance(member))["posted"] == 750
    assert (await ledger.balance(shop))["posted"] == 250
    over = await authorize(ledger, shop, 5_000)
    await expect_problem(over, 409, "insufficient-funds")


async def test_a_blocked_card_authorises_nothing_and_nothing_is_written(ledger: Ledger) -> None:
    _, member = await ledger.funded(1_000)
    shop = await ledger.account(type="merchant")
    card = (await issue(ledger, member, card_number=PAN)).json()
    first = await authorize(ledger, shop, 100)
    assert first.status_code == 201
    blocked = await block(ledger, card["id"], "stolen")
    assert blocked.status_code == 200, blocked.text
    assert (blocked.json()["status"], blocked.json()["block_reason"]) == ("blocked", "stolen")
    holds_before = await count(ledger, "holds")
    outbox_before = await count(ledger, "outbox")
    refused = await authorize(ledger, shop, 100)
    await expect_problem(refused, 409, "card-blocked")
    assert await count(ledger, "holds") == holds_before
    assert await count(ledger, "outbox") == outbox_before
    # Final: blocking again changes nothing, and the database refuses reactivation.
    assert (await block(ledger, card["id"])).json()["block_reason"] == "stolen"
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        try:
            await session.execute(text("UPDATE cards SET status = 'active', blocked_at = NULL"))
            raise AssertionError("reactivation was accepted")
        except Exception as exc:  # noqa: BLE001 - any database refusal will do
            assert "blocked for good" in str(exc)
    # An authorisation granted before the block can still be captured (the sale happened).
    capture = await ledger.client.post(
        f"/holds/{first.json()['id']}/capture", json={}, headers=ledger.headers
    )
    assert capture.status_code == 200, capture.text
    assert len(await outbox_events(ledger, "proxima.ledger.card.blocked.v1")) == 1


async def test_a_block_racing_payments_stops_every_payment_that_starts_after_it(
    ledger: Ledger,
) -> None:
    _, member = await ledger.funded(100_000)
    shop = await ledger.account(type="merchant")
    card = (await issue(ledger, member, card_number=PAN)).json()
    responses: list[httpx.Response] = []

    async def pay() -> None:
        responses.append(await authorize(ledger, shop, 10))

    await asyncio.gather(*(pay() for _ in range(10)), block(ledger, card["id"]))
    results = [r.status_code for r in responses]
    assert set(results) <= {201, 409}
    assert await count(ledger, "holds") == results.count(201)
    for refused in (r for r in responses if r.status_code == 409):
        await expect_problem(refused, 409, "card-blocked")
    # The block takes the card row FOR UPDATE, so it waits for every payment that holds the
    # card's share lock to commit, and only then stamps blocked_at (clock_timestamp()); a
    # payment that starts later waits for the block and sees the card blocked. A hold's
    # created_at is now(), its transaction's start, which precedes its commit: so every hold
    # granted must have started no later than blocked_at. Without the lock, a payment whose
    # transaction started after the block's UPDATE could still read the card as active and
    # leave a hold stamped after blocked_at, which this catches.
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        blocked_at = (
            await session.execute(
                text("SELECT blocked_at FROM cards WHERE id = :id"), {"id": card["id"]}
            )
        ).scalar_one()
        holds = (
            await session.execute(
                text(
                    "SELECT h.id::text, h.created_at FROM holds h JOIN cards c"
                    " ON h.payer = c.account_id WHERE c.id = :id"
                ),
                {"id": card["id"]},
            )
        ).all()
    assert blocked_at is not None
    late = [(hold_id, created) for hold_id, created in holds if created > blocked_at]
    assert late == [], f"holds created after the block at {blocked_at}: {late}"
    granted = {r.json()["id"] for r in responses if r.status_code == 201}
    assert {hold_id for hold_id, _ in holds} == granted
    after = await authorize(ledger, shop, 10)
    await expect_problem(after, 409, "card-blocked")


async def test_a_payment_waits_for_an_uncommitted_block_and_is_then_refused(
    ledger: Ledger,
) -> None:
    # Deterministic twin of the race above: the block holds the card row (FOR UPDATE, then
    # UPDATE) in an open transaction; a payment must wait on its share lock rather than read
    # the old, active row, and once the block commits it must be refused with nothing written.
    _, member = await ledger.funded(1_000)
    shop = await ledger.account(type="merchant")
    card = (await issue(ledger, member, card_number=PAN)).json()
    holds_before = await count(ledger, "holds")
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        row = await card_store.get_card(session, UUID(card["id"]), lock=True)
        assert row is not None
        await card_service.block(session, card=row, reason="stolen", blocked_by="test")
        payment = asyncio.create_task(authorize(ledger, shop, 100))
        try:
            done, _ = await asyncio.wait({payment}, timeout=0.5)
            assert not done, f"the payment did not wait for the block: {payment.result().text}"
        finally:
            await session.commit()
    refused = await asyncio.wait_for(payment, timeout=5)
    await expect_problem(refused, 409, "card-blocked")
    assert await count(ledger, "holds") == holds_before
    assert (await ledger.balance(member))["available"] == 1_000


async def test_cards_are_listed_per_account_with_keyset_pages(ledger: Ledger) -> None:
    _, member = await ledger.funded(1_000)
    ids = [(await issue(ledger, member)).json()["id"] for _ in range(3)]
    first = await ledger.client.get(
        "/cards", params={"account_id": member, "limit": 2}, headers=ledger.headers
    )
    assert first.status_code == 200, first.text
    second = await ledger.client.get(
        "/cards",
        params={"account_id": member, "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=ledger.headers,
    )
    listed = [c["id"] for c in first.json()["items"] + second.json()["items"]]
    assert listed == ids and second.json()["next_cursor"] is None


async def test_scopes_and_tenants_guard_cards(ledger: Ledger) -> None:
    _, member = await ledger.funded(1_000)
    shop = await ledger.account(type="merchant")
    poster = operator(CURRENCY, scopes=("ledger:post", "ledger:read"), client_id="app")
    r = await ledger.client.post("/cards", json={"account_id": member}, headers=poster)
    assert r.status_code == 403
    card = (await issue(ledger, member, card_number=PAN)).json()
    stranger = operator("MESURE", client_id="other")
    hidden = await ledger.client.post(
        "/cards/authorizations",
        json={"merchant_account_id": shop, "amount": 1, "card_number": PAN},
        headers=stranger,
    )
    await expect_problem(hidden, 422, "unknown-card")
    assert (await ledger.client.get(f"/cards/{card['id']}", headers=stranger)).status_code == 404
    blocked = await ledger.client.post(
        f"/cards/{card['id']}/block", json={"reason": "lost"}, headers=poster
    )
    assert blocked.status_code == 200, blocked.text


async def test_card_payee_must_be_a_merchant_of_the_cards_currency(ledger: Ledger) -> None:
    _, member = await ledger.funded(1_000)
    other_member = await ledger.account(type="member")
    await issue(ledger, member, card_number=PAN)
    await expect_problem(await authorize(ledger, other_member, 10), 422, "invalid-card-merchant")


async def test_a_voucher_card_pays_by_purchase_under_the_programme_rules(ledger: Ledger) -> None:
    p = await Programme(ledger).setup()
    await p.grant("region", 5_000)
    card = (await issue(ledger, p.a["youth"], card_number=PAN)).json()
    held = await authorize(ledger, p.a["bookshop"], 100)
    await expect_problem(held, 422, "card-voucher-purchase-only")

    async def buy(merchant: str, amount: int) -> httpx.Response:
        body = {"merchant_account_id": p.a[merchant], "amount": amount, "card_number": PAN}
        return await ledger.client.post("/cards/purchases", json=body, headers=ledger.headers)

    bought = await buy("bookshop", 1_000)
    assert bought.status_code == 201, bought.text
    assert bought.json()["card_id"] == card["id"] and bought.json()["category"] == "books"
    await expect_problem(await buy("casino", 100), 422, "merchant-not-approved")
    await expect_problem(await buy("bookshop", 2_500), 409, "category-cap-exceeded")
    assert (await ledger.balance(p.a["youth"]))["posted"] == 4_000
    _, member = await ledger.funded(1_000)
    await issue(ledger, member, token="t" * 20)
    not_voucher = await ledger.client.post(
        "/cards/purchases",
        json={"merchant_account_id": p.a["bookshop"], "amount": 1, "token": "t" * 20},
        headers=ledger.headers,
    )
    await expect_problem(not_voucher, 422, "card-not-voucher")
