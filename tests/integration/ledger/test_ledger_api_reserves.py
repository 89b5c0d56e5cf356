"""Euro-backed currencies: units in circulation always equal the euro reserve."""

from __future__ import annotations

from tests.integration.ledger.ledger_support import CURRENCY, Ledger
from tests.integration.ledger.test_ledger_api_transactions import expect_problem


async def reserve_setup(ledger: Ledger, **rules: object) -> dict[str, str]:
    await ledger.currency("MESURE", "euro_backed", convertible=True, **rules)
    await ledger.currency("EUR", "eur")
    accounts = {
        "issuer": await ledger.account("MESURE", "issuer"),
        "fund": await ledger.account("MESURE", "fund"),
        "reserve": await ledger.account("EUR", "reserve"),
        "bank": await ledger.account("EUR", "issuer"),
        "member": await ledger.account("MESURE", "member"),
        "shop": await ledger.account("MESURE", "merchant", merchant_category="food"),
    }
    r = await ledger.client.put(
        "/currencies/MESURE/reserve",
        json={
            "issuer_account_id": accounts["issuer"],
            "reserve_account_id": accounts["reserve"],
            "external_account_id": accounts["bank"],
            "fund_account_id": accounts["fund"],
        },
        headers=ledger.headers,
    )
    assert r.status_code == 200, r.text
    return accounts


async def reconciliation(ledger: Ledger, reported: int) -> dict[str, object]:
    r = await ledger.client.get(
        "/currencies/MESURE/reconciliation",
        params={"reported_bank_balance": reported},
        headers=ledger.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_issuance_and_reconversion_keep_circulation_equal_to_the_reserve(
    ledger: Ledger,
) -> None:
    a = await reserve_setup(
        ledger, reconversion_fees={"default_bp": 200, "by_category": {"food": 100}}
    )
    issued = await ledger.client.post(
        "/currencies/MESURE/issuances",
        json={"account_id": a["member"], "euros": 5_000},
        headers=ledger.headers,
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["kind"] == "issuance"
    assert (await ledger.balance(a["member"]))["posted"] == 5_000
    assert (await ledger.transfer(a["member"], a["shop"], 2_000, "MESURE")).status_code == 201
    back = await ledger.client.post(
        "/currencies/MESURE/reconversions",
        json={"account_id": a["shop"], "units": 1_000},
        headers=ledger.headers,
    )
    assert back.status_code == 201, back.text
    # 1 % food fee: 10 units stay in the fund, 990 euros leave the reserve.
    assert (await ledger.balance(a["fund"]))["posted"] == 10
    assert (await ledger.balance(a["reserve"]))["posted"] == 4_010
    report = await reconciliation(ledger, reported=4_000)
    assert report["units_in_circulation"] == 4_010 and report["reserve_balance"] == 4_010
    assert report["ledger_drift"] == 0 and report["bank_drift"] == -10
    assert report["balanced"] is False
    assert (await reconciliation(ledger, reported=4_010))["balanced"] is True


async def test_conversions_refused_where_the_rules_say_so(ledger: Ledger) -> None:
    a = await reserve_setup(ledger)
    await ledger.client.post(
        "/currencies/MESURE/issuances",
        json={"account_id": a["member"], "euros": 500},
        headers=ledger.headers,
    )
    member_back = await ledger.client.post(
        "/currencies/MESURE/reconversions",
        json={"account_id": a["member"], "units": 100},
        headers=ledger.headers,
    )
    await expect_problem(member_back, 422, "reconversion-forbidden")
    no_reserve = await ledger.client.post(
        f"/currencies/{CURRENCY}/issuances",
        json={"account_id": a["member"], "euros": 1},
        headers=ledger.headers,
    )
    await expect_problem(no_reserve, 422, "conversion-not-allowed")
    assert (await ledger.balance(a["member"]))["posted"] == 500


async def test_a_plain_transfer_out_of_the_issuer_cannot_create_unbacked_units(
    ledger: Ledger,
) -> None:
    a = await reserve_setup(ledger)
    r = await ledger.transfer(a["issuer"], a["member"], 100, "MESURE")
    await expect_problem(r, 409, "reserve-invariant-violated")
    assert (await ledger.balance(a["member"]))["posted"] == 0
    report = await reconciliation(ledger, reported=0)
    assert report["balanced"] is True


async def test_time_currencies_can_never_be_issued_against_euros(ledger: Ledger) -> None:
    await ledger.currency("HOURS", "time")
    await ledger.currency("EUR", "eur")
    issuer = await ledger.account("HOURS", "issuer")
    reserve = await ledger.account("EUR", "reserve")
    bank = await ledger.account("EUR", "issuer")
    r = await ledger.client.put(
        "/currencies/HOURS/reserve",
        json={
            "issuer_account_id": issuer,
            "reserve_account_id": reserve,
            "external_account_id": bank,
        },
        headers=ledger.headers,
    )
    await expect_problem(r, 422, "conversion-not-allowed")
