"""The public reads through the gateway on real processes, with no token: the directory
lists a business only once its operator recorded its consent and forgets it on
withdrawal, never shows a member, and takes no write; the open data answers only for a
currency whose operator opted in. Anonymous calls are rate-limited and cacheable."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import admin_token, e2e_stack

pytestmark = [pytest.mark.slow]

CURRENCY = "PILAT"
MEMBER_NAME = "Jeanne Membre-Privée"


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=None, run_dir=tmp_path_factory.mktemp("public-reads")
    ) as running:
        yield running


@pytest.fixture(scope="module")
def operator(stack: Stack) -> Iterator[httpx.Client]:
    token = admin_token(stack.gateway_url)
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        created = client.post(
            "/api/ledger/currencies",
            json={"code": CURRENCY, "kind": "mutual_credit", "operator": "Association Pilat"},
        )
        assert created.status_code == 201, created.text
        yield client


@pytest.fixture(scope="module")
def anonymous(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        yield client


def _account(operator: httpx.Client, kind: str, name: str) -> str:
    opened = operator.post(
        "/api/ledger/accounts", json={"currency": CURRENCY, "type": kind, "name": name}
    )
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def _listing(account: str, name: str) -> dict[str, object]:
    return {
        "account_id": account,
        "name": name,
        "category": "alimentation",
        "address": "3 rue des Fours, 42410 Pélussin",
        "latitude": 45.4197,
        "longitude": 4.6832,
        "currencies": [CURRENCY],
        "opening_hours": [{"day": "sa", "opens": "08:00", "closes": "13:00"}],
        "consent": {"given_by": "Mme Martin, gérante", "given_at": "2026-11-30T10:00:00+01:00"},
    }


def test_the_directory_lists_with_consent_and_forgets_on_withdrawal(
    operator: httpx.Client, anonymous: httpx.Client
) -> None:
    member = _account(operator, "member", MEMBER_NAME)
    refused = operator.post("/api/ledger/directory/listings", json=_listing(member, MEMBER_NAME))
    assert refused.status_code == 422, refused.text
    assert anonymous.get("/api/ledger/public/directory").json()["items"] == []

    merchant = _account(operator, "merchant", "Boulangerie du Pilat")
    listed = operator.post(
        "/api/ledger/directory/listings", json=_listing(merchant, "Boulangerie du Pilat")
    )
    assert listed.status_code == 201, listed.text
    listing_id = listed.json()["id"]

    page = anonymous.get("/api/ledger/public/directory", params={"currency": CURRENCY})
    assert page.status_code == 200, page.text
    assert "ratelimit-limit" in page.headers, "anonymous reads are rate-limited per address"
    assert [i["name"] for i in page.json()["items"]] == ["Boulangerie du Pilat"]
    for private in (member, merchant, MEMBER_NAME, "Mme Martin"):
        assert private not in page.text
    geo = anonymous.get("/api/ledger/public/directory.geojson")
    assert geo.status_code == 200
    assert geo.json()["features"][0]["geometry"]["coordinates"] == [4.6832, 45.4197]
    assert MEMBER_NAME not in geo.text
    cached = anonymous.get(
        "/api/ledger/public/directory.geojson", headers={"If-None-Match": geo.headers["etag"]}
    )
    assert cached.status_code == 304

    withdrawn = operator.post(f"/api/ledger/directory/listings/{listing_id}/withdrawal")
    assert withdrawn.status_code == 200, withdrawn.text
    assert anonymous.get("/api/ledger/public/directory").json()["items"] == []
    assert anonymous.get("/api/ledger/public/directory.geojson").json()["features"] == []
    assert "Boulangerie" not in operator.get(f"/api/ledger/directory/listings/{listing_id}").text


def test_nothing_is_written_or_read_beyond_the_allowlist_without_a_token(
    anonymous: httpx.Client,
) -> None:
    body = _listing("00000000-0000-0000-0000-000000000000", "Intrus")
    for method, path in (
        ("POST", "/api/ledger/directory/listings"),
        ("POST", "/api/ledger/public/directory"),
        ("PUT", "/api/diagnostics/opendata/currencies/PILAT"),
        ("DELETE", "/api/diagnostics/opendata/currencies/PILAT"),
        ("GET", "/api/ledger/accounts"),
        ("GET", "/api/ledger/directory/listings/00000000-0000-0000-0000-000000000000"),
        ("GET", "/api/ledger/public/directory/../accounts"),
    ):
        answer = anonymous.request(method, path, json=body if method == "POST" else None)
        assert answer.status_code in (401, 404), (method, path, answer.status_code)
        assert answer.status_code == 401 or ".." in path


def test_open_data_answers_only_once_the_operator_opts_in(
    operator: httpx.Client, anonymous: httpx.Client
) -> None:
    path = "/api/diagnostics/public/opendata/currency-figures.json"
    before = anonymous.get(path, params={"currency": CURRENCY})
    assert before.status_code == 404, before.text
    assert before.json()["code"] == "opendata-not-published"
    opted = operator.put(f"/api/diagnostics/opendata/currencies/{CURRENCY}")
    assert opted.status_code == 200, opted.text
    after = anonymous.get(path, params={"currency": CURRENCY})
    assert after.status_code == 200, after.text
    assert after.json()["licence"]["name"] == "Licence Ouverte 2.0"
    assert 'rel="license"' in after.headers["link"]
    table = anonymous.get("/api/diagnostics/public/opendata/currency-figures.csv")
    assert table.status_code == 200
    assert table.text.splitlines()[0].startswith("monnaie,territoire,mois,")
    assert operator.delete(f"/api/diagnostics/opendata/currencies/{CURRENCY}").status_code == 204
    assert anonymous.get(path, params={"currency": CURRENCY}).status_code == 404
