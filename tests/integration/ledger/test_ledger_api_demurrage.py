"""Demurrage runs: rate × balance pro rata of days held, once per period, resumable."""

from __future__ import annotations

from tests.integration.ledger.ledger_support import CURRENCY, Ledger
from tests.integration.ledger.test_ledger_api_transactions import expect_problem
from tests.integration.ledger.test_ledger_events import outbox_events

MONTHLY_2_PERCENT = {"demurrage": {"rate_ppm": 20_000, "period": 1}}


async def test_a_run_charges_each_holder_once_per_period(ledger: Ledger) -> None:
    # the history below lies a year back: a window wide enough to book it
    await ledger.currency("FONTE", "euro_backed", **MONTHLY_2_PERCENT, max_backdating_days=3660)
    issuer = await ledger.account("FONTE", "issuer")
    member = await ledger.account("FONTE", "member")
    shop = await ledger.account("FONTE", "merchant")
    fund = await ledger.account("FONTE", "fund")
    assert (
        await ledger.transfer(issuer, member, 10_000, "FONTE", effective_date="2025-12-15")
    ).status_code == 201
    assert (
        await ledger.transfer(member, shop, 5_000, "FONTE", effective_date="2026-01-16")
    ).status_code == 201
    body = {"period_start": "2026-01-01", "fund_account_id": fund}
    r = await ledger.client.post(
        "/currencies/FONTE/demurrage-runs", json=body, headers=ledger.headers
    )
    assert r.status_code == 200, r.text
    run = r.json()
    # member: 15 days at 10,000 then 16 at 5,000 → floor(2 % × 230,000 / 31) = 148
    # shop: 16 days at 5,000 → floor(2 % × 80,000 / 31) = 51; the issuer never pays.
    assert run["status"] == "completed" and run["charged_total"] == 199
    assert run["accounts_total"] == 2 and run["accounts_done"] == 2
    assert (await ledger.balance(member))["posted"] == 5_000 - 148
    assert (await ledger.balance(shop))["posted"] == 5_000 - 51
    assert (await ledger.balance(fund))["posted"] == 199
    again = await ledger.client.post(
        "/currencies/FONTE/demurrage-runs", json=body, headers=ledger.headers
    )
    assert again.status_code == 200 and again.json() == run
    assert (await ledger.balance(fund))["posted"] == 199
    progress = await ledger.client.get(
        "/currencies/FONTE/demurrage-runs/2026-01-01", headers=ledger.headers
    )
    assert progress.json() == run
    charged = await outbox_events(ledger, "proxima.ledger.demurrage.applied.v1")
    assert [(e["currency"], e["charged_total"]) for e in charged] == [("FONTE", 199)]
    demurrage_posts = [
        e
        for e in await outbox_events(ledger, "proxima.ledger.transaction.posted.v1")
        if e["kind"] == "demurrage"
    ]
    assert len(demurrage_posts) == 2


async def test_demurrage_refusals(ledger: Ledger) -> None:
    await ledger.currency("FONTE", "euro_backed", **MONTHLY_2_PERCENT)
    fund = await ledger.account("FONTE", "fund")
    other_fund = await ledger.account(CURRENCY, "fund")

    async def run(code: str, period_start: str, fund_id: str = fund):  # type: ignore[no-untyped-def]
        return await ledger.client.post(
            f"/currencies/{code}/demurrage-runs",
            json={"period_start": period_start, "fund_account_id": fund_id},
            headers=ledger.headers,
        )

    await expect_problem(await run("FONTE", "2026-01-15"), 422, "invalid-period")
    await expect_problem(await run("FONTE", "2099-01-01"), 422, "invalid-period")
    await expect_problem(
        await run(CURRENCY, "2026-01-01", other_fund), 422, "demurrage-not-configured"
    )
    await expect_problem(
        await run("FONTE", "2026-01-01", other_fund), 422, "demurrage-not-configured"
    )
    missing = await ledger.client.get(
        "/currencies/FONTE/demurrage-runs/2026-01-01", headers=ledger.headers
    )
    await expect_problem(missing, 404, "not-found")
