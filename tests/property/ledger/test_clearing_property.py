"""Clearing under real concurrency, on real PostgreSQL: rounds of cross-currency payments
in both directions posted at once (each request its own connection and transaction),
some dated last month, and the settlement of last month racing the last round. Whatever
interleaving the database chose, in both currencies reserve + net clearing position =
circulation, every account holds exactly what the accepted payments and the settlement
say (nothing lost, nothing doubled), and the clearing accounts hold exactly the
unsettled payments."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ledger.app import create_app
from tests.integration.ledger.ledger_support import Ledger, ledger_settings, operator
from tests.support.apps import serve

FUNDED = 5_000
MEMBERS = 2
_runs = itertools.count(1)

# (payer side 0/1, payer member, payee shop, amount, dated last month?)
payment = st.tuples(
    st.integers(0, 1),
    st.integers(0, MEMBERS - 1),
    st.integers(0, MEMBERS - 1),
    st.integers(1, 3_000),
    st.booleans(),
)
rounds = st.lists(st.lists(payment, min_size=1, max_size=6), min_size=1, max_size=3)


def last_month_day() -> str:
    return (datetime.now(UTC).date().replace(day=1) - timedelta(days=1)).isoformat()


async def setup(ledger: Ledger, codes: tuple[str, str], euro: str) -> list[dict[str, Any]]:
    await ledger.currency(euro, "eur")
    sides = []
    for code in codes:
        await ledger.currency(code, "euro_backed", convertible=True)
        s = {
            "code": code,
            "issuer": await ledger.account(code, "issuer"),
            "reserve": await ledger.account(euro, "reserve"),
            "bank": await ledger.account(euro, "issuer"),
        }
        r = await ledger.client.put(
            f"/currencies/{code}/reserve",
            json={
                "issuer_account_id": s["issuer"],
                "reserve_account_id": s["reserve"],
                "external_account_id": s["bank"],
            },
            headers=ledger.headers,
        )
        assert r.status_code == 200, r.text
        s["members"] = [await ledger.account(code, "member") for _ in range(MEMBERS)]
        s["shops"] = [await ledger.account(code, "merchant") for _ in range(MEMBERS)]
        for member in s["members"]:
            r = await ledger.client.post(
                f"/currencies/{code}/issuances",
                json={"account_id": member, "euros": FUNDED},
                headers=ledger.headers,
            )
            assert r.status_code == 201, r.text
        r = await ledger.client.put(f"/clearing/terms/{code}", json={}, headers=ledger.headers)
        assert r.status_code == 200, r.text
        s["clearing"] = r.json()["clearing_account_id"]
        sides.append(s)
    return sides


async def scenario(db: str, events: str, history: list[list[Any]]) -> None:
    n = next(_runs)
    codes, euro = (f"PA{n}", f"PB{n}"), f"PE{n}"
    async with serve(create_app, ledger_settings(db, events)) as client:
        ledger = Ledger(client)
        ledger.headers = operator(*codes, euro)
        sides = await setup(ledger, codes, euro)
        expected: dict[str, int] = defaultdict(int)
        for s in sides:
            for member in s["members"]:
                expected[member] = FUNDED
        last_month = last_month_day()
        period = last_month[:7]
        unsettled_past = 0  # net of last month's accepted payments, PA → PB positive
        settled: dict[str, Any] | None = None

        async def pay(item: Any) -> tuple[Any, Any]:
            side, member, shop, amount, past = item
            payer, payee = sides[side], sides[1 - side]
            body: dict[str, Any] = {
                "payer_account_id": payer["members"][member],
                "payee_account_id": payee["shops"][shop],
                "amount": amount,
            }
            if past:
                body["effective_date"] = last_month
            return item, await client.post("/clearing/payments", json=body, headers=ledger.headers)

        async def settle() -> Any:
            return await client.post(
                "/clearing/settlements",
                json={"currency_a": codes[0], "currency_b": codes[1], "period": period},
                headers=ledger.headers,
            )

        for index, round_ in enumerate(history):
            jobs: list[Any] = [pay(item) for item in round_]
            last = index == len(history) - 1
            results = await asyncio.gather(*jobs, settle()) if last else await asyncio.gather(*jobs)
            if last:
                answer = results[-1]
                assert answer.status_code == 201, answer.text
                settled = answer.json()
                results = results[:-1]
            for (side, member, shop, amount, past), r in results:
                payer, payee = sides[side], sides[1 - side]
                if r.status_code != 201:
                    assert (r.status_code, r.json()["code"]) in {
                        (409, "insufficient-funds"),
                        (409, "clearing-period-settled"),
                    }, r.text
                    if r.json()["code"] == "clearing-period-settled":
                        assert past
                    continue
                expected[payer["members"][member]] -= amount
                expected[payee["shops"][shop]] += amount
                if past:
                    unsettled_past += amount if side == 0 else -amount
        # The settlement counted exactly last month's accepted payments.
        assert settled is not None
        assert settled["low_to_high"] - settled["high_to_low"] == unsettled_past
        for s in sides:
            accounts = [*s["members"], *s["shops"]]
            for account in accounts:
                r = await client.get(f"/accounts/{account}/balance", headers=ledger.headers)
                assert r.json()["posted"] == expected[account], account
            r = await client.get(
                f"/clearing/currencies/{s['code']}/invariant", headers=ledger.headers
            )
            figures = r.json()
            assert figures["holds"], figures
            issued = MEMBERS * FUNDED
            moved = unsettled_past if s is sides[0] else -unsettled_past
            assert figures["reserve_balance"] == issued - moved
            held = sum(expected[a] for a in accounts)
            assert figures["circulation"] == held
            assert figures["reserve_balance"] + figures["net_clearing_position"] == held
        positions = await client.get(
            "/clearing/positions", params={"currency": codes[0]}, headers=ledger.headers
        )
        open_net = sum(
            p["low_to_high"] - p["high_to_low"]
            for p in positions.json()["items"]
            if p["settlement_id"] is None
        )
        r = await client.get(f"/accounts/{sides[0]['clearing']}/balance", headers=ledger.headers)
        assert r.json()["posted"] == open_net


@pytest.fixture(scope="module")
def clearing_dbs(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> tuple[str, str]:
    return migrated_database("ledger"), new_database("events")


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(history=rounds)
def test_concurrent_payments_both_ways_keep_reserves_positions_and_circulation_equal(
    clearing_dbs: tuple[str, str], history: list[list[Any]]
) -> None:
    asyncio.run(scenario(*clearing_dbs, history))
