"""Scheduled operations on real PostgreSQL: catch-up after a downtime (each missed
occurrence once, in order), two replicas (one leader; each occurrence once), Paris time
across a DST change, the standing authorisation, and the schedules API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from services.ledger.app import create_app
from services.ledger.schedules.repository import LEADER_LOCK
from services.ledger.schedules.service.runner import Scheduler
from tests.integration.ledger.ledger_support import CURRENCY, OTHER, Ledger, ledger_settings
from tests.integration.ledger.ledger_support import operator as operator_headers
from tests.integration.ledger.test_ledger_api_programmes import PASS, Programme, soon
from tests.integration.ledger.test_ledger_api_reserves import reserve_setup
from tests.integration.ledger.test_ledger_api_transactions import expect_problem
from tests.integration.ledger.test_ledger_events import outbox_events
from tests.support.apps import serve
from tests.support.waiting import eventually

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def client(
    ledger_db: str, new_database: Callable[[str], str]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its own scheduler (each test ticks its own, on its own clock), and
    with the global hold sweeper parked, so only a scheduled run expires holds."""
    settings = ledger_settings(
        ledger_db, new_database("events"), scheduler_enabled=False, hold_sweep_interval_s=3600
    )
    async with serve(create_app, settings) as c:
        yield c


def factory_of(ledger: Ledger) -> Factory:
    return ledger.client.app.state.session_factory  # type: ignore[attr-defined,no-any-return]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def month_start(months_back: int) -> date:
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def put_schedule(
    ledger: Ledger, operation: str, currency: str = CURRENCY, **body: Any
) -> httpx.Response:
    return await ledger.client.put(
        f"/currencies/{currency}/schedules/{operation}", json=body, headers=ledger.headers
    )


async def runs(ledger: Ledger, operation: str, currency: str = CURRENCY) -> list[dict[str, Any]]:
    """Every run of a schedule, oldest first, through the paginated API (pages of 2)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await ledger.client.get(
            f"/currencies/{currency}/schedules/{operation}/runs",
            params=params,
            headers=ledger.headers,
        )
        assert r.status_code == 200, r.text
        found += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return found[::-1]


async def closings(ledger: Ledger) -> list[str]:
    r = await ledger.client.get(f"/currencies/{CURRENCY}/closings", headers=ledger.headers)
    return [c["through"] for c in r.json()["items"]]


async def test_after_a_downtime_each_missed_closing_runs_once_in_order(ledger: Ledger) -> None:
    start = month_start(4)
    r = await put_schedule(
        ledger,
        "closing",
        cadence="monthly",
        local_time="03:00",
        starts_at=f"{start.isoformat()}T00:00:00+01:00",
    )
    assert r.status_code == 200, r.text
    assert r.json()["authorised_by"] == "operator"
    assert r.json()["time_zone"] == "Europe/Paris" and r.json()["last_run_for"] is None
    first = datetime.fromisoformat(r.json()["next_run_at"])
    assert first.date() == start and first.hour in (1, 2)  # 03:00 in Paris on the 1st
    factory = factory_of(ledger)
    # The service was down from the start: it comes back two months after it.
    two_later = month_start(2)
    done = await Scheduler(factory, clock=clock(at(two_later.year, two_later.month, 15))).tick()
    assert [run["outcome"] for run in done] == ["succeeded"] * 3
    month_ends = [(month_start(n) - timedelta(days=1)).isoformat() for n in (4, 3, 2, 1, 0)]
    assert await closings(ledger) == month_ends[:3]
    # Down again, back today: the two it missed, in order, then nothing more.
    today = Scheduler(factory, clock=clock(datetime.now(UTC) + timedelta(hours=3)))
    assert len(await today.tick()) == 2
    assert await today.tick() == []
    assert await closings(ledger) == month_ends
    history = await runs(ledger, "closing")
    assert [h["progress"]["through"] for h in history] == month_ends
    assert [h["scheduled_for"][:10] for h in history] == [
        month_start(n).isoformat() for n in (4, 3, 2, 1, 0)
    ]
    assert {(h["outcome"], h["attempts"], h["authorised_by"]) for h in history} == {
        ("succeeded", 1, "operator")
    }
    started = [h["started_at"] for h in history]
    assert started == sorted(started)
    read = await ledger.client.get(
        f"/currencies/{CURRENCY}/schedules/closing", headers=ledger.headers
    )
    assert read.json()["last_run_for"] == history[-1]["scheduled_for"]
    assert datetime.fromisoformat(read.json()["next_run_at"]).date() == month_start(-1)


async def test_two_replicas_run_each_occurrence_once(ledger: Ledger, ledger_db: str) -> None:
    starts = datetime.now(UTC) - timedelta(days=10)
    r = await put_schedule(
        ledger, "hold_expiry", cadence="daily", local_time="05:00", starts_at=starts.isoformat()
    )
    assert r.status_code == 200, r.text
    second_engine = create_async_engine(ledger_db)
    try:
        replicas = [
            Scheduler(factory_of(ledger)),
            Scheduler(async_sessionmaker(second_engine, expire_on_commit=False)),
        ]
        a, b = await asyncio.gather(*(replica.tick() for replica in replicas))
        assert 10 <= len(a) + len(b) <= 11
        history = await runs(ledger, "hold_expiry")
        assert len(history) == len(a) + len(b)
        moments = [h["scheduled_for"] for h in history]
        assert len(set(moments)) == len(moments) and moments == sorted(moments)
        assert len({m[:10] for m in moments}) == len(moments)  # one per day
        # Both think they lead (a lock lost while its holder still runs): the claim of each
        # occurrence still lets one run it.
        async with ledger.client.app.state.session_factory() as session:  # type: ignore[attr-defined]
            await session.execute(
                text("DELETE FROM schedule_runs WHERE scheduled_for > now() - interval '3 days'")
            )
            await session.commit()
        now = datetime.now(UTC)
        a2, b2 = await asyncio.gather(*(replica._run_due(now) for replica in replicas))
        assert 2 <= len(a2) + len(b2) <= 3
        assert len(await runs(ledger, "hold_expiry")) == len(history)
        # While another replica holds the leadership, a tick runs nothing.
        async with second_engine.connect() as holder:
            await holder.execute(
                text("SELECT pg_advisory_lock(:c, :k)"),
                {"c": LEADER_LOCK[0], "k": LEADER_LOCK[1]},
            )
            async with factory_of(ledger)() as session:
                await session.execute(text("DELETE FROM schedule_runs"))
                await session.commit()
            assert await replicas[0].tick() == []
            await holder.execute(
                text("SELECT pg_advisory_unlock(:c, :k)"),
                {"c": LEADER_LOCK[0], "k": LEADER_LOCK[1]},
            )
        assert len(await replicas[0].tick()) == len(history)
    finally:
        await second_engine.dispose()


async def test_daily_runs_across_the_spring_dst_change_once_a_day(ledger: Ledger) -> None:
    r = await put_schedule(
        ledger, "hold_expiry", cadence="daily", local_time="02:30", starts_at="2026-03-27T00:00Z"
    )
    assert r.status_code == 200, r.text
    done = await Scheduler(factory_of(ledger), clock=clock(at(2026, 3, 30, 12))).tick()
    assert [run["scheduled_for"] for run in done] == [
        at(2026, 3, 27, 1, 30),
        at(2026, 3, 28, 1, 30),
        at(2026, 3, 29, 1, 30),  # 02:30 did not exist that night: 03:30 CEST
        at(2026, 3, 30, 0, 30),
    ]
    assert [h["progress"] for h in await runs(ledger, "hold_expiry")] == [{"holds_expired": 0}] * 4


async def test_a_scheduled_hold_expiry_expires_its_currency_s_due_holds_only(
    ledger: Ledger,
) -> None:
    await ledger.currency(OTHER)
    held = []
    for currency in (CURRENCY, OTHER):
        _, member = await ledger.funded(1000, currency)
        shop = await ledger.account(currency, "merchant")
        body = {"payer": member, "payee": shop, "currency": currency, "amount": 300}
        soon = (datetime.now(UTC) + timedelta(seconds=0.5)).isoformat()
        r = await ledger.client.post(
            "/holds", json={**body, "expires_at": soon}, headers=ledger.headers
        )
        assert r.status_code == 201, r.text
        held.append(r.json()["id"])
    await asyncio.sleep(0.6)
    starts = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    r = await put_schedule(
        ledger, "hold_expiry", cadence="daily", local_time="00:00", starts_at=starts
    )
    assert r.status_code == 200, r.text
    done = await Scheduler(factory_of(ledger)).tick()
    assert sum(run["progress"]["holds_expired"] for run in done) == 1
    statuses = [
        (await ledger.client.get(f"/holds/{h}", headers=ledger.headers)).json()["status"]
        for h in held
    ]
    assert statuses == ["expired", "authorized"]


MONTHLY_2_PERCENT = {"demurrage": {"rate_ppm": 20_000, "period": 1}}


async def test_scheduled_demurrage_runs_under_the_operator_s_standing_authorisation(
    ledger: Ledger,
) -> None:
    await ledger.currency("FONTE", "euro_backed", **MONTHLY_2_PERCENT, max_backdating_days=3660)
    issuer = await ledger.account("FONTE", "issuer")
    member = await ledger.account("FONTE", "member")
    shop = await ledger.account("FONTE", "merchant")
    fund = await ledger.account("FONTE", "fund")
    for source, dest, amount, day in (
        (issuer, member, 10_000, "2025-12-15"),
        (member, shop, 5_000, "2026-01-16"),
    ):
        r = await ledger.transfer(source, dest, amount, "FONTE", effective_date=day)
        assert r.status_code == 201, r.text
    headers = operator("FONTE", client_id="tresoriere")
    body = {"cadence": "monthly", "local_time": "04:00", "starts_at": "2026-01-20T00:00:00Z"}
    missing = await ledger.client.put(
        "/currencies/FONTE/schedules/demurrage", json=body, headers=headers
    )
    await expect_problem(missing, 422, "invalid-schedule")
    body["fund_account_id"] = fund
    r = await ledger.client.put("/currencies/FONTE/schedules/demurrage", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["next_run_at"] == "2026-02-01T03:00:00Z"
    factory = factory_of(ledger)
    done = await Scheduler(factory, clock=clock(at(2026, 2, 10))).tick()
    assert len(done) == 1 and done[0]["outcome"] == "succeeded"
    # January, as the on-demand run computes it (tests/.../test_ledger_api_demurrage.py)
    assert done[0]["progress"]["charged_total"] == 199
    assert done[0]["progress"]["accounts_done"] == 2
    assert (await ledger.balance(fund))["posted"] == 199
    # The on-demand endpoint still works, and finds the scheduled run done.
    again = await ledger.client.post(
        "/currencies/FONTE/demurrage-runs",
        json={"period_start": "2026-01-01", "fund_account_id": fund},
        headers=ledger.headers,
    )
    assert again.status_code == 200 and again.json()["charged_total"] == 199
    async with factory() as session:
        principals = (
            await session.execute(
                text(
                    "SELECT DISTINCT a.principal, a.basis FROM posting_authorities a "
                    "JOIN transactions t ON t.id = a.transaction_id WHERE t.kind = 'demurrage'"
                )
            )
        ).all()
    assert [tuple(p) for p in principals] == [("tresoriere", "operator")]
    # Withdrawn, the authorisation runs nothing more; the history stays readable.
    gone = await ledger.client.delete("/currencies/FONTE/schedules/demurrage", headers=headers)
    assert gone.status_code == 204
    assert await Scheduler(factory, clock=clock(at(2026, 4, 10))).tick() == []
    assert [h["outcome"] for h in await runs(ledger, "demurrage", "FONTE")] == ["succeeded"]
    assert (await ledger.balance(fund))["posted"] == 199


def operator(*currencies: str, client_id: str) -> dict[str, str]:
    return operator_headers(*currencies, client_id=client_id)


async def test_a_refused_run_is_recorded_failed_and_the_next_occurrences_go_on(
    ledger: Ledger,
) -> None:
    # Closed by hand through a later date: the scheduled closings before it are refused.
    manual = await ledger.client.post(
        f"/currencies/{CURRENCY}/closings",
        json={"through": (month_start(1) - timedelta(days=2)).isoformat()},
        headers=ledger.headers,
    )
    assert manual.status_code == 201, manual.text
    start = month_start(2)
    r = await put_schedule(
        ledger, "closing", cadence="monthly", local_time="03:00", starts_at=f"{start}T00:00Z"
    )
    assert r.status_code == 200, r.text
    done = await Scheduler(
        factory_of(ledger), clock=clock(datetime.now(UTC) + timedelta(hours=3))
    ).tick()
    # month_start(2): closes through month_start(2) - 1 day, before the manual closing.
    assert [run["outcome"] for run in done] == ["failed", "succeeded", "succeeded"]
    assert done[0]["error"]["code"] == "period-already-closed"
    history = await runs(ledger, "closing")
    assert [h["outcome"] for h in history] == ["failed", "succeeded", "succeeded"]


async def test_schedule_refusals(ledger: Ledger) -> None:
    base = f"/currencies/{CURRENCY}/schedules"
    body = {"cadence": "monthly", "local_time": "01:30"}
    early = await ledger.client.put(f"{base}/closing", json=body, headers=ledger.headers)
    await expect_problem(early, 422, "invalid-schedule")
    for wrong in (
        {"cadence": "hourly", "local_time": "03:00"},
        {"cadence": "daily", "local_time": "25:00"},
        {"cadence": "daily", "local_time": "03:00", "starts_at": "2026-01-01T00:00:00"},
        {"cadence": "daily", "local_time": "03:00", "extra": 1},
    ):
        r = await ledger.client.put(f"{base}/closing", json=wrong, headers=ledger.headers)
        assert r.status_code == 422, (wrong, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    unknown_op = await ledger.client.put(
        f"{base}/coffee", json={"cadence": "daily", "local_time": "03:00"}, headers=ledger.headers
    )
    assert unknown_op.status_code == 422
    fine = {"cadence": "daily", "local_time": "03:00"}
    outsider = operator_headers("OTHERCUR")
    r = await ledger.client.put(f"{base}/closing", json=fine, headers=outsider)
    assert r.status_code == 403
    no_sweep = operator_headers(CURRENCY, scopes=("ledger:admin", "ledger:read"))
    r = await ledger.client.put(f"{base}/voucher_expiry", json=fine, headers=no_sweep)
    await expect_problem(r, 403, "forbidden")
    reader = operator_headers(CURRENCY, scopes=("ledger:read",))
    r = await ledger.client.put(f"{base}/closing", json=fine, headers=reader)
    assert r.status_code == 403
    missing = await ledger.client.get(f"{base}/closing", headers=ledger.headers)
    await expect_problem(missing, 404, "unknown-schedule")
    gone = await ledger.client.delete(f"{base}/closing", headers=ledger.headers)
    await expect_problem(gone, 404, "unknown-schedule")
    nowhere = await ledger.client.get("/currencies/NOPE/schedules", headers=ledger.headers)
    assert nowhere.status_code in (403, 404)
    bad_cursor = await ledger.client.get(
        f"{base}/closing/runs", params={"cursor": "%%%"}, headers=ledger.headers
    )
    await expect_problem(bad_cursor, 422, "invalid-cursor")
    ok = await ledger.client.put(f"{base}/closing", json=fine, headers=ledger.headers)
    assert ok.status_code == 200, ok.text
    listed = await ledger.client.get(base, headers=ledger.headers)
    assert [s["operation"] for s in listed.json()["items"]] == ["closing"]


async def test_the_app_s_own_scheduler_catches_up_at_start(
    ledger_db: str, new_database: Callable[[str], str]
) -> None:
    settings = ledger_settings(ledger_db, new_database("events"), scheduler_tick_interval_s=0.2)
    async with serve(create_app, settings) as c:
        ledger = Ledger(c)
        await ledger.currency()
        start = month_start(2)
        r = await put_schedule(
            ledger, "closing", cadence="monthly", local_time="03:00", starts_at=f"{start}T00:00Z"
        )
        assert r.status_code == 200, r.text
        history = await eventually(
            lambda: runs(ledger, "closing"),
            lambda h: len(h) == 3 and h[-1]["finished_at"],
            timeout=20,
        )
        assert [h["outcome"] for h in history] == ["succeeded"] * 3
        assert await closings(ledger) == [
            (month_start(n) - timedelta(days=1)).isoformat() for n in (2, 1, 0)
        ]


async def test_a_scheduled_voucher_sweep_returns_expired_lots_to_their_funder(
    ledger: Ledger,
) -> None:
    youth_card = await Programme(ledger).setup()
    await youth_card.grant("dept", 800, expires_at=soon(seconds=1))
    await youth_card.grant("region", 300)
    await asyncio.sleep(1.2)
    starts = (datetime.now(UTC) - timedelta(hours=30)).isoformat()
    body = {"cadence": "daily", "local_time": "00:00", "starts_at": starts}
    r = await ledger.client.put(
        f"/currencies/{PASS}/schedules/voucher_expiry", json=body, headers=ledger.headers
    )
    assert r.status_code == 200, r.text
    done = await Scheduler(factory_of(ledger)).tick()
    assert {run["outcome"] for run in done} == {"succeeded"}
    assert sum(run["progress"]["amount_swept"] for run in done) == 800
    assert sum(run["progress"]["lots_swept"] for run in done) == 1
    assert await youth_card.posted("dept") == 100_000
    assert (await youth_card.report())[youth_card.a["dept"]]["expired_unswept"] == 0


async def test_a_reserve_reconciliation_reminder_records_and_announces_the_ledger_s_figures(
    ledger: Ledger,
) -> None:
    daily = {"cadence": "daily", "local_time": "08:00"}
    no_reserve = await put_schedule(ledger, "reserve_reconciliation", **daily)
    await expect_problem(no_reserve, 422, "invalid-schedule")
    accounts = await reserve_setup(ledger)
    issued = await ledger.client.post(
        "/currencies/MESURE/issuances",
        json={"account_id": accounts["member"], "euros": 5_000},
        headers=ledger.headers,
    )
    assert issued.status_code == 201, issued.text
    starts = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    r = await put_schedule(ledger, "reserve_reconciliation", "MESURE", **daily, starts_at=starts)
    assert r.status_code == 200, r.text
    factory = factory_of(ledger)
    done = await Scheduler(factory).tick()
    assert [run["outcome"] for run in done] == ["succeeded", "succeeded"]  # two days missed
    assert await Scheduler(factory).tick() == []
    history = await runs(ledger, "reserve_reconciliation", "MESURE")
    figures = {"units_in_circulation": 5_000, "reserve_balance": 5_000, "ledger_drift": 0}
    assert [h["progress"] for h in history] == [figures, figures]
    announced = await outbox_events(ledger, "proxima.ledger.reserve.reconciliation_due.v1")
    assert [e["currency"] for e in announced] == ["MESURE", "MESURE"]
    assert {e["ledger_drift"] for e in announced} == {0}
    scheduled = sorted(e["scheduled_for"] for e in announced)
    assert [datetime.fromisoformat(s) for s in scheduled] == [
        datetime.fromisoformat(h["scheduled_for"]) for h in history
    ]
