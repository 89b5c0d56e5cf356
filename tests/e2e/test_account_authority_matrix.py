"""Account authority, on real processes through the gateway: principal kind × operation ×
account relation, every cell's expected status written as a literal, and every refusal shown
to leave balances, holds and the outbox exactly as they were.

Principals: the currency's operator; a member wallet app (holder app); a partner app that
holds a debit-only mandate (no reading); a merchant terminal (may refund, ``ledger:reverse``);
a programme officer (funding scopes only: the funding service's people); a stranger bound
to both currencies with ``ledger:post`` and even ``ledger:issue``, but holding nothing it
is asked to touch.

Relations, for each principal: ``own`` (an account it holds), ``mandated`` (a member's
account with a mandate to it: 1,000.00 a payment, 5,000.00 a month), ``other`` (another
member's account), ``other_ccy`` (an account it holds in a currency it is not bound to:
refused by tenancy; the stranger is bound to both, so that one is simply its own). A card
of a currency the caller is not bound to is answered as unknown (422), as every card it
may not see: no probing of other tenancies' cards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from shared.db import make_engine
from tests.support.stack import admin_token, e2e_stack, role_token

pytestmark = [pytest.mark.slow]

CUR, CUR_B, EUR = "AUA", "AUB", "AUEUR"
OPERATOR_SCOPES = [
    "ledger:read",
    "ledger:post",
    "ledger:admin",
    "ledger:issue",
    "ledger:reconvert",
    "ledger:demurrage",
    "ledger:sweep",
    "ledger:reverse",
]
PRINCIPALS: dict[str, dict[str, Any]] = {
    "operator": {
        "role": "currency_operator",
        "scopes": OPERATOR_SCOPES,
        "tenants": {"currencies": [CUR, EUR]},
    },
    "wallet": {
        "role": "member_wallet",
        "scopes": ["ledger:read", "ledger:post"],
        "tenants": {"currencies": [CUR]},
    },
    "mandated": {
        "role": "partner_app",
        "scopes": ["ledger:read", "ledger:post"],
        "tenants": {"currencies": [CUR]},
    },
    "terminal": {
        "role": "merchant_terminal",
        "scopes": ["ledger:read", "ledger:post", "ledger:reverse"],
        "tenants": {"currencies": [CUR]},
    },
    "funding": {
        "role": "programme_officer",
        "scopes": ["funding:read", "funding:instruct", "funding:pay", "funding:admin"],
        "tenants": {"programmes": ["*"], "territories": ["*"]},
    },
    "stranger": {
        "role": "partner_app",
        "scopes": ["ledger:read", "ledger:post", "ledger:issue"],
        "tenants": {"currencies": [CUR, CUR_B]},
    },
}
RELATIONS = ("own", "mandated", "other", "other_ccy")
OPERATIONS = ("transfer", "batch", "hold", "card", "reversal", "issuance", "statement", "csv")
AMOUNT = 100_00

# The matrix: principal -> operation -> (own, mandated, other, other currency).
# fmt: off
EXPECTED: dict[str, dict[str, tuple[int, int, int, int]]] = {
    "operator": {
        "transfer":  (201, 201, 201, 403),
        "batch":     (201, 201, 201, 403),
        "hold":      (201, 201, 201, 403),
        "card":      (201, 201, 201, 422),  # a card of another tenancy is unknown
        "reversal":  (201, 201, 201, 403),
        "issuance":  (201, 201, 201, 403),
        "statement": (200, 200, 200, 403),
        "csv":       (200, 200, 200, 403),
    },
    "wallet": {
        "transfer":  (201, 201, 403, 403),
        "batch":     (201, 201, 403, 403),
        "hold":      (201, 201, 403, 403),
        "card":      (201, 201, 201, 422),  # a card presented is the payer's consent
        "reversal":  (403, 403, 403, 403),  # no ledger:reverse
        "issuance":  (403, 403, 403, 403),  # no ledger:issue
        "statement": (200, 200, 403, 403),
        "csv":       (200, 200, 403, 403),
    },
    "mandated": {  # its mandate debits but does not read
        "transfer":  (201, 201, 403, 403),
        "batch":     (201, 201, 403, 403),
        "hold":      (201, 201, 403, 403),
        "card":      (201, 201, 201, 422),
        "reversal":  (403, 403, 403, 403),
        "issuance":  (403, 403, 403, 403),
        "statement": (200, 403, 403, 403),
        "csv":       (200, 403, 403, 403),
    },
    "terminal": {  # refunds what its accounts received (a reversal debits the payee)
        "transfer":  (201, 201, 403, 403),
        "batch":     (201, 201, 403, 403),
        "hold":      (201, 201, 403, 403),
        "card":      (201, 201, 201, 422),
        "reversal":  (201, 201, 403, 403),
        "issuance":  (403, 403, 403, 403),
        "statement": (200, 200, 403, 403),
        "csv":       (200, 200, 403, 403),
    },
    "funding": {  # no ledger scope, no currency binding: nothing at all
        "transfer":  (403, 403, 403, 403),
        "batch":     (403, 403, 403, 403),
        "hold":      (403, 403, 403, 403),
        "card":      (403, 403, 403, 403),
        "reversal":  (403, 403, 403, 403),
        "issuance":  (403, 403, 403, 403),
        "statement": (403, 403, 403, 403),
        "csv":       (403, 403, 403, 403),
    },
    "stranger": {  # bound to both currencies (its CUR_B account is its own), ledger:issue
        "transfer":  (201, 201, 403, 201),
        "batch":     (201, 201, 403, 201),
        "hold":      (201, 201, 403, 201),
        "card":      (201, 201, 201, 201),  # bound to CUR_B too: the card is consent
        "reversal":  (403, 403, 403, 403),
        "issuance":  (403, 403, 403, 403),  # an operator act, whatever the scope
        "statement": (200, 200, 403, 200),  # it holds its CUR_B account
        "csv":       (200, 200, 403, 200),
    },
}
# fmt: on


@dataclass
class World:
    stack: Stack
    tokens: dict[str, str]
    accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    cards: dict[str, str] = field(default_factory=dict)
    sink: dict[str, str] = field(default_factory=dict)
    merchant: dict[str, str] = field(default_factory=dict)

    def http(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.stack.gateway_url}/api/ledger",
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
        )


def currency_of(relation: str) -> str:
    return CUR_B if relation == "other_ccy" else CUR


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.url}: {response.status_code} {response.text}"
    return response.json()


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=None, run_dir=tmp_path_factory.mktemp("authority-matrix")
    ) as running:
        yield running


@pytest.fixture(scope="module")
def world(stack: Stack) -> World:
    gateway = stack.gateway_url
    admin = admin_token(gateway)
    tokens = {"admin": admin}
    for name, spec in PRINCIPALS.items():
        tokens[name] = role_token(gateway, admin, client_id=f"au-{name}", **spec)
    w = World(stack=stack, tokens=tokens)
    api = w.http("admin")

    def account(currency: str, holder: str, kind: str = "member") -> str:
        body = {"currency": currency, "type": kind, "holder": holder, "name": holder}
        return str(_ok(api.post("/accounts", json=body))["id"])

    _ok(api.post("/currencies", json={"code": EUR, "kind": "eur", "operator": "Banque"}))
    for code in (CUR, CUR_B):
        _ok(
            api.post(
                "/currencies",
                json={
                    "code": code,
                    "kind": "euro_backed",
                    "operator": f"Association {code}",
                    "rules": {"convertible": True},
                },
            )
        )
        reserve = {
            "issuer_account_id": account(code, "au-operator", "issuer"),
            "reserve_account_id": account(EUR, "au-operator", "reserve"),
            "external_account_id": account(EUR, "au-operator", "issuer"),
            "fund_account_id": account(code, "au-operator", "fund"),
        }
        _ok(api.put(f"/currencies/{code}/reserve", json=reserve))
        w.sink[code] = account(code, "au-operator", "merchant")
        w.merchant[code] = account(code, "au-terminal", "merchant")
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    for name in PRINCIPALS:
        client = f"au-{name}"
        kind = "merchant" if name == "terminal" else "member"
        w.accounts[(name, "own")] = account(CUR, client, kind)
        w.accounts[(name, "other_ccy")] = account(CUR_B, client, kind)
        mandated = account(CUR, "au-member-owner")
        _ok(
            api.post(
                f"/accounts/{mandated}/mandates",
                json={
                    "grantee": client,
                    "may_debit": True,
                    "may_read": name != "mandated",
                    "max_per_payment": 1_000_00,
                    "max_per_period": 5_000_00,
                    "period": "month",
                    "expires_at": expires,
                },
            )
        )
        w.accounts[(name, "mandated")] = mandated
        w.accounts[(name, "other")] = account(CUR, "au-member-owner")
    for code, sink in w.sink.items():
        _ok(api.post(f"/currencies/{code}/issuances", json={"account_id": sink, "euros": 10**8}))
    for (_, relation), account_id in w.accounts.items():
        code = currency_of(relation)
        _ok(
            api.post(
                f"/currencies/{code}/issuances", json={"account_id": account_id, "euros": 10_000_00}
            )
        )
        issued = _ok(api.post("/cards", json={"account_id": account_id}))
        w.cards[account_id] = issued["token"]
    return w


def prepare(w: World, op: str, relation: str, account: str) -> str | None:
    """What a cell needs before it runs: for a reversal, a payment the account received
    from the operator's sink (the reversal refunds it, debiting the account)."""
    if op != "reversal":
        return None
    code = currency_of(relation)
    credit = [
        {"account_id": account, "currency": code, "amount": AMOUNT},
        {"account_id": w.sink[code], "currency": code, "amount": -AMOUNT},
    ]
    return str(_ok(w.http("admin").post("/transactions", json={"postings": credit}))["id"])


def request(w: World, who: str, op: str, relation: str, prepared: str | None) -> httpx.Response:
    """One cell: ``who`` does ``op`` on its ``relation`` account."""
    account = w.accounts[(who, relation)]
    code = currency_of(relation)
    legs = [
        {"account_id": account, "currency": code, "amount": -AMOUNT},
        {"account_id": w.sink[code], "currency": code, "amount": AMOUNT},
    ]
    http = w.http(who)
    if op == "transfer":
        return http.post("/transactions", json={"postings": legs})
    if op == "batch":
        return http.post("/batches", json={"mode": "atomic", "items": [{"postings": legs}]})
    if op == "hold":
        expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        return http.post(
            "/holds",
            json={
                "payer": account,
                "payee": w.sink[code],
                "currency": code,
                "amount": AMOUNT,
                "expires_at": expires,
            },
        )
    if op == "card":
        return http.post(
            "/cards/authorizations",
            json={"token": w.cards[account], "merchant_account_id": w.merchant[code], "amount": 1},
        )
    if op == "reversal":
        return http.post(f"/transactions/{prepared}/reversal", json={})
    if op == "issuance":
        return http.post(
            f"/currencies/{code}/issuances", json={"account_id": account, "euros": 1_00}
        )
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    path = "statement" if op == "statement" else "statement.csv"
    return http.get(f"/accounts/{account}/{path}", params={"since": since, "until": until})


async def _snapshot(url: str) -> tuple[Any, ...]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            balances = (
                await conn.execute(
                    text("SELECT account_id, posted, held FROM account_balances ORDER BY 1")
                )
            ).all()
            holds = (await conn.execute(text("SELECT count(*) FROM holds"))).scalar()
            outbox = (await conn.execute(text("SELECT max(position) FROM outbox"))).scalar()
            legs = (await conn.execute(text("SELECT count(*) FROM postings"))).scalar()
        return tuple(map(tuple, balances)), holds, outbox, legs
    finally:
        await engine.dispose()


def snapshot(w: World) -> tuple[Any, ...]:
    return asyncio.run(_snapshot(w.stack.database_url("ledger")))


def test_the_matrix_has_every_cell() -> None:
    assert set(EXPECTED) == set(PRINCIPALS)
    for operations in EXPECTED.values():
        assert set(operations) == set(OPERATIONS)
        assert all(len(cells) == len(RELATIONS) for cells in operations.values())


def test_account_authority_matrix(world: World) -> None:
    wrong: list[str] = []
    changed: list[str] = []
    for who, operations in EXPECTED.items():
        for op, cells in operations.items():
            for relation, expected in zip(RELATIONS, cells, strict=True):
                prepared = prepare(world, op, relation, world.accounts[(who, relation)])
                before = snapshot(world) if expected >= 400 else None
                response = request(world, who, op, relation, prepared)
                if response.status_code != expected:
                    wrong.append(
                        f"{who} {op} {relation}: {response.status_code} (expected {expected}) "
                        f"{response.text[:200]}"
                    )
                    continue
                if before is not None:
                    assert response.headers["content-type"].startswith("application/problem+json")
                    if snapshot(world) != before:
                        changed.append(f"{who} {op} {relation}")
    assert not wrong, "\n".join(wrong)
    assert not changed, f"refusals that changed something: {changed}"


def test_a_mandate_stops_at_its_limits_and_when_revoked(world: World) -> None:
    account = world.accounts[("wallet", "mandated")]
    wallet = world.http("wallet")
    legs = [
        {"account_id": account, "currency": CUR, "amount": -1_000_01},
        {"account_id": world.sink[CUR], "currency": CUR, "amount": 1_000_01},
    ]
    over = wallet.post("/transactions", json={"postings": legs})
    assert over.status_code == 403 and over.json()["code"] == "mandate-limit-exceeded"
    admin = world.http("admin")
    mandates = _ok(admin.get(f"/accounts/{account}/mandates"))["items"]
    (mandate,) = [m for m in mandates if m["grantee"] == "au-wallet"]
    _ok(admin.post(f"/accounts/{account}/mandates/{mandate['id']}/revocation"))
    legs[0]["amount"], legs[1]["amount"] = -1, 1
    before = snapshot(world)
    revoked = wallet.post("/transactions", json={"postings": legs})
    assert revoked.status_code == 403 and revoked.json()["code"] == "no-debit-authority"
    assert snapshot(world) == before
    history = _ok(admin.get(f"/accounts/{account}/mandates"))["items"]
    assert [m["revoked_by"] for m in history if m["id"] == mandate["id"]] == ["admin"]


def test_the_ledger_connects_with_a_role_that_cannot_switch_off_its_guards(world: World) -> None:
    """The authority trigger means something only if the service cannot bypass it: its
    role is no superuser, owns no table, and may not rewrite the append-only ledger."""

    async def attempts() -> list[str]:
        engine = make_engine(world.stack.database_url("ledger"), pool_size=1, max_overflow=0)
        refused = []
        try:
            async with engine.connect() as conn:
                is_super = (
                    await conn.execute(
                        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                    )
                ).scalar()
                assert is_super is False
            for statement in (
                "SET session_replication_role = replica",
                "ALTER TABLE postings DISABLE TRIGGER tg_postings_debit_authority",
                "UPDATE postings SET amount = amount",
                "DELETE FROM posting_authorities",
                "TRUNCATE transactions CASCADE",
                "DROP TRIGGER tg_postings_debit_authority ON postings",
            ):
                try:
                    async with engine.begin() as conn:
                        await conn.execute(text(statement))
                except Exception as exc:  # noqa: BLE001 - any refusal will do; its text is checked
                    if "permission denied" in str(exc) or "must be owner" in str(exc):
                        refused.append(statement)
        finally:
            await engine.dispose()
        return refused

    assert len(asyncio.run(attempts())) == 6
