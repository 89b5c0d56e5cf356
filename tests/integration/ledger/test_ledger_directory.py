"""The public directory on real PostgreSQL: listed only with consent, merchants only,
withdrawal erases the personal data, public reads carry no consent record or account and
are cacheable (ETag, 304)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.integration.ledger.ledger_support import CURRENCY, OTHER, Ledger, operator

CONSENT = {"given_by": "Mme Odile Martin, gérante", "given_at": "2026-11-30T10:00:00+01:00"}
HOURS = [
    {"day": "mo", "opens": "09:00", "closes": "12:30"},
    {"day": "sa", "opens": "08:00", "closes": "13:00"},
]


def profile(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Boulangerie du Pilat",
        "category": "alimentation",
        "address": "3 rue des Fours, 42410 Pélussin",
        "latitude": 45.4197,
        "longitude": 4.6832,
        "currencies": [CURRENCY],
        "opening_hours": HOURS,
        **overrides,
    }


async def list_business(ledger: Ledger, account: str, **overrides: Any) -> httpx.Response:
    body = {**profile(**overrides), "account_id": account, "consent": CONSENT}
    return await ledger.client.post("/directory/listings", json=body, headers=ledger.headers)


async def stored(ledger: Ledger, listing_id: str) -> dict[str, Any]:
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        row = await session.execute(
            text("SELECT * FROM directory_listings WHERE id = :id"), {"id": listing_id}
        )
        return dict(row.mappings().one())


async def test_a_listed_business_is_public_with_its_profile_only(ledger: Ledger) -> None:
    merchant = await ledger.account(type="merchant")
    created = await list_business(ledger, merchant)
    assert created.status_code == 201, created.text
    listing = created.json()
    assert listing["consent_given_by"] == CONSENT["given_by"]
    assert listing["consent_recorded_by"] == "operator"

    public = await ledger.client.get("/public/directory")  # no token at all
    assert public.status_code == 200, public.text
    [item] = public.json()["items"]
    assert set(item) == {
        "id",
        "name",
        "category",
        "address",
        "latitude",
        "longitude",
        "currencies",
        "opening_hours",
        "updated_at",
    }
    assert item["name"] == "Boulangerie du Pilat" and item["opening_hours"] == HOURS
    assert merchant not in public.text and "Odile" not in public.text

    geo = await ledger.client.get("/public/directory.geojson", params={"currency": CURRENCY})
    assert geo.status_code == 200
    assert geo.headers["content-type"].startswith("application/geo+json")
    [feature] = geo.json()["features"]
    assert geo.json()["type"] == "FeatureCollection"
    assert feature["geometry"] == {"type": "Point", "coordinates": [4.6832, 45.4197]}
    assert feature["properties"]["name"] == "Boulangerie du Pilat"
    assert "consent_given_by" not in feature["properties"]


async def test_public_reads_are_cacheable_and_revalidate_to_304(ledger: Ledger) -> None:
    merchant = await ledger.account(type="merchant")
    assert (await list_business(ledger, merchant)).status_code == 201
    first = await ledger.client.get("/public/directory.geojson")
    tag = first.headers["etag"]
    assert (
        "public" in first.headers["cache-control"]
        and "max-age=60" in first.headers["cache-control"]
    )
    again = await ledger.client.get("/public/directory.geojson", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = await ledger.account(type="merchant")
    assert (await list_business(ledger, other, name="Épicerie Vrac")).status_code == 201
    changed = await ledger.client.get("/public/directory.geojson", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


async def test_members_are_never_listed_and_consent_is_required(ledger: Ledger) -> None:
    member = await ledger.account(type="member")
    refused = await list_business(ledger, member)
    assert refused.status_code == 422
    assert refused.json()["code"] == "directory-merchant-account-required"
    merchant = await ledger.account(type="merchant")
    body = {**profile(), "account_id": merchant}
    no_consent = await ledger.client.post("/directory/listings", json=body, headers=ledger.headers)
    assert no_consent.status_code == 422
    unknown = await list_business(ledger, merchant, currencies=[CURRENCY, "WIR"])
    assert unknown.status_code == 404, unknown.text
    await ledger.currency(OTHER)
    wrong_currency = await list_business(ledger, merchant, currencies=[OTHER])
    assert wrong_currency.json()["code"] == "directory-currency-mismatch"
    assert (await ledger.client.get("/public/directory")).json()["items"] == []


async def test_only_the_currency_operator_curates_and_only_with_a_token(ledger: Ledger) -> None:
    merchant = await ledger.account(type="merchant")
    body = {**profile(), "account_id": merchant, "consent": CONSENT}
    anonymous = await ledger.client.post("/directory/listings", json=body)
    assert anonymous.status_code == 401
    stranger = operator(OTHER, client_id="other-operator")
    foreign = await ledger.client.post("/directory/listings", json=body, headers=stranger)
    assert foreign.status_code == 403
    assert (await ledger.client.post("/public/directory", json=body)).status_code == 405


async def test_withdrawal_removes_the_listing_and_erases_personal_data(ledger: Ledger) -> None:
    merchant = await ledger.account(type="merchant")
    listing_id = (await list_business(ledger, merchant)).json()["id"]
    withdrawn = await ledger.client.post(
        f"/directory/listings/{listing_id}/withdrawal", headers=ledger.headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    row = await stored(ledger, listing_id)
    for field in (
        "account_id",
        "name",
        "address",
        "latitude",
        "longitude",
        "opening_hours",
        "consent_given_by",
    ):
        assert row[field] is None, field
    assert row["withdrawn_at"] is not None
    assert (await ledger.client.get("/public/directory")).json()["items"] == []
    assert (await ledger.client.get("/public/directory.geojson")).json()["features"] == []
    again = await ledger.client.put(
        f"/directory/listings/{listing_id}", json=profile(), headers=ledger.headers
    )
    assert again.json()["code"] == "directory-listing-withdrawn"
    # The business may be listed again later, with a new consent.
    assert (await list_business(ledger, merchant)).status_code == 201


async def test_the_database_refuses_a_withdrawn_row_that_keeps_personal_data(
    ledger: Ledger,
) -> None:
    merchant = await ledger.account(type="merchant")
    listing_id = (await list_business(ledger, merchant)).json()["id"]
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        try:
            await session.execute(
                text(
                    "UPDATE directory_listings SET status = 'withdrawn', withdrawn_at = now() "
                    "WHERE id = :id"
                ),
                {"id": listing_id},
            )
        except Exception as exc:  # noqa: BLE001 - the CHECK constraint's refusal
            assert "withdrawn_without_personal_data" in str(exc)
        else:
            raise AssertionError("a withdrawn row kept its name and address")


async def test_curation_updates_filters_and_pages(ledger: Ledger) -> None:
    await ledger.currency(OTHER)
    ids = []
    for i in range(3):
        merchant = await ledger.account(type="merchant")
        r = await list_business(
            ledger, merchant, name=f"Commerce {i}", category="commerce" if i else "restauration"
        )
        ids.append(r.json()["id"])
    updated = await ledger.client.put(
        f"/directory/listings/{ids[0]}",
        json=profile(name="Café des Arts", currencies=[CURRENCY, OTHER], category="restauration"),
        headers=ledger.headers,
    )
    assert updated.status_code == 200, updated.text
    by_other = (await ledger.client.get("/public/directory", params={"currency": OTHER})).json()
    assert [i["name"] for i in by_other["items"]] == ["Café des Arts"]
    shops = (await ledger.client.get("/public/directory", params={"category": "commerce"})).json()
    assert len(shops["items"]) == 2
    first = (await ledger.client.get("/public/directory", params={"limit": 2})).json()
    rest = (
        await ledger.client.get(
            "/public/directory", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert sorted(i["id"] for i in first["items"] + rest["items"]) == sorted(ids)
    bad = await ledger.client.get("/public/directory", params={"cursor": "!!"})
    assert bad.status_code == 422
    bad_hours = profile(opening_hours=[{"day": "mo", "opens": "18:00", "closes": "09:00"}])
    refused = await ledger.client.put(
        f"/directory/listings/{ids[1]}", json=bad_hours, headers=ledger.headers
    )
    assert refused.status_code == 422
