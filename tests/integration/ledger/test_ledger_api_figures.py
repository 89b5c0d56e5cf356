"""Dashboard figures of a currency, checked against arithmetic done by hand here."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from shared.db import make_engine
from tests.integration.ledger.ledger_support import CURRENCY, Ledger, operator
from tests.support.ledger_sql import authorise


async def post(ledger: Ledger, kind: str, legs: list[tuple[str, int]]) -> None:
    body = {
        "kind": kind,
        "postings": [{"account_id": a, "currency": CURRENCY, "amount": m} for a, m in legs],
    }
    r = await ledger.client.post("/transactions", json=body, headers=ledger.headers)
    assert r.status_code == 201, r.text


async def post_40_days_ago(db_url: str, legs: list[tuple[str, int]]) -> None:
    """Backdate an issuance before the window (the API always stamps the present)."""
    engine = make_engine(db_url)
    tx = str(uuid.uuid4())
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO transactions (id, kind, effective_date, inserted_at, client_id) "
                    "VALUES (:id, 'issuance', current_date - 40, now() - interval '40 days', 't')"
                ),
                {"id": tx},
            )
            for account, amount in legs:
                await conn.execute(
                    text(
                        "INSERT INTO postings (transaction_id, account_id, currency, amount) "
                        "VALUES (:tx, :a, :c, :m)"
                    ),
                    {"tx": tx, "a": account, "c": CURRENCY, "m": amount},
                )
                await authorise(conn, tx, account, amount)
    finally:
        await engine.dispose()


async def test_figures_match_hand_computed_circulation_velocity_and_leakage(
    ledger: Ledger, ledger_db: str
) -> None:
    issuer = await ledger.account(type="issuer")
    alice = await ledger.account(type="member")
    bob = await ledger.account(type="member")
    shop = await ledger.account(type="merchant")
    # Before the 30-day window: 100.00 issued to Alice.
    await post_40_days_ago(ledger_db, [(issuer, -10_000), (alice, 10_000)])
    # Inside the window.
    await post(ledger, "issuance", [(issuer, -6_000), (bob, 6_000)])
    await post(ledger, "transfer", [(alice, -3_000), (shop, 3_000)])
    await post(ledger, "transfer", [(bob, -1_000), (shop, 1_000)])
    await post(ledger, "reconversion", [(shop, -2_000), (issuer, 2_000)])

    r = await ledger.client.get(
        f"/currencies/{CURRENCY}/figures", params={"window_days": 30}, headers=ledger.headers
    )

    assert r.status_code == 200, r.text
    got = r.json()
    # balances now: Alice 10000 - 3000 = 7000, Bob 6000 - 1000 = 5000,
    # shop 3000 + 1000 - 2000 = 2000 → circulation 14000; at the window's start only
    # Alice held units: 10000. Average (10000 + 14000) / 2 = 12000.
    assert got["circulation"] == 14_000
    assert got["circulation_at_start"] == 10_000
    assert got["average_circulation"] == 12_000
    # two transfers, 3000 + 1000 moved → velocity 4000 / 12000 = 1/3
    assert (got["transfer_count"], got["transfer_volume"]) == (2, 4_000)
    assert got["velocity"] == round(4_000 / 12_000, 6) == 0.333333
    # issued in the window 6000 (the older 10000 is outside), reconverted 2000
    assert (got["issued"], got["reconverted"]) == (6_000, 2_000)
    assert got["leakage"] == round(2_000 / 6_000, 6)
    assert got["leakage_share_of_volume"] == 0.5
    assert got["window_days"] == 30

    wider = await ledger.client.get(
        f"/currencies/{CURRENCY}/figures", params={"window_days": 60}, headers=ledger.headers
    )
    # with the old issuance inside: circulation at start 0, issued 16000
    assert wider.json()["circulation_at_start"] == 0
    assert wider.json()["issued"] == 16_000
    assert wider.json()["velocity"] == round(4_000 / 7_000, 6)


async def test_figures_of_an_empty_currency_have_null_ratios(ledger: Ledger) -> None:
    r = await ledger.client.get(f"/currencies/{CURRENCY}/figures", headers=ledger.headers)
    assert r.status_code == 200
    got = r.json()
    assert (got["circulation"], got["velocity"], got["leakage"]) == (0, None, None)


async def test_figures_refuse_bad_windows_unknown_currencies_and_other_tenants(
    ledger: Ledger,
) -> None:
    path = f"/currencies/{CURRENCY}/figures"
    for bad in ("0", "367", "soon"):
        r = await ledger.client.get(path, params={"window_days": bad}, headers=ledger.headers)
        assert r.status_code == 422, bad
        assert r.headers["content-type"] == "application/problem+json"
    assert (await ledger.client.get(path, headers=operator("MESURE"))).status_code == 403
    unknown = await ledger.client.get("/currencies/NOPE/figures", headers=operator("*"))
    assert unknown.status_code == 404
