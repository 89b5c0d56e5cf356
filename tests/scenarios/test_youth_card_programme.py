"""Scenario 2 of the regional loop, through the gateway: an M'Ra-style youth card. A
cardholder receives programme credits, spends them at an approved bookshop, is refused at
an unapproved merchant and above the books cap; the unspent lot expires and sweeps back to
the funder; the programme report shows which funder paid for which spending."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.grant_flow import As
from tests.support.stack import admin_token, e2e_stack

pytestmark = [pytest.mark.slow]

CURRENCY = "MRA"
BASE = f"/ledger/currencies/{CURRENCY}"


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=None, run_dir=tmp_path_factory.mktemp("youth_card")
    ) as running:
        yield running


def test_youth_card_credits_spent_refused_expired_and_reported(stack: Stack) -> None:
    admin = As(stack.gateway_url, admin_token(stack.gateway_url))
    admin.ok(
        "POST",
        "/ledger/currencies",
        201,
        json={"code": CURRENCY, "kind": "voucher", "operator": "Région Auvergne-Rhône-Alpes"},
    )

    def account(kind: str, **extra: Any) -> str:
        return str(
            admin.ok(
                "POST", "/ledger/accounts", 201, json={"currency": CURRENCY, "type": kind, **extra}
            )["id"]
        )

    issuer = account("issuer")
    region = account("programme", name="Région — Pass'Région")
    youth = account("member", territory="69123", name="Carte jeune")
    bookshop = account("merchant", territory="69123", merchant_category="books")
    cinema = account("merchant", territory="69123", merchant_category="culture")
    unapproved = account("merchant", territory="69123", merchant_category="books")
    admin.ok(
        "POST",
        "/ledger/transactions",
        201,
        json={
            "kind": "programme_budget",
            "postings": [
                {"account_id": issuer, "currency": CURRENCY, "amount": -10_000},
                {"account_id": region, "currency": CURRENCY, "amount": 10_000},
            ],
        },
    )
    admin.ok(
        "PUT",
        f"{BASE}/programme",
        json={
            "allowed_categories": ["books", "culture", "sport"],
            "category_caps": {"books": 2_000},
            "cap_period": "year",
            "approved_merchants": [bookshop, cinema],
            "funders": [region],
        },
    )

    # the cardholder receives a year-long lot, and a sport lot that lapses within seconds
    soon = datetime.now(UTC) + timedelta(seconds=2)
    sport = admin.ok(
        "POST",
        f"{BASE}/credits",
        201,
        json={
            "funder_account_id": region,
            "beneficiary_account_id": youth,
            "amount": 500,
            "expires_at": soon.isoformat(),
            "categories": ["sport"],
        },
    )
    grant = {
        "funder_account_id": region,
        "beneficiary_account_id": youth,
        "amount": 3_000,
        "expires_at": (datetime.now(UTC) + timedelta(days=365)).isoformat(),
        "idempotency_key": "pass-region-2026-youth-1",
    }
    yearly = admin.ok("POST", f"{BASE}/credits", 201, json=grant)
    assert admin.ok("POST", f"{BASE}/credits", 200, json=grant) == yearly  # a retry pays once

    # spent at the approved bookshop, paid by the region's lot
    bought = admin.ok(
        "POST",
        f"{BASE}/purchases",
        201,
        json={"beneficiary_account_id": youth, "merchant_account_id": bookshop, "amount": 1_500},
    )
    assert bought["category"] == "books"
    assert bought["draws"] == [
        {"lot_id": yearly["lot"]["id"], "funder_account_id": region, "amount": 1_500}
    ]

    # refused at an unapproved merchant, and above the yearly books cap of 2,000
    refused = admin.http.post(
        f"{BASE}/purchases",
        json={"beneficiary_account_id": youth, "merchant_account_id": unapproved, "amount": 100},
    )
    assert refused.status_code == 422 and refused.json()["code"] == "merchant-not-approved"
    over_cap = admin.http.post(
        f"{BASE}/purchases",
        json={"beneficiary_account_id": youth, "merchant_account_id": bookshop, "amount": 600},
    )
    assert over_cap.status_code == 409 and over_cap.json()["code"] == "category-cap-exceeded"
    assert admin.ok("GET", f"/ledger/accounts/{youth}/balance")["posted"] == 500 + 1_500

    # the sport lot lapses unspent and sweeps back to the region, once
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.3)
    swept = admin.ok("POST", f"{BASE}/expiry-sweeps")
    assert (swept["lots_swept"], swept["amount_swept"]) == (1, 500)
    assert admin.ok("POST", f"{BASE}/expiry-sweeps")["lots_swept"] == 0
    lots = admin.ok("GET", f"{BASE}/credits", params={"beneficiary": youth})["items"]
    assert {lot["id"]: lot["remaining"] for lot in lots} == {
        sport["lot"]["id"]: 0,
        yearly["lot"]["id"]: 1_500,
    }
    assert admin.ok("GET", f"/ledger/accounts/{region}/balance")["posted"] == 10_000 - 3_000
    assert admin.ok("GET", f"/ledger/accounts/{youth}/balance")["posted"] == 1_500

    # the report says which funder paid for what, and what came back
    report = admin.ok("GET", f"{BASE}/programme-report")
    assert report["next_cursor"] is None
    (funder,) = report["items"]
    assert funder["funder_account_id"] == region
    assert (funder["granted"], funder["spent"], funder["swept"], funder["outstanding"]) == (
        3_500,
        1_500,
        500,
        1_500,
    )
    assert funder["by_category"] == [{"category": "books", "amount": 1_500}]
    assert funder["by_merchant"] == [{"merchant_account_id": bookshop, "amount": 1_500}]

    # every movement is an ordinary ledger transaction
    kinds = [
        tx["kind"]
        for tx in admin.ok("GET", "/ledger/transactions", params={"currency": CURRENCY})["items"]
    ]
    assert kinds == [
        "programme_budget",
        "programme_credit",
        "programme_credit",
        "programme_purchase",
        "programme_expiry",
    ]
