"""Funding events feed the live grant aggregates, once each, through the real bus."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from services.diagnostics.app import create_app
from shared.events.catalog.funding import BudgetCommitted, BudgetReleased, PaymentPaid
from shared.events.envelope import encode, new_event
from shared.events.registry import EventPayload, topic_for
from shared.events.transports.base import OutgoingRecord
from tests.integration.diagnostics.diagnostics_support import settings_for
from tests.support.apps import serve
from tests.support.events import producer_as
from tests.support.tokens import bearer
from tests.support.waiting import eventually

READ_ALL = bearer(
    scopes=["diagnostics:read"], tenants={"territories": ["*"], "programmes": ["*"]}, ttl_s=7200
)


def _budget(cls: type, amount: int, application: str) -> EventPayload:
    return cls(
        envelope_id="env-1",
        envelope_code="IDECLIC-2026",
        programme_code="IDECLIC",
        year=2026,
        territory="38",
        application_id=application,
        amount_cents=amount,
        committed_cents=amount,
        ap_cents=10_000_000,
    )


def _paid(amount: int, currency: str) -> PaymentPaid:
    return PaymentPaid(
        order_id=f"order-{amount}",
        application_id="app-1",
        tranche_id="t-1",
        programme_code="IDECLIC",
        envelope_code="IDECLIC-2026",
        territory="38",
        mode="local_currency" if currency != "EUR" else "euro",
        currency=currency,
        amount=amount,
    )


async def _grants(client: httpx.AsyncClient, headers: dict) -> list[dict]:
    return (await client.get("/grants", headers=headers)).json()["items"]


async def test_commitments_releases_and_payments_add_up_once(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> None:
    settings = settings_for(migrated_database("diagnostics"), new_database("events"))
    async with serve(create_app, settings) as client:
        payloads = [
            _budget(BudgetCommitted, 500_000, "app-1"),
            _budget(BudgetCommitted, 200_000, "app-2"),
            _budget(BudgetReleased, 50_000, "app-2"),
            _paid(150_000, "EUR"),
            _paid(40_000, "MESURE"),
        ]
        events = [new_event(p, source="/proxima/funding", subject="app") for p in payloads]
        records = [
            OutgoingRecord(topic=topic_for(e.type), key=e.subject, value=encode(e)) for e in events
        ]
        producer = producer_as(settings, "funding")  # funding's events, written by funding
        await producer.start()
        try:
            await producer.send_many([*records, records[0], records[3]])  # two redeliveries
        finally:
            await producer.stop()
        rows = await eventually(
            lambda: _grants(client, READ_ALL),
            lambda items: len(items) == 2 and items[1]["payments"] == 1,
        )
        euro, local = rows  # sorted by currency: EUR, MESURE
        assert (euro["currency"], euro["committed"], euro["released"]) == ("EUR", 700_000, 50_000)
        assert (euro["net_committed"], euro["payments"], euro["paid"]) == (650_000, 1, 150_000)
        assert (local["currency"], local["paid"], local["committed"]) == ("MESURE", 40_000, 0)

        other = bearer(
            scopes=["diagnostics:read"], tenants={"territories": ["*"], "programmes": ["CAE"]}
        )
        assert await _grants(client, other) == []  # bound to another programme: sees nothing
        refused = await client.get("/grants", params={"programme": "IDECLIC"}, headers=other)
        assert refused.status_code == 403
