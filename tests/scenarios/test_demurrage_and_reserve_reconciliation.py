"""Scenario 3 of the regional loop, through the gateway: a demurrage run and a reserve
reconciliation on a euro-backed currency (Le Cairn-style, 2 % a month)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.grant_flow import As
from tests.support.stack import admin_token, e2e_stack

pytestmark = [pytest.mark.slow]

CURRENCY = "FONTE"


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=None, run_dir=tmp_path_factory.mktemp("demurrage")
    ) as running:
        yield running


def test_demurrage_charges_holders_once_and_reconciliation_lists_the_drift(stack: Stack) -> None:
    admin = As(stack.gateway_url, admin_token(stack.gateway_url))
    admin.ok(
        "POST",
        "/ledger/currencies",
        201,
        json={"code": "EUR", "kind": "eur", "operator": "Banques"},
    )
    admin.ok(
        "POST",
        "/ledger/currencies",
        201,
        json={
            "code": CURRENCY,
            "kind": "euro_backed",
            "operator": "Association de la Fonte",
            "rules": {"convertible": True, "demurrage": {"rate_ppm": 20_000, "period": 1}},
        },
    )

    def account(currency: str, kind: str, **extra: Any) -> str:
        return str(
            admin.ok(
                "POST", "/ledger/accounts", 201, json={"currency": currency, "type": kind, **extra}
            )["id"]
        )

    issuer, fund = account(CURRENCY, "issuer"), account(CURRENCY, "fund")
    reserve, external = account("EUR", "reserve"), account("EUR", "issuer")
    member = account(CURRENCY, "member", territory="38185")
    shop = account(CURRENCY, "merchant", territory="38185", merchant_category="alimentation")
    admin.ok(
        "PUT",
        f"/ledger/currencies/{CURRENCY}/reserve",
        json={
            "issuer_account_id": issuer,
            "reserve_account_id": reserve,
            "external_account_id": external,
            "fund_account_id": fund,
        },
    )

    # euros in → units out, then the member pays the shop
    admin.ok(
        "POST",
        f"/ledger/currencies/{CURRENCY}/issuances",
        201,
        json={"account_id": member, "euros": 10_000, "idempotency_key": "fonte-1"},
    )
    admin.ok(
        "POST",
        "/ledger/transactions",
        201,
        json={
            "kind": "payment",
            "postings": [
                {"account_id": member, "currency": CURRENCY, "amount": -4_000},
                {"account_id": shop, "currency": CURRENCY, "amount": 4_000},
            ],
        },
    )

    # the reserve matches the units in circulation; a bank statement 500 short is a drift
    balanced = admin.ok(
        "GET",
        f"/ledger/currencies/{CURRENCY}/reconciliation",
        params={"reported_bank_balance": 10_000},
    )
    assert balanced["units_in_circulation"] == 10_000 == balanced["reserve_balance"]
    assert balanced["balanced"] is True
    short = admin.ok(
        "GET",
        f"/ledger/currencies/{CURRENCY}/reconciliation",
        params={"reported_bank_balance": 9_500},
    )
    assert short["balanced"] is False and short["bank_drift"] == -500 and short["ledger_drift"] == 0

    # units are only ever created against euros: a plain transfer out of the issuer is refused
    forged = admin.http.post(
        "/ledger/transactions",
        json={
            "kind": "transfer",
            "postings": [
                {"account_id": issuer, "currency": CURRENCY, "amount": -1_000},
                {"account_id": member, "currency": CURRENCY, "amount": 1_000},
            ],
        },
    )
    assert forged.status_code == 409 and forged.json()["code"] == "reserve-invariant-violated"
    # demurrage of last month: nothing was held then, so nobody pays; it runs once
    first_of_month = date.today().replace(day=1)
    last_month = (first_of_month - timedelta(days=1)).replace(day=1)
    body = {"period_start": last_month.isoformat(), "fund_account_id": fund}
    run = admin.ok("POST", f"/ledger/currencies/{CURRENCY}/demurrage-runs", json=body)
    assert run["status"] == "completed" and run["charged_total"] == 0
    assert admin.ok("POST", f"/ledger/currencies/{CURRENCY}/demurrage-runs", json=body) == run
    progress = admin.ok(
        "GET", f"/ledger/currencies/{CURRENCY}/demurrage-runs/{last_month.isoformat()}"
    )
    assert progress["accounts_done"] == progress["accounts_total"]
