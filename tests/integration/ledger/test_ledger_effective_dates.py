"""Effective dates: never after today (UTC), never older than the currency's backdating
window, never in a period its operator closed (and the database refuses it too); closings
are the operator's act, listed by page; a FEC of a closed, sealed period is final."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.ledger.ledger_support import CURRENCY, OTHER, Ledger, operator
from tests.integration.ledger.test_ledger_api_journal import sealed
from tests.integration.ledger.test_ledger_api_transactions import expect_problem
from tests.support.ledger_sql import authorise


def days_ago(n: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=n)


async def close(ledger: Ledger, through: date, headers: dict[str, str] | None = None) -> Any:
    return await ledger.client.post(
        f"/currencies/{CURRENCY}/closings",
        json={"through": through.isoformat()},
        headers=headers or ledger.headers,
    )


async def test_a_transaction_dated_after_today_is_refused_and_changes_nothing(
    ledger: Ledger,
) -> None:
    issuer, member = await ledger.funded(1000)
    tomorrow = (days_ago(0) + timedelta(days=1)).isoformat()
    r = await ledger.transfer(member, issuer, 10, effective_date=tomorrow)
    await expect_problem(r, 422, "effective-date-in-future")
    assert r.json()["effective_date"] == tomorrow
    assert (await ledger.balance(member))["posted"] == 1000
    today = await ledger.transfer(member, issuer, 10, effective_date=days_ago(0).isoformat())
    assert today.status_code == 201, today.text


async def test_a_transaction_older_than_the_backdating_window_is_refused(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    too_old = await ledger.transfer(member, issuer, 10, effective_date=days_ago(32).isoformat())
    await expect_problem(too_old, 422, "effective-date-too-old")
    assert too_old.json()["max_backdating_days"] == 31
    assert too_old.json()["earliest"] == days_ago(31).isoformat()
    edge = await ledger.transfer(member, issuer, 10, effective_date=days_ago(31).isoformat())
    assert edge.status_code == 201, edge.text
    assert (await ledger.balance(member))["posted"] == 990


async def test_the_backdating_window_is_a_currency_rule(ledger: Ledger) -> None:
    created = await ledger.currency(OTHER, max_backdating_days=5)
    assert created["rules"]["max_backdating_days"] == 5
    assert (await ledger.currency("WIR", "mutual_credit"))["rules"]["max_backdating_days"] == 31
    issuer, member = await ledger.funded(1000, OTHER)
    old = await ledger.transfer(member, issuer, 10, OTHER, effective_date=days_ago(6).isoformat())
    await expect_problem(old, 422, "effective-date-too-old")
    fine = await ledger.transfer(member, issuer, 10, OTHER, effective_date=days_ago(5).isoformat())
    assert fine.status_code == 201, fine.text
    wide = {"code": "HOURS", "kind": "time", "operator": "o", "rules": {"max_backdating_days": -1}}
    refused = await ledger.client.post("/currencies", json=wide, headers=ledger.headers)
    assert refused.status_code == 422


async def test_the_operator_closes_a_past_period_and_nothing_is_dated_in_it_afterwards(
    ledger: Ledger,
) -> None:
    issuer, member = await ledger.funded(1000)
    closed = await close(ledger, days_ago(10))
    assert closed.status_code == 201, closed.text
    assert closed.json()["through"] == days_ago(10).isoformat()
    assert closed.json()["closed_by"] == "operator"

    inside = await ledger.transfer(member, issuer, 10, effective_date=days_ago(10).isoformat())
    await expect_problem(inside, 422, "period-closed")
    assert inside.json()["closed_through"] == days_ago(10).isoformat()
    before = await ledger.transfer(member, issuer, 10, effective_date=days_ago(20).isoformat())
    await expect_problem(before, 422, "period-closed")
    after = await ledger.transfer(member, issuer, 10, effective_date=days_ago(9).isoformat())
    assert after.status_code == 201, after.text
    assert (await ledger.balance(member))["posted"] == 990

    await expect_problem(await close(ledger, days_ago(10)), 409, "period-already-closed")
    await expect_problem(await close(ledger, days_ago(12)), 409, "period-already-closed")
    await expect_problem(await close(ledger, days_ago(0)), 422, "closing-not-past")
    assert (await close(ledger, days_ago(3))).status_code == 201


async def test_closing_is_an_operator_act_and_closings_are_listed_by_page(
    ledger: Ledger,
) -> None:
    wallet = operator(CURRENCY, scopes=("ledger:read", "ledger:post"), client_id="wallet")
    assert (await close(ledger, days_ago(9), wallet)).status_code == 403
    admin_elsewhere = operator(OTHER, client_id="other-operator")
    assert (await close(ledger, days_ago(9), admin_elsewhere)).status_code == 403
    for n in (8, 6, 4):
        assert (await close(ledger, days_ago(n))).status_code == 201

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await ledger.client.get(
            f"/currencies/{CURRENCY}/closings", params=params, headers=wallet
        )
        assert r.status_code == 200, r.text
        seen += [c["through"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and seen[-1] == days_ago(4).isoformat()
    other = await ledger.client.get(
        f"/currencies/{CURRENCY}/closings", headers=operator(OTHER, client_id="x")
    )
    assert other.status_code == 403
    unknown = await ledger.client.get("/currencies/NOPE/closings", headers=operator("*"))
    assert unknown.status_code == 404


async def test_batches_respect_the_same_bounds(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    assert (await close(ledger, days_ago(10))).status_code == 201

    def item(day: date, amount: int = 10) -> dict[str, Any]:
        return {
            "effective_date": day.isoformat(),
            "postings": [
                {"account_id": member, "currency": CURRENCY, "amount": -amount},
                {"account_id": issuer, "currency": CURRENCY, "amount": amount},
            ],
        }

    atomic = {"mode": "atomic", "items": [item(days_ago(1)), item(days_ago(10))]}
    r = await ledger.client.post("/batches", json=atomic, headers=ledger.headers)
    await expect_problem(r, 422, "period-closed")
    assert r.json()["item"] == 1
    assert (await ledger.balance(member))["posted"] == 1000

    items = [item(days_ago(1)), item(days_ago(10)), item(days_ago(-1)), item(days_ago(40))]
    r = await ledger.client.post(
        "/batches", json={"mode": "independent", "items": items}, headers=ledger.headers
    )
    assert r.status_code == 201, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 422, 422, 422]
    assert [x["problem"]["code"] for x in results[1:]] == [
        "period-closed",
        "effective-date-in-future",
        # 40 days back is both closed and outside the window: the closing is named first
        "period-closed",
    ]
    assert (await ledger.balance(member))["posted"] == 990


@pytest.fixture
async def engine(ledger_db: str, engine_for: Callable[[str], AsyncEngine]) -> AsyncEngine:
    return engine_for(ledger_db)


async def insert_transfer(conn: Any, source: str, dest: str, day: date) -> None:
    """A transfer written behind the API's back (its checks skipped)."""
    tx = str(uuid.uuid4())
    await conn.execute(
        text(
            "INSERT INTO transactions (id, kind, effective_date, client_id) "
            "VALUES (:id, 'transfer', :day, 'psql')"
        ),
        {"id": tx, "day": day},
    )
    await conn.execute(
        text(
            "INSERT INTO postings (transaction_id, account_id, currency, amount) "
            "VALUES (:tx, :s, :c, -5), (:tx, :d, :c, 5)"
        ),
        {"tx": tx, "s": source, "d": dest, "c": CURRENCY},
    )
    await authorise(conn, tx, source, -5)


async def test_the_database_refuses_a_transaction_in_a_closed_period(
    ledger: Ledger, engine: AsyncEngine
) -> None:
    issuer, member = await ledger.funded(1000)
    assert (await close(ledger, days_ago(10))).status_code == 201
    with pytest.raises(DBAPIError, match="ck_postings_period_open|closed through"):
        async with engine.begin() as conn:
            await insert_transfer(conn, member, issuer, days_ago(10))
    async with engine.begin() as conn:
        await insert_transfer(conn, member, issuer, days_ago(9))
    assert (await ledger.balance(member))["posted"] == 995

    async with engine.connect() as conn:
        for statement in (
            "UPDATE period_closings SET through = through - 1",
            "DELETE FROM period_closings",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with conn.begin():
                    await conn.execute(text(statement))
        for day, constraint in ((days_ago(11), "after_previous"), (days_ago(0), "past")):
            with pytest.raises(DBAPIError, match=f"ck_period_closings_{constraint}|closes|closed"):
                async with conn.begin():
                    await conn.execute(
                        text(
                            "INSERT INTO period_closings (currency, through, closed_by) "
                            "VALUES (:c, :t, 'psql')"
                        ),
                        {"c": CURRENCY, "t": day},
                    )


async def test_a_closing_waits_for_postings_in_flight_and_later_postings_see_it(
    ledger: Ledger, engine: AsyncEngine
) -> None:
    issuer, member = await ledger.funded(1000)
    closing = text(
        "INSERT INTO period_closings (currency, through, closed_by) VALUES (:c, :t, 'psql')"
    )
    # A closing in flight: a posting dated in its period waits for it, then is refused.
    async with engine.connect() as closer, engine.connect() as poster:
        await closer.begin()
        await closer.execute(closing, {"c": CURRENCY, "t": days_ago(5)})
        await poster.begin()
        posting = asyncio.create_task(insert_transfer(poster, member, issuer, days_ago(5)))
        await asyncio.sleep(0.5)
        assert not posting.done()
        await closer.commit()
        with pytest.raises(DBAPIError, match="closed through"):
            await posting
        await poster.rollback()
    # A posting in flight: the closing waits for its commit.
    async with engine.connect() as closer, engine.connect() as poster:
        await poster.begin()
        await insert_transfer(poster, member, issuer, days_ago(2))
        await closer.begin()
        closing_task = asyncio.create_task(
            closer.execute(closing, {"c": CURRENCY, "t": days_ago(2)})
        )
        await asyncio.sleep(0.5)
        assert not closing_task.done()
        await poster.commit()
        await closing_task
        await closer.commit()
    assert (await ledger.balance(member))["posted"] == 995


async def test_other_posting_paths_surface_the_database_refusal_as_a_problem(
    ledger: Ledger, client: httpx.AsyncClient
) -> None:
    await ledger.currency("FONTE", "euro_backed", demurrage={"rate_ppm": 20_000, "period": 1})
    issuer = await ledger.account("FONTE", "issuer")
    member = await ledger.account("FONTE", "member")
    fund = await ledger.account("FONTE", "fund")
    start = days_ago(0).replace(day=1)
    previous = (start - timedelta(days=1)).replace(day=1)
    funded = await ledger.transfer(
        issuer, member, 10_000, "FONTE", effective_date=max(previous, days_ago(31)).isoformat()
    )
    assert funded.status_code == 201, funded.text
    if start >= days_ago(0):
        pytest.skip("the first of the month: no past day of this month to close")
    closed = await client.post(
        "/currencies/FONTE/closings", json={"through": start.isoformat()}, headers=ledger.headers
    )
    assert closed.status_code == 201, closed.text
    # the run's postings are dated at the period's end (the first of this month): closed
    run = await client.post(
        "/currencies/FONTE/demurrage-runs",
        json={"period_start": previous.isoformat(), "fund_account_id": fund},
        headers=ledger.headers,
    )
    assert run.status_code == 422, run.text
    assert run.json()["code"] == "period-closed"
    assert (await ledger.balance(member))["posted"] == 10_000


async def test_a_fec_of_a_closed_sealed_period_is_final(ledger: Ledger) -> None:
    issuer, member = await ledger.funded(1000)
    moved = await ledger.transfer(member, issuer, 10, effective_date=days_ago(5).isoformat())
    assert moved.status_code == 201, moved.text
    await sealed(ledger)
    to = days_ago(4)
    params = {"to": to.isoformat()}
    fec = f"/currencies/{CURRENCY}/journal.fec"
    name = f"{CURRENCY}FEC{to:%Y%m%d}"

    open_period = await ledger.client.get(fec, params=params, headers=ledger.headers)
    assert open_period.status_code == 200, open_period.text
    assert open_period.headers["proxima-journal-status"] == "provisional"
    assert open_period.headers["content-disposition"].endswith(f'"{name}-provisoire.txt"')

    assert (await close(ledger, to)).status_code == 201
    final = await ledger.client.get(fec, params=params, headers=ledger.headers)
    assert final.headers["proxima-journal-status"] == "final"
    assert final.headers["content-disposition"] == f'attachment; filename="{name}.txt"'
    assert final.content == open_period.content
    csv_file = await ledger.client.get(
        f"/currencies/{CURRENCY}/journal.csv", params=params, headers=ledger.headers
    )
    assert csv_file.headers["proxima-journal-status"] == "final"

    beyond = await ledger.client.get(
        fec, params={"to": days_ago(1).isoformat()}, headers=ledger.headers
    )
    assert beyond.headers["proxima-journal-status"] == "provisional"
    no_end = await ledger.client.get(fec, headers=ledger.headers)
    assert no_end.headers["proxima-journal-status"] == "provisional"
