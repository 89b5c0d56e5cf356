"""Voucher merchants reimbursed in euros: each funder pays for what its credits bought, the
units are retired, nothing is paid twice, and the funder report says it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.ledger.ledger_support import Ledger, operator
from tests.integration.ledger.test_ledger_api_programmes import BASE, PASS, Programme
from tests.integration.ledger.test_ledger_api_transactions import expect_problem


async def euro_setup(ledger: Ledger, p: Programme) -> dict[str, str]:
    await ledger.currency("EUR", "eur")
    bank = await ledger.account("EUR", "issuer")
    euros = {
        "region_eur": await ledger.account("EUR", "fund", name="Région (euros)"),
        "dept_eur": await ledger.account("EUR", "fund", name="Département (euros)"),
        "bookshop_eur": await ledger.account("EUR", "merchant"),
        "issuer": await ledger.account(PASS, "issuer"),
    }
    for fund in ("region_eur", "dept_eur"):
        assert (await ledger.transfer(bank, euros[fund], 50_000, "EUR")).status_code == 201
    # The programme's issuer created the funders' units; reimbursed units go back to it.
    assert (await ledger.transfer(euros["issuer"], p.a["region"], 10_000, PASS)).status_code == 201
    r = await ledger.client.put(
        f"{BASE}/programme/reimbursement",
        json={
            "issuer_account_id": euros["issuer"],
            "funder_euro_accounts": [
                {"funder_account_id": p.a["region"], "euro_account_id": euros["region_eur"]},
                {"funder_account_id": p.a["dept"], "euro_account_id": euros["dept_eur"]},
            ],
        },
        headers=ledger.headers,
    )
    assert r.status_code == 200, r.text
    return euros


async def reimburse(
    ledger: Ledger, p: Programme, euros: dict[str, str], **extra: Any
) -> httpx.Response:
    body = {
        "merchant_account_id": p.a["bookshop"],
        "merchant_euro_account_id": euros["bookshop_eur"],
        **extra,
    }
    return await ledger.client.post(f"{BASE}/reimbursements", json=body, headers=ledger.headers)


async def test_a_merchant_is_reimbursed_in_euros_by_each_funder_for_its_share(
    ledger: Ledger,
) -> None:
    p = await Programme(ledger).setup()
    euros = await euro_setup(ledger, p)
    await p.grant("region", 1_000)
    await p.grant("dept", 2_000)
    assert (await p.buy("bookshop", 2_500)).status_code == 201
    # Euros move too: a client bound to the voucher currency only may not reimburse.
    voucher_only = operator(PASS, client_id="voucher-only")
    body = {
        "merchant_account_id": p.a["bookshop"],
        "merchant_euro_account_id": euros["bookshop_eur"],
    }
    refused = await ledger.client.post(f"{BASE}/reimbursements", json=body, headers=voucher_only)
    assert refused.status_code == 403, refused.text
    assert (await ledger.balance(euros["bookshop_eur"]))["posted"] == 0
    r = await reimburse(ledger, p, euros)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["units"] == 2_500 and body["transaction"]["kind"] == "voucher_reimbursement"
    shares = {f["funder_account_id"]: f["units"] for f in body["by_funder"]}
    # Earliest expiry first, then oldest lot: the region's lot was granted first.
    assert shares == {p.a["region"]: 1_000, p.a["dept"]: 1_500}
    assert (await ledger.balance(euros["bookshop_eur"]))["posted"] == 2_500
    assert (await ledger.balance(euros["region_eur"]))["posted"] == 49_000
    assert (await ledger.balance(euros["dept_eur"]))["posted"] == 48_500
    assert (await ledger.balance(p.a["bookshop"]))["posted"] == 0
    again = await reimburse(ledger, p, euros)
    await expect_problem(again, 409, "nothing-to-reimburse")
    report = await ledger.client.get(f"{BASE}/programme-report", headers=ledger.headers)
    reimbursed = {i["funder_account_id"]: i["reimbursed"] for i in report.json()["items"]}
    assert reimbursed == {p.a["region"]: 1_000, p.a["dept"]: 1_500}


async def test_concurrent_reimbursements_pay_once(ledger: Ledger) -> None:
    p = await Programme(ledger).setup()
    euros = await euro_setup(ledger, p)
    await p.grant("region", 2_000)
    assert (await p.buy("bookshop", 1_200)).status_code == 201
    results = await asyncio.gather(*(reimburse(ledger, p, euros) for _ in range(5)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409, 409], [r.text for r in results]
    assert (await ledger.balance(euros["bookshop_eur"]))["posted"] == 1_200


async def test_reimbursement_needs_its_configuration_and_euro_accounts(ledger: Ledger) -> None:
    p = await Programme(ledger).setup()
    await ledger.currency("EUR", "eur")
    shop_eur = await ledger.account("EUR", "merchant")
    await p.grant("region", 500)
    assert (await p.buy("bookshop", 100)).status_code == 201
    body = {"merchant_account_id": p.a["bookshop"], "merchant_euro_account_id": shop_eur}
    r = await ledger.client.post(f"{BASE}/reimbursements", json=body, headers=ledger.headers)
    await expect_problem(r, 409, "reimbursement-not-configured")
    wrong = await ledger.client.put(
        f"{BASE}/programme/reimbursement",
        json={
            "issuer_account_id": p.a["region"],
            "funder_euro_accounts": [
                {"funder_account_id": p.a["region"], "euro_account_id": shop_eur}
            ],
        },
        headers=ledger.headers,
    )
    await expect_problem(wrong, 422, "invalid-programme-account")
