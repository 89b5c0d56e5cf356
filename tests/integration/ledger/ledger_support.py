"""Helpers to drive a ledger app under test: settings, tokens, API factories."""

from __future__ import annotations

from typing import Any

import httpx

from services.ledger.settings import LedgerSettings
from tests.support.tokens import bearer, jwks_json

CURRENCY = "GONETTE"
OTHER = "MESURE"


def ledger_settings(db_url: str, events_url: str, **overrides: Any) -> LedgerSettings:
    defaults: dict[str, Any] = {"hold_sweep_interval_s": 0.1, "relay_poll_interval_s": 0.1}
    return LedgerSettings(
        env="test",
        database_url=db_url,
        events_database_url=events_url,
        jwks_json=jwks_json(),
        log_json=False,
        **{**defaults, **overrides},
    )


OPERATOR_SCOPES = (
    "ledger:admin",
    "ledger:post",
    "ledger:read",
    "ledger:issue",
    "ledger:reconvert",
    "ledger:demurrage",
    "ledger:sweep",
    "ledger:reverse",
)
"""A currency operator's scopes: administration, posting, reading and each operator act."""


def operator(
    *currencies: str,
    scopes: tuple[str, ...] = OPERATOR_SCOPES,
    client_id: str = "operator",
) -> dict[str, str]:
    """Headers of an operator bound to ``currencies`` with ``scopes``."""
    return bearer(scopes=scopes, tenants={"currencies": list(currencies)}, client_id=client_id)


class Ledger:
    """Small factories over the API, as one operator bound to both test currencies."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.headers = operator(CURRENCY, OTHER, "EUR", "WIR", "HOURS", "FONTE", "PASSJ")

    async def currency(
        self, code: str = CURRENCY, kind: str = "euro_backed", **rules: Any
    ) -> dict[str, Any]:
        body = {"code": code, "kind": kind, "operator": "association", "rules": rules}
        r = await self.client.post("/currencies", json=body, headers=self.headers)
        assert r.status_code == 201, r.text
        return r.json()

    async def account(self, currency: str = CURRENCY, type: str = "member", **extra: Any) -> str:
        r = await self.client.post(
            "/accounts", json={"currency": currency, "type": type, **extra}, headers=self.headers
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def transfer(
        self, source: str, dest: str, amount: int, currency: str = CURRENCY, **extra: Any
    ) -> httpx.Response:
        body = {
            "postings": [
                {"account_id": source, "currency": currency, "amount": -amount},
                {"account_id": dest, "currency": currency, "amount": amount},
            ],
            **extra,
        }
        return await self.client.post("/transactions", json=body, headers=self.headers)

    async def balance(self, account: str) -> dict[str, Any]:
        r = await self.client.get(f"/accounts/{account}/balance", headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def funded(self, amount: int = 10_000, currency: str = CURRENCY) -> tuple[str, str]:
        """(issuer, member) with ``amount`` moved from the issuer to the member."""
        issuer = await self.account(currency, "issuer")
        member = await self.account(currency, "member")
        r = await self.transfer(issuer, member, amount, currency)
        assert r.status_code == 201, r.text
        return issuer, member

    async def mandate_to_programme(self, account: str, programme: str) -> dict[str, Any]:
        """The operator mandates ``account`` to the funding service for ``programme``, as a
        programme's funding account (the ledger pays its orders only under it)."""
        body = {
            "grantee": f"funding:{programme}",
            "may_read": False,
            "max_per_payment": 10_000_000,
            "max_per_period": 100_000_000,
            "period": "year",
            "expires_at": "2099-01-01T00:00:00Z",
        }
        r = await self.client.post(f"/accounts/{account}/mandates", json=body, headers=self.headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def link_grant(self, account: str, programme: str, application: str) -> None:
        """``account`` is where ``application``'s grant is paid (linked by its operator, who
        may act for a holder without an app)."""
        body = {"programme_code": programme, "application_id": application}
        r = await self.client.post(
            f"/accounts/{account}/grant-links", json=body, headers=self.headers
        )
        assert r.status_code == 201, r.text
