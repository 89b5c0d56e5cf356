"""The live stream: events published on the bus reach SSE clients, filtered by tenant,
resumable with Last-Event-ID, and folded into the dashboard summary."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.events.catalog.diagnostics import AggregateUpdated
from shared.events.catalog.funding import BudgetCommitted, PaymentOrdered, PaymentPaid
from shared.events.catalog.ledger import PostedLeg, TransactionPosted
from shared.events.envelope import Event, encode
from shared.events.registry import EventPayload, topic_for
from shared.events.transports.base import OutgoingRecord
from tests.integration.gateway.conftest import (
    ADMIN_SECRET,
    bearer,
    register,
    serve,
    unique_id,
)
from tests.support.events import owned_event, producer_as, publish_as_owner


@pytest.fixture(scope="module")
def stream_settings(gateway_databases: tuple[str, str], tmp_path_factory) -> GatewaySettings:
    database_url, events_url = gateway_databases
    return GatewaySettings(
        env="test",
        database_url=database_url,
        events_database_url=events_url,
        signing_keys_dir=str(tmp_path_factory.mktemp("keys")),
        bootstrap_admin_secret=ADMIN_SECRET,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        anonymous_rate_limit_burst=10_000,
        rate_limit_burst=10_000,
        log_json=False,
        log_level="WARNING",
        relay_poll_interval_s=0.2,
        stream_poll_interval_s=0.5,
        stream_heartbeat_s=1,
    )


@pytest.fixture(scope="module")
def gateway_url(stream_settings: GatewaySettings) -> Iterator[str]:
    with serve(create_app(stream_settings), lifespan="on") as url:
        yield url


@pytest.fixture
async def http(gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10) as client:
        yield client


async def publish(
    settings: GatewaySettings, *payloads: EventPayload, kafka: Any | None = None
) -> list[Event]:
    """Publish on the bus exactly as the producing service's outbox relay would."""
    events = [owned_event(p, subject=unique_id("subject")) for p in payloads]
    await publish_as_owner(settings, events, kafka=kafka)
    return events


async def access(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = await http.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def viewer(http: httpx.AsyncClient, **tenants: list[str]) -> str:
    admin = bearer(await access(http, "admin", ADMIN_SECRET))
    created = await register(
        http, admin=admin, role="dashboard", scopes=["dashboard:read"], tenants=tenants
    )
    return await access(http, created["client_id"], created["client_secret"])


async def read_events(
    response: httpx.Response, *, count: int, timeout: float = 15
) -> list[dict[str, Any]]:
    """The next ``count`` data events (``message`` events) of an open SSE response."""
    events: list[dict[str, Any]] = []
    fields: dict[str, str] = {}

    async def collect() -> None:
        async for line in response.aiter_lines():
            if line == "":
                if "data" in fields and fields.get("event", "message") == "message":
                    events.append({"id": fields.get("id"), **json.loads(fields["data"])})
                    if len(events) == count:
                        return
                fields.clear()
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    await asyncio.wait_for(collect(), timeout)
    return events


async def summary_when(http: httpx.AsyncClient, token: str, predicate, timeout: float = 15):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = (await http.get("/api/dashboard/summary", headers=bearer(token))).json()
        if predicate(body):
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"summary never matched: {body}")
        await asyncio.sleep(0.1)


def aggregate(territory: str, metric: str, value: float, currency: str | None = "MESURE"):
    return AggregateUpdated(
        territory=territory,
        metric=metric,
        period="2026-11",
        currency=currency,
        value=value,
        unit="EUR" if metric == "currency_volume" else "ratio",
    )


async def test_a_published_aggregate_reaches_a_connected_client(http, stream_settings):
    token = await viewer(http, territories=["*"], currencies=["*"], programmes=["*"])
    territory = unique_id("t")
    async with http.stream(
        "GET", "/api/stream", headers=bearer(token) | {"Accept": "text/event-stream"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        await publish(stream_settings, aggregate(territory, "currency_volume", 1234.5))
        (event,) = await read_events(response, count=1)
    assert event["type"] == "proxima.diagnostics.aggregate.updated.v1"
    assert event["territory"] == territory
    assert event["data"] == {
        "metric": "currency_volume",
        "period": "2026-11",
        "value": 1234.5,
        "unit": "EUR",
    }
    assert event["id"] == str(event["position"])


async def test_the_token_may_come_as_a_query_parameter_on_the_stream(http, stream_settings):
    token = await viewer(http, territories=["*"], currencies=["*"])
    territory = unique_id("q")
    async with http.stream("GET", "/api/stream", params={"access_token": token}) as response:
        assert response.status_code == 200
        await publish(stream_settings, aggregate(territory, "velocity", 2.5))
        (event,) = await read_events(response, count=1)
    assert event["territory"] == territory


async def test_the_stream_without_a_token_is_a_401_problem(http):
    response = await http.get("/api/stream")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_client_sees_only_its_territories(http, stream_settings):
    mine, theirs = unique_id("mine"), unique_id("theirs")
    token = await viewer(http, territories=[mine], currencies=["*"])
    async with http.stream("GET", "/api/stream", headers=bearer(token)) as response:
        await publish(
            stream_settings,
            aggregate(theirs, "currency_volume", 1.0),
            aggregate(mine, "currency_volume", 2.0),
        )
        (event,) = await read_events(response, count=1)
    assert event["territory"] == mine
    body = await summary_when(http, token, lambda b: b["territories"])
    assert {t["territory"] for t in body["territories"]} == {mine}


async def test_last_event_id_resumes_after_the_given_position(http, stream_settings):
    token = await viewer(http, territories=["*"], currencies=["*"])
    territory = unique_id("resume")
    async with http.stream("GET", "/api/stream", headers=bearer(token)) as response:
        await publish(
            stream_settings,
            aggregate(territory, "currency_volume", 1.0),
            aggregate(territory, "currency_volume", 2.0),
            aggregate(territory, "currency_volume", 3.0),
        )
        first, second, third = await read_events(response, count=3)
    headers = bearer(token) | {"Last-Event-ID": first["id"]}
    async with http.stream("GET", "/api/stream", headers=headers) as response:
        replayed = await read_events(response, count=2)
    assert [e["data"]["value"] for e in replayed] == [2.0, 3.0]
    assert [e["id"] for e in replayed] == [second["id"], third["id"]]


async def test_ledger_and_funding_events_feed_the_summary(http, stream_settings):
    token = await viewer(http, territories=["*"], currencies=["*"], programmes=["*"])
    territory, programme = unique_id("city"), unique_id("PROG")
    transaction = TransactionPosted(
        transaction_id=unique_id("tx"),
        currency="MESURE",
        kind="transfer",
        effective_date=date(2026, 11, 27),
        postings=[
            PostedLeg(account_id="a", account_type="member", territory=territory, amount=-2500),
            PostedLeg(account_id="b", account_type="merchant", territory=territory, amount=2500),
        ],
    )
    payment = PaymentOrdered(
        order_id=unique_id("order"),
        application_id="app-1",
        tranche_id="t1",
        programme_code=programme,
        territory=territory,
        currency="MESURE",
        amount=10_000,
        beneficiary_account_id="b",
        funding_account_id="f",
    )
    committed = BudgetCommitted(
        envelope_id="e",
        envelope_code="ENV",
        programme_code=programme,
        year=2026,
        territory=territory,
        application_id="app-1",
        amount_cents=30_000,
        committed_cents=30_000,
        ap_cents=1_000_000,
    )
    paid = PaymentPaid(
        order_id="o",
        application_id="app-1",
        tranche_id="t1",
        programme_code=programme,
        envelope_code="ENV",
        territory=territory,
        mode="local_currency",
        currency="MESURE",
        amount=10_000,
    )
    await publish(stream_settings, transaction, transaction.model_copy(), payment, committed, paid)
    body = await summary_when(
        http,
        token,
        lambda b: (
            any(p["programme"] == programme and p["paid"] for p in b["programmes"])
            and any(entry["territory"] == territory for entry in b["ledger"])
        ),
    )
    (ledger,) = [e for e in body["ledger"] if e["territory"] == territory]
    assert ledger == {
        "territory": territory,
        "currency": "MESURE",
        "volume": 5000,
        "transactions": 2,
    }
    grants = {p["currency"]: p for p in body["programmes"] if p["programme"] == programme}
    assert grants["MESURE"] == {
        "programme": programme,
        "currency": "MESURE",
        "committed": 0,
        "ordered": 10_000,
        "paid": 10_000,
        "payments": 1,
    }
    assert grants["EUR"]["committed"] == 30_000


async def test_engine_shares_are_grouped_per_territory(http, stream_settings):
    token = await viewer(http, territories=["*"], currencies=["*"])
    territory = unique_id("engines")
    await publish(
        stream_settings,
        *(
            aggregate(territory, f"share_{engine}", share, currency=None)
            for engine, share in (
                ("productive", 0.3),
                ("residential", 0.4),
                ("public", 0.2),
                ("social", 0.1),
            )
        ),
    )
    body = await summary_when(
        http,
        token,
        lambda b: any(
            e["territory"] == territory and len(e["shares"]) == 4 for e in b["engine_shares"]
        ),
    )
    (entry,) = [e for e in body["engine_shares"] if e["territory"] == territory]
    assert entry["shares"] == {"productive": 0.3, "residential": 0.4, "public": 0.2, "social": 0.1}


async def test_a_redelivered_event_is_applied_once(http, stream_settings, engine_for):
    token = await viewer(http, territories=["*"], currencies=["*"])
    territory = unique_id("dup")
    (event,) = await publish(stream_settings, aggregate(territory, "currency_volume", 7.0))
    producer = producer_as(stream_settings, "diagnostics")
    await producer.start()
    await producer.send_many(
        [OutgoingRecord(topic=topic_for(event.type), key=event.subject, value=encode(event))]
    )
    await producer.stop()
    marker = unique_id("after")
    await publish(stream_settings, aggregate(marker, "currency_volume", 1.0))
    await summary_when(
        http, token, lambda b: any(t["territory"] == marker for t in b["territories"])
    )
    engine = engine_for(stream_settings.database_url)
    async with engine.connect() as conn:
        count = (
            await conn.execute(
                text("SELECT count(*) FROM stream_events WHERE territory = :t"), {"t": territory}
            )
        ).scalar_one()
    assert count == 1


async def test_the_summary_needs_the_dashboard_scope(http):
    admin = bearer(await access(http, "admin", ADMIN_SECRET))
    created = await register(http, admin=admin, scopes=["ledger:read"])
    token = await access(http, created["client_id"], created["client_secret"])
    response = await http.get("/api/dashboard/summary", headers=bearer(token))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_idle_stream_carries_heartbeats(http):
    token = await viewer(http, territories=["*"], currencies=["*"])
    async with http.stream("GET", "/api/stream", headers=bearer(token)) as response:

        async def first_comment() -> str:
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    return line
            raise AssertionError("stream ended")

        comment = await asyncio.wait_for(first_comment(), timeout=5)
    assert comment.startswith(": ping")


@pytest.mark.kafka
async def test_the_stream_is_fed_from_apache_kafka_too(kafka, make_settings_for_kafka) -> None:
    settings = make_settings_for_kafka(kafka)
    with serve(create_app(settings), lifespan="on") as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            token = await viewer(client, territories=["*"], currencies=["*"])
            territory = unique_id("kafka")
            await publish(settings, aggregate(territory, "currency_volume", 42.0), kafka=kafka)
            body = await summary_when(
                client,
                token,
                lambda b: any(t["territory"] == territory for t in b["territories"]),
                timeout=60,
            )
    (entry,) = [t for t in body["territories"] if t["territory"] == territory]
    assert entry["metrics"]["currency_volume"]["value"] == 42.0


@pytest.fixture
def make_settings_for_kafka(stream_settings: GatewaySettings, tmp_path):
    def make(kafka: Any) -> GatewaySettings:
        """The gateway on the test broker, as its own principal."""
        credentials: dict[str, Any] = kafka.client_settings("gateway")
        credentials["kafka_password"] = SecretStr(credentials["kafka_password"])
        return stream_settings.model_copy(
            update={
                "event_bus": "kafka",
                **credentials,
                "signing_keys_dir": str(tmp_path / "keys"),
            }
        )

    return make
