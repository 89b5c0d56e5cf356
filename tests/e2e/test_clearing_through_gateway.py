"""Clearing between two independently operated euro-backed currencies, on real processes
through the gateway: each association opts its own currency in with its own operator, a
member's wallet app pays a merchant of the other currency, one operator settles last
month, and each operator sees reserve + net clearing position = circulation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import admin_token, e2e_stack, role_token

pytestmark = [pytest.mark.slow]

CUR_A, CUR_B, EUR = "CLRA", "CLRB", "CLREUR"
OPERATOR_SCOPES = ["ledger:admin", "ledger:read", "ledger:post", "ledger:issue"]


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=None, run_dir=tmp_path_factory.mktemp("clearing")
    ) as running:
        yield running


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.url}: {response.status_code} {response.text}"
    return response.json()


def _client(stack: Stack, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{stack.gateway_url}/api/ledger",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_a_wallet_pays_a_merchant_of_another_association(stack: Stack) -> None:
    gateway = stack.gateway_url
    admin_token_ = admin_token(gateway)
    admin = _client(stack, admin_token_)
    for code, kind in ((CUR_A, "euro_backed"), (CUR_B, "euro_backed"), (EUR, "eur")):
        _ok(admin.post("/currencies", json={"code": code, "kind": kind, "operator": code}))
    tokens = {
        code: role_token(
            gateway,
            admin_token_,
            client_id=f"clr-op-{code.lower()}",
            role="currency_operator",
            scopes=OPERATOR_SCOPES,
            tenants={"currencies": [code, EUR]},
        )
        for code in (CUR_A, CUR_B)
    }
    wallet = role_token(
        gateway,
        admin_token_,
        client_id="clr-wallet",
        role="member_wallet",
        scopes=["ledger:read", "ledger:post"],
        tenants={"currencies": [CUR_A]},
    )
    sides: dict[str, dict[str, str]] = {}
    for code in (CUR_A, CUR_B):
        op = _client(stack, tokens[code])

        def account(currency: str, kind: str, holder: str | None = None) -> str:
            body = {"currency": currency, "type": kind, **({"holder": holder} if holder else {})}
            return str(_ok(op.post("/accounts", json=body))["id"])  # noqa: B023

        s = {
            "issuer": account(code, "issuer"),
            "reserve": account(EUR, "reserve"),
            "bank": account(EUR, "issuer"),
            "member": account(code, "member", "clr-wallet" if code == CUR_A else None),
            "shop": account(code, "merchant"),
        }
        _ok(
            op.put(
                f"/currencies/{code}/reserve",
                json={
                    "issuer_account_id": s["issuer"],
                    "reserve_account_id": s["reserve"],
                    "external_account_id": s["bank"],
                },
            )
        )
        _ok(
            op.post(
                f"/currencies/{code}/issuances", json={"account_id": s["member"], "euros": 10_000}
            )
        )
        s["clearing"] = _ok(op.put(f"/clearing/terms/{code}", json={}))["clearing_account_id"]
        sides[code] = s
        op.close()
    # The other association's operator cannot opt this currency in.
    with _client(stack, tokens[CUR_B]) as op_b:
        assert op_b.put(f"/clearing/terms/{CUR_A}", json={}).status_code == 403
    day = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    with _client(stack, wallet) as app:
        paid = _ok(
            app.post(
                "/clearing/payments",
                json={
                    "payer_account_id": sides[CUR_A]["member"],
                    "payee_account_id": sides[CUR_B]["shop"],
                    "amount": 1_500,
                    "effective_date": day.isoformat(),
                },
                headers={"Idempotency-Key": "e2e-clearing-1"},
            )
        )
        assert paid["period"] == f"{day:%Y-%m}" and paid["credited"] == 1_500
        assert app.get(f"/clearing/currencies/{CUR_A}/invariant").status_code == 403
    with _client(stack, tokens[CUR_A]) as op_a:
        settled = _ok(
            op_a.post(
                "/clearing/settlements",
                json={"currency_a": CUR_A, "currency_b": CUR_B, "period": f"{day:%Y-%m}"},
            )
        )
        assert (settled["payer_currency"], settled["amount"]) == (CUR_A, 1_500)
        a = _ok(op_a.get(f"/clearing/currencies/{CUR_A}/invariant"))
    with _client(stack, tokens[CUR_B]) as op_b:
        b = _ok(op_b.get(f"/clearing/currencies/{CUR_B}/invariant"))
        shop = _ok(op_b.get(f"/accounts/{sides[CUR_B]['shop']}/balance"))
    assert a["holds"] and b["holds"]
    assert (a["reserve_balance"], a["circulation"]) == (8_500, 8_500)
    assert (b["reserve_balance"], b["circulation"]) == (11_500, 11_500)
    assert a["net_clearing_position"] == b["net_clearing_position"] == 0
    assert shop["posted"] == 1_500
    admin.close()
