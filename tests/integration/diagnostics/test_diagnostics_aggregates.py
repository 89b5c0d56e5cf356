"""Live currency aggregates: ledger events in through a real bus, exactly once, published
through the outbox, and equal to a recomputation from the raw transfers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from services.diagnostics.aggregates import repository as live_store
from services.diagnostics.aggregates.service import (
    apply_transaction,
    recompute_active_accounts_from_transfers,
    recompute_from_transfers,
)
from services.diagnostics.app import create_app
from shared.db import make_engine, make_session_factory
from shared.events.catalog.ledger import PostedLeg, TransactionPosted
from shared.events.envelope import encode, new_event
from shared.events.registry import topic_for
from shared.events.tables import outbox
from shared.events.transports.base import OutgoingRecord
from tests.integration.diagnostics.diagnostics_support import READ_ALL, READ_ISERE, settings_for
from tests.support.apps import serve
from tests.support.events import producer_as, publish_as_owner
from tests.support.tokens import bearer
from tests.support.waiting import eventually

DAY = date(2026, 11, 3)


def leg(account: str, kind: str, territory: str | None, amount: int) -> PostedLeg:
    return PostedLeg(account_id=account, account_type=kind, territory=territory, amount=amount)


def posted(tx: str, *legs: PostedLeg, kind: str = "transfer", day: date = DAY) -> TransactionPosted:
    return TransactionPosted(
        transaction_id=tx, currency="MESURE", kind=kind, postings=list(legs), effective_date=day
    )


STREAM = [
    posted(
        "t1",
        leg("iss", "issuer", None, -10_000),
        leg("m1", "member", "38", 10_000),
        kind="issuance",
    ),
    posted("t2", leg("m1", "member", "38", -4_000), leg("s1", "merchant", "38", 4_000)),
    posted("t3", leg("s1", "merchant", "38", -1_000), leg("s2", "merchant", "69", 1_000)),
    posted(
        "t4",
        leg("s1", "merchant", "38", -2_000),
        leg("iss", "issuer", None, 2_000),
        kind="reconversion",
    ),
]


async def _aggregates(client: httpx.AsyncClient, territory: str) -> list[dict]:
    response = await client.get(
        "/aggregates", params={"territory": territory, "currency": "MESURE"}, headers=READ_ALL
    )
    return response.json()["items"]


async def test_posted_transactions_feed_the_aggregates_once_and_publish_updates(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> None:
    settings = settings_for(migrated_database("diagnostics"), new_database("events"))
    async with serve(create_app, settings) as client:
        producer = producer_as(settings, "ledger")  # the ledger's events, written by the ledger
        events = [new_event(p, source="/proxima/ledger", subject=p.transaction_id) for p in STREAM]
        records = [
            OutgoingRecord(topic=topic_for(e.type), key=e.subject, value=encode(e)) for e in events
        ]
        # The first event is delivered twice: the inbox applies it once.
        await producer.start()
        try:
            await producer.send_many([records[0], records[0], *records[1:]])
        finally:
            await producer.stop()
        rows = await eventually(
            lambda: _aggregates(client, "38"), lambda r: r and r[0]["transactions"] == 4
        )
        own = rows[0]
        assert own["period"] == "2026-11"
        assert (own["issued"], own["spent_locally"], own["spent_outside"], own["reconverted"]) == (
            10_000,
            4_000,
            1_000,
            2_000,
        )
        assert own["volume"] == 5_000
        assert own["active_accounts"] == 2  # m1 and s1; the issuer does not circulate
        assert own["reconversion_leakage"] == pytest.approx(2_000 / 7_000)
        assert own["local_respend_share"] == pytest.approx(4_000 / 7_000)
        lyon = (await _aggregates(client, "69"))[0]
        assert (lyon["transactions"], lyon["received_from_outside"]) == (1, 1_000)
        assert lyon["active_accounts"] == 1

        factory = client.app.state.session_factory  # type: ignore[attr-defined]

        async def published_updates() -> list[dict[str, Any]]:
            async with factory() as session:
                return [
                    json.loads(bytes(row))
                    for row in (
                        await session.scalars(
                            select(outbox.c.payload)
                            .where(
                                outbox.c.event_type == "proxima.diagnostics.aggregate.updated.v1"
                            )
                            .order_by(outbox.c.position)
                        )
                    ).all()
                ]

        def settled(events: list[dict[str, Any]]) -> bool:
            volumes = {
                e["data"]["territory"]: e["data"]["value"]
                for e in events
                if e["data"]["metric"] == "currency_volume"
            }
            return volumes.get("38") == 5_000 and "69" in volumes

        published = await eventually(published_updates, settled)
        async with factory() as session:
            assert await recompute_from_transfers(session) == await live_store.all_counters(session)
        latest = {(e["data"]["territory"], e["data"]["metric"]): e["data"] for e in published}
        assert latest[("38", "currency_volume")]["value"] == 5_000
        assert latest[("38", "reconversion_leakage")]["value"] == pytest.approx(2 / 7)
        assert latest[("38", "velocity")]["unit"] == "per month"
        assert latest[("38", "active_accounts")]["value"] == 2
        assert {e["subject"] for e in published} == {"38", "69"}

        circulation = await client.get(
            "/aggregates/circulation",
            params={"territory": "38", "currency": "MESURE", "period": "2026-11"},
            headers=READ_ALL,
        )
        body = circulation.json()
        # R1 = 10,000 issued to Isère accounts; R2 = the 4,000 m1 paid s1 (both in 38);
        # s1 then paid outside and reconverted: R3 = 0. LM3 = (10,000 + 4,000) / 10,000.
        assert (body["r1"], body["r2"], body["r3"]) == (10_000, 4_000, 0)
        assert body["lm3"] == pytest.approx(1.4)
        assert body["velocity"] > 0

        refused = await client.get("/aggregates", params={"territory": "69"}, headers=READ_ISERE)
        assert refused.status_code == 403
        mine = (await client.get("/aggregates", headers=READ_ISERE)).json()["items"]
        assert {row["territory"] for row in mine} == {"38"}


ACCOUNTS = [
    ("iss", "issuer", None),
    ("fund", "fund", "38"),
    ("a", "member", "38"),
    ("b", "merchant", "38"),
    ("c", "member", "69"),
    ("d", "merchant", "69"),
    ("e", "member", None),
]
DAYS = [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1)]

moves = st.lists(
    st.tuples(
        st.integers(0, len(ACCOUNTS) - 1),
        st.integers(0, len(ACCOUNTS) - 1),
        st.integers(1, 5_000),
    ),
    min_size=1,
    max_size=3,
)
streams = st.lists(
    st.tuples(moves, st.sampled_from(DAYS), st.sampled_from(["MESURE", "ECO"])),
    min_size=1,
    max_size=12,
)


def _transaction(index: int, spec: tuple) -> TransactionPosted:
    pairs, day, currency = spec
    debits, credits = [], []
    for payer, payee, amount in pairs:
        debits.append(leg(*ACCOUNTS[payer][:2], ACCOUNTS[payer][2], -amount))
        credits.append(leg(*ACCOUNTS[payee][:2], ACCOUNTS[payee][2], amount))
    return TransactionPosted(
        transaction_id=f"tx{index}",
        currency=currency,
        kind="transfer",
        postings=[*debits, *credits],
        effective_date=day,
    )


@pytest.fixture(scope="module")
def aggregates_db(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("diagnostics")


async def _replay(url: str, stream: list[tuple]) -> None:
    engine = make_engine(url, pool_size=2, max_overflow=0)
    factory = make_session_factory(engine)
    try:
        async with factory() as session, session.begin():
            await session.execute(
                text(
                    "TRUNCATE currency_transfers, currency_aggregates, "
                    "currency_active_accounts, outbox"
                )
            )
        for index, spec in enumerate(stream):
            payload = _transaction(index, spec)
            event = new_event(payload, source="/proxima/ledger", subject=payload.transaction_id)
            async with factory() as session, session.begin():
                await apply_transaction(session, event)
        async with factory() as session:
            live = await live_store.all_counters(session)
            rebuilt = await recompute_from_transfers(session)
        assert live == rebuilt
        async with factory() as session:
            active = await live_store.active_account_counts(session)
            assert active == await recompute_active_accounts_from_transfers(session)
        assert set(active) <= set(live)
        assert all(c.transactions >= 1 for c in live.values())
    finally:
        await engine.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=streams)
def test_incremental_aggregates_equal_a_recomputation_from_raw_transfers(
    aggregates_db: str, stream: list[tuple]
) -> None:
    asyncio.run(_replay(aggregates_db, stream))


async def _applied(client: httpx.AsyncClient) -> int:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        return int(await session.scalar(text("SELECT count(*) FROM processed_events")) or 0)


async def _counters(client: httpx.AsyncClient) -> dict:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        return {
            "counters": await live_store.all_counters(session),
            "active": await live_store.active_account_counts(session),
        }


async def test_replaying_the_log_from_offset_zero_rebuilds_the_same_aggregates(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> None:
    events_url = new_database("events")
    stream = [_transaction(i, spec) for i, spec in enumerate(REPLAY_STREAM)]
    live_settings = settings_for(migrated_database("diagnostics"), events_url)
    async with serve(create_app, live_settings) as live:
        events = [new_event(p, source="/proxima/ledger", subject=p.transaction_id) for p in stream]
        await publish_as_owner(live_settings, events)
        await eventually(lambda: _applied(live), lambda n: n == len(stream))
        live_counters = await _counters(live)
        # A new consumer group on an empty database reads the ledger's log from offset 0.
        rebuild_settings = settings_for(
            migrated_database("diagnostics"), events_url, consumer_group="diagnostics-rebuild"
        )
        async with serve(create_app, rebuild_settings) as rebuilt:
            await eventually(lambda: _applied(rebuilt), lambda n: n == len(stream))
            assert await _counters(rebuilt) == live_counters
    assert len(live_counters["counters"]) == 3  # (38, MESURE), (69, MESURE), (69, ECO)


REPLAY_STREAM = [
    ([(0, 2, 5_000), (1, 3, 300)], DAYS[1], "MESURE"),
    ([(2, 3, 1_200)], DAYS[1], "MESURE"),
    ([(3, 4, 700), (3, 0, 200)], DAYS[2], "MESURE"),
    ([(0, 5, 900)], DAYS[3], "ECO"),
    ([(5, 6, 400)], DAYS[3], "ECO"),
]


MESURE_ONLY = bearer(
    scopes=["diagnostics:read"],
    tenants={"territories": ["*"], "currencies": ["MESURE"]},
    client_id="mesure-partner",
)
NO_CURRENCY = bearer(
    scopes=["diagnostics:read"], tenants={"territories": ["*"]}, client_id="territory-only"
)


async def test_currency_figures_are_read_only_by_clients_bound_to_the_currency(
    client: httpx.AsyncClient,
) -> None:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    for payload in (
        posted("m", leg("m1", "member", "38", -400), leg("s1", "merchant", "38", 400)),
        TransactionPosted(
            transaction_id="e",
            currency="ECO",
            kind="transfer",
            postings=[leg("e1", "member", "38", -300), leg("e2", "merchant", "38", 300)],
            effective_date=DAY,
        ),
    ):
        event = new_event(payload, source="/proxima/ledger", subject=payload.transaction_id)
        async with factory() as session, session.begin():
            await apply_transaction(session, event)

    async def currencies(params: dict[str, str], token: dict[str, str]) -> list[str]:
        response = await client.get("/aggregates", params=params, headers=token)
        assert response.status_code == 200, response.text
        return [row["currency"] for row in response.json()["items"]]

    assert await currencies({}, READ_ALL) == ["ECO", "MESURE"]
    assert await currencies({}, MESURE_ONLY) == ["MESURE"]
    assert await currencies({"territory": "38"}, MESURE_ONLY) == ["MESURE"]
    assert await currencies({"currency": "MESURE"}, MESURE_ONLY) == ["MESURE"]
    assert await currencies({}, NO_CURRENCY) == []

    month = {"territory": "38", "period": DAY.strftime("%Y-%m")}
    for token, currency in ((MESURE_ONLY, "ECO"), (NO_CURRENCY, "MESURE")):
        other = await client.get("/aggregates", params={"currency": currency}, headers=token)
        assert other.status_code == 403, other.text
        circulation = await client.get(
            "/aggregates/circulation", params={**month, "currency": currency}, headers=token
        )
        assert circulation.status_code == 403, circulation.text
        for view in ("indicators", "report", "report.html"):
            refused = await client.get(
                f"/territories/38/{view}",
                params={"year": 2019, "currency": currency},
                headers=token,
            )
            assert refused.status_code == 403, (view, refused.text)
    own = await client.get(
        "/aggregates/circulation", params={**month, "currency": "MESURE"}, headers=MESURE_ONLY
    )
    assert own.status_code == 200, own.text
    assert own.json()["spent_locally"] == 400
