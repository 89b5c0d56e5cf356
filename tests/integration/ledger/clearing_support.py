"""Two euro-backed currencies opted into clearing, with reserves, members and merchants,
set up through the ledger's API only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.integration.ledger.ledger_support import CURRENCY, OTHER, Ledger, operator

A, B = CURRENCY, OTHER  # GONETTE, MESURE


@dataclass
class Side:
    currency: str
    issuer: str
    reserve: str
    bank: str
    fund: str
    member: str
    shop: str
    terms: dict[str, Any]


async def opt_in(ledger: Ledger, currency: str, **terms: Any) -> httpx.Response:
    return await ledger.client.put(
        f"/clearing/terms/{currency}", json=terms, headers=ledger.headers
    )


async def side(ledger: Ledger, currency: str, *, funded: int, **terms: Any) -> Side:
    """A euro-backed currency with its reserve, a funded member and a merchant, opted in."""
    issuer = await ledger.account(currency, "issuer")
    reserve = await ledger.account("EUR", "reserve")
    bank = await ledger.account("EUR", "issuer")
    fund = await ledger.account(currency, "fund")
    r = await ledger.client.put(
        f"/currencies/{currency}/reserve",
        json={
            "issuer_account_id": issuer,
            "reserve_account_id": reserve,
            "external_account_id": bank,
            "fund_account_id": fund,
        },
        headers=ledger.headers,
    )
    assert r.status_code == 200, r.text
    member = await ledger.account(currency, "member", holder=f"member-{currency.lower()}")
    shop = await ledger.account(currency, "merchant", holder=f"shop-{currency.lower()}")
    if funded:
        issued = await ledger.client.post(
            f"/currencies/{currency}/issuances",
            json={"account_id": member, "euros": funded},
            headers=ledger.headers,
        )
        assert issued.status_code == 201, issued.text
    if "fee_account_id" not in terms and any(terms.values()):
        terms["fee_account_id"] = fund
    r = await opt_in(ledger, currency, **terms)
    assert r.status_code == 200, r.text
    return Side(currency, issuer, reserve, bank, fund, member, shop, r.json())


async def two_sides(
    ledger: Ledger, *, funded: int = 100_000, a_terms: Any = None, b_terms: Any = None
) -> tuple[Side, Side]:
    """GONETTE (made by the fixture) and MESURE, both euro-backed, on one EUR mirror."""
    await ledger.currency(B, "euro_backed", convertible=True)
    await ledger.currency("EUR", "eur")
    return (
        await side(ledger, A, funded=funded, **(a_terms or {})),
        await side(ledger, B, funded=funded, **(b_terms or {})),
    )


def member_headers(s: Side) -> dict[str, str]:
    """The payer's own wallet app: the account's holder, bound to its currency only."""
    return operator(
        s.currency, scopes=("ledger:post", "ledger:read"), client_id=f"member-{s.currency.lower()}"
    )


async def pay(
    ledger: Ledger,
    payer: str,
    payee: str,
    amount: int,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    body = {"payer_account_id": payer, "payee_account_id": payee, "amount": amount, **extra}
    return await ledger.client.post(
        "/clearing/payments", json=body, headers=headers or ledger.headers
    )


async def invariant(ledger: Ledger, currency: str) -> dict[str, Any]:
    r = await ledger.client.get(
        f"/clearing/currencies/{currency}/invariant", headers=ledger.headers
    )
    assert r.status_code == 200, r.text
    return dict(r.json())
