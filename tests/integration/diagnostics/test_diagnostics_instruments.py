"""Funding's instruments' figures reach a territory's diagnostic through the real bus: kept
once per département (latest event wins, redeliveries and late ones change nothing), summed
up to the région with ratios recomputed from the sums, and shown in the French report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import httpx

from services.diagnostics.app import create_app
from shared.events.catalog.funding import InstrumentFigures
from shared.events.envelope import Event, encode, new_event
from shared.events.registry import topic_for
from shared.events.transports.base import OutgoingRecord
from tests.integration.diagnostics.diagnostics_support import ADMIN, settings_for
from tests.support.apps import serve
from tests.support.events import producer_as
from tests.support.tokens import bearer
from tests.support.waiting import eventually

READ_ALL = bearer(scopes=["diagnostics:read"], tenants={"territories": ["*"]}, ttl_s=7200)
READ_ISERE = bearer(scopes=["diagnostics:read"], tenants={"territories": ["38"]}, ttl_s=7200)


def _figures(
    territory: str,
    *,
    public: int,
    bank: int,
    due: int,
    repaid: int,
    source: str = "/proxima/funding",
) -> Event:
    payload = InstrumentFigures(
        territory=territory,
        as_of="2026-12-07",
        instruments=3,
        public_cents=public,
        bank_loans_cents=bank,
        due_cents=due,
        repaid_cents=repaid,
        losses_cents=1_000,
        leverage=round(bank / public, 4),
        repayment_rate=round(repaid / due, 4),
    )
    return new_event(payload, source=source, subject=territory)


def _record(event: Event) -> OutgoingRecord:
    return OutgoingRecord(topic=topic_for(event.type), key=event.subject, value=encode(event))


async def _read(client: httpx.AsyncClient, code: str, headers: dict = READ_ALL) -> httpx.Response:
    return await client.get(f"/territories/{code}/instruments", headers=headers)


async def test_figures_are_kept_once_summed_to_the_region_and_reported(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> None:
    settings = settings_for(migrated_database("diagnostics"), new_database("events"))
    async with serve(create_app, settings) as client:
        loaded = await client.post("/admin/demo", headers=ADMIN)
        assert loaded.status_code == 200, loaded.text
        empty = (await _read(client, "82")).json()
        assert (empty["departements"], empty["public_cents"], empty["leverage"]) == ([], 0, None)

        isere = _figures("38", public=1_000_000, bank=3_000_000, due=400_000, repaid=300_000)
        savoie = _figures("74", public=3_000_000, bank=3_000_000, due=100_000, repaid=100_000)
        stale = _figures("38", public=9, bank=9, due=9, repaid=9)
        stale = replace(stale, time=isere.time - timedelta(hours=1))
        # only funding may cause it: one relabelled by the gateway is dead-lettered, first
        forged = _figures("69", public=1, bank=1, due=1, repaid=1, source="/proxima/gateway")
        producer = producer_as(settings, "funding")
        await producer.start()
        try:  # each delivered twice, and an older event of Isère delivered after its newer
            await producer.send_many(
                [_record(e) for e in (forged, isere, savoie, isere, savoie, stale)]
            )
        finally:
            await producer.stop()

        region = await eventually(
            lambda: _read(client, "82"),
            lambda r: r.json()["departements"] == ["38", "74"],
        )
        await eventually(lambda: _read(client, "38"), lambda r: r.status_code == 200)
        body = region.json()
        assert (body["level"], body["instruments"], body["losses_cents"]) == ("region", 6, 2_000)
        assert (body["public_cents"], body["bank_loans_cents"]) == (4_000_000, 6_000_000)
        assert (body["due_cents"], body["repaid_cents"]) == (500_000, 400_000)
        assert body["departements"] == ["38", "74"]  # Rhône (69) forged: never applied
        # recomputed from the sums (1.5 and 0.8), not the mean of 3.0 and 1.0 nor of 0.75 and 1.0
        assert (body["leverage"], body["repayment_rate"]) == (1.5, 0.8)

        own = (await _read(client, "38", READ_ISERE)).json()  # applied once, the stale one not
        assert (own["level"], own["departements"], own["instruments"]) == ("departement", ["38"], 3)
        assert (own["public_cents"], own["leverage"], own["repayment_rate"]) == (
            1_000_000,
            3.0,
            0.75,
        )
        commune = (
            await client.get("/territories", params={"parent": "38", "limit": 1}, headers=READ_ALL)
        ).json()["items"][0]["code"]
        below = (await _read(client, commune)).json()  # figures exist per département only
        assert (below["departements"], below["instruments"]) == ([], 0)

        assert (await _read(client, "82", READ_ISERE)).status_code == 403
        missing = await _read(client, "99")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")

        report = (
            await client.get("/territories/38/report", params={"year": 2019}, headers=READ_ALL)
        ).json()
        assert report["instruments"]["public_cents"] == 1_000_000
        assert report["instruments"]["repayment_rate"] == 0.75
        page = await client.get(
            "/territories/38/report.html", params={"year": 2019}, headers=READ_ALL
        )
        assert page.status_code == 200
        assert "Prêts et garanties" in page.text and "Taux de remboursement" in page.text
        assert "Effet de levier" in page.text
        assert "10\u202f000,00\u00a0€" in page.text and "75,0\u202f%" in page.text
