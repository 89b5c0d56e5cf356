"""Scenario 1 of the regional loop, through the gateway only, on real Kafka: a currency
project applies to IDéclic Solidaire, is instructed, approved in committee, signs its
convention; its first tranche is paid in local currency by the ledger, exactly once even
though the funding service is killed right after ordering it, to the account the project
itself linked to its application, out of the Region's fund account that the currency's
operator mandated to the programme, converted from euro cents at the currency's rate; an
order naming another account moves nothing; the money is spent
at merchants of the same territory and partly reconverted; the diagnostics aggregates and
the dashboard stream show the volumes and the leakage for that territory."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from shared.db import make_engine
from shared.events.catalog.funding import PaymentOrdered
from shared.settings import ServiceSettings
from tests.support.events import owned_event, publish_as_owner
from tests.support.grant_flow import As, open_programme
from tests.support.stack import admin_token, e2e_stack, role_token
from tests.support.sync_waiting import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

COMMUNE = "38185"  # Grenoble
CURRENCY = "CAIRN"
PROGRAMME = "IDECLIC"
APPLICANT = "scic-gresivaudan"


@pytest.fixture(scope="module")
def stack(
    postgres: LocalPostgres, kafka: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=kafka, run_dir=tmp_path_factory.mktemp("grant")
    ) as running:
        yield running


def publish_orders(stack: Stack, kafka: Any, orders: list[PaymentOrdered]) -> None:
    """Publish payment orders on the stack's Kafka as funding's outbox relay does: with
    funding's principal, the only one the broker lets write there."""
    events = [owned_event(o, subject=o.application_id) for o in orders]
    asyncio.run(publish_as_owner(ServiceSettings(event_bus="kafka"), events, kafka=kafka))


def ledger_answers(stack: Stack, order_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """The ledger's answers (event type, problem code) to these orders, from its outbox."""

    async def read() -> dict[str, tuple[str, str | None]]:
        engine = make_engine(stack.database_url("ledger"), pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT payload FROM outbox WHERE event_type LIKE "
                            "'proxima.ledger.payment.%'"
                        )
                    )
                ).scalars()
                found = {}
                for payload in rows:
                    event = json.loads(payload)
                    data = event["data"]
                    if data["order_id"] in order_ids:
                        kind = event["type"].removeprefix("proxima.ledger.").removesuffix(".v1")
                        found[data["order_id"]] = (kind, data.get("code"))
                return found
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _ledger_setup(admin: As) -> dict[str, str]:
    """A euro-backed currency with its reserve; the Region buys units for its grant fund."""
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
            "operator": "Association Le Cairn",
            "rules": {"convertible": True, "reconversion_fees": {"default_bp": 300}},
        },
    )

    def account(currency: str, kind: str, **extra: Any) -> str:
        return str(
            admin.ok(
                "POST", "/ledger/accounts", 201, json={"currency": currency, "type": kind, **extra}
            )["id"]
        )

    ids = {
        "issuer": account(CURRENCY, "issuer"),
        "fund": account(CURRENCY, "fund"),
        "reserve": account("EUR", "reserve"),
        "external": account("EUR", "issuer"),
        "region": account(CURRENCY, "member", name="Région – fonds IDéclic", territory="69123"),
        "project": account(
            CURRENCY,
            "member",
            name="Association Monnaie du Grésivaudan",
            territory=COMMUNE,
            holder=APPLICANT,
        ),
        "stranger": account(CURRENCY, "member", name="Un autre adhérent", territory=COMMUNE),
        "bakery": account(
            CURRENCY, "merchant", territory=COMMUNE, merchant_category="alimentation"
        ),
        "bookshop": account(CURRENCY, "merchant", territory=COMMUNE, merchant_category="librairie"),
    }
    admin.ok(
        "PUT",
        f"/ledger/currencies/{CURRENCY}/reserve",
        json={
            "issuer_account_id": ids["issuer"],
            "reserve_account_id": ids["reserve"],
            "external_account_id": ids["external"],
            "fund_account_id": ids["fund"],
        },
    )
    admin.ok(
        "POST",
        f"/ledger/currencies/{CURRENCY}/issuances",
        201,
        json={"account_id": ids["region"], "euros": 5_000_000, "idempotency_key": "region-buys"},
    )
    admin.ok(
        "POST",
        f"/ledger/currencies/{CURRENCY}/issuances",
        201,
        json={"account_id": ids["stranger"], "euros": 100_000, "idempotency_key": "stranger"},
    )
    # the operator mandates the Region's fund to the programme, with the envelope's limits
    admin.ok(
        "POST",
        f"/ledger/accounts/{ids['region']}/mandates",
        201,
        json={
            "grantee": f"funding:{PROGRAMME}",
            "max_per_payment": 3_000_000,
            "max_per_period": 10_000_000,
            "period": "year",
            "expires_at": "2099-01-01T00:00:00Z",
            "purpose": "IDECLIC-2026",
        },
    )
    return ids


def test_a_grant_paid_in_local_currency_circulates_and_shows_on_the_dashboard(
    stack: Stack, kafka: Any
) -> None:
    gw = stack.gateway_url
    admin_tok = admin_token(gw)
    admin = As(stack.gateway_url, admin_tok)
    accounts = _ledger_setup(admin)

    tenants = {"programmes": [PROGRAMME], "territories": ["38"], "envelopes": ["*"]}
    applicant = As(
        stack.gateway_url,
        role_token(
            gw,
            admin_tok,
            client_id=APPLICANT,
            role="applicant",
            # its wallet in the currency: the account it holds and links to its application
            scopes=["funding:apply", "funding:read", "ledger:read", "ledger:post"],
            tenants={**tenants, "currencies": [CURRENCY]},
        ),
    )
    instructor = As(
        stack.gateway_url,
        role_token(
            gw,
            admin_tok,
            client_id="acc-isere",
            role="instructor",
            scopes=["funding:instruct", "funding:read"],
            tenants=tenants,
        ),
    )
    committee = As(
        stack.gateway_url,
        role_token(
            gw,
            admin_tok,
            client_id="secretariat",
            role="committee",
            scopes=["funding:decide", "funding:read"],
            tenants=tenants,
        ),
    )
    officer = As(
        stack.gateway_url,
        role_token(
            gw,
            admin_tok,
            client_id="officer",
            role="programme_officer",
            scopes=["funding:instruct", "funding:read", "funding:pay"],
            tenants=tenants,
        ),
    )
    dashboard_tok = role_token(
        gw,
        admin_tok,
        client_id="dash",
        role="dashboard",
        scopes=["dashboard:read"],
        tenants={"currencies": ["*"], "programmes": ["*"], "territories": ["*"]},
    )

    open_programme(admin)

    app_id = applicant.ok(
        "POST",
        "/funding/applications",
        201,
        json={
            "envelope_code": "IDECLIC-2026",
            "applicant_name": "SCIC Monnaie du Grésivaudan",
            "legal_form": "scic",
            "project_stage": "creation",
            "title": "Lancer une monnaie locale",
            "commune_insee_code": COMMUNE,
            "requested_amount_cents": 3_000_000,
        },
    )["id"]

    def act(who: As, action: str, **fields: Any) -> None:
        who.ok(
            "POST",
            f"/funding/applications/{app_id}/transitions",
            json={"action": action, "fields": fields},
        )

    act(applicant, "submit")
    act(instructor, "start_instruction")
    act(instructor, "send_to_committee", instruction_summary="Projet ancré localement")
    session = committee.ok(
        "POST",
        "/funding/committee-sessions",
        201,
        json={
            "programme_code": PROGRAMME,
            "title": "Comité IDéclic",
            "scheduled_at": "2026-11-30T09:00:00+01:00",
            "members": ["m1", "m2", "m3"],
        },
    )["id"]
    committee.ok(
        "POST", f"/funding/committee-sessions/{session}/agenda", json={"application_id": app_id}
    )
    committee.ok(
        "POST",
        f"/funding/committee-sessions/{session}/open",
        json={"attendees": ["m1", "m2", "m3"]},
    )
    for member in ("m1", "m2", "m3"):
        committee.ok(
            "POST",
            f"/funding/committee-sessions/{session}/votes",
            204,
            json={"application_id": app_id, "member_id": member, "choice": "for"},
        )
    committee.ok(
        "POST",
        f"/funding/committee-sessions/{session}/decisions",
        201,
        json={
            "application_id": app_id,
            "outcome": "approved",
            "amount_cents": 3_000_000,
            "deliberation_number": "CP-2026-11-042",
        },
    )
    act(officer, "sign_convention", convention_reference="CV-2026-042")
    act(officer, "start_payment")
    # the project names the account it holds as where its grant is paid
    link = {"programme_code": PROGRAMME, "application_id": app_id}
    applicant.ok("POST", f"/ledger/accounts/{accounts['project']}/grant-links", 201, json=link)
    # nobody else can link (or relink) that application
    refused = applicant.http.post(f"/ledger/accounts/{accounts['stranger']}/grant-links", json=link)
    assert refused.status_code == 403, refused.text

    tranches = sorted(
        officer.ok("GET", f"/funding/applications/{app_id}/tranches")["items"],
        key=lambda t: t["number"],
    )
    advance = tranches[0]
    assert advance["kind"] == "advance" and advance["amount_cents"] == 900_000
    officer.ok(
        "POST",
        f"/funding/tranches/{advance['id']}/payment-orders",
        json={"mode": "local_currency", "currency_code": CURRENCY},
    )

    # the funding service dies right after ordering: its outbox and the ledger's idempotency
    # by order id must still pay the tranche exactly once
    stack.services["funding"].kill()
    stack.start_service("funding").wait_ready(90)

    def tranche_status() -> str:
        items = officer.ok("GET", f"/funding/applications/{app_id}/tranches")["items"]
        return str(next(t for t in items if t["id"] == advance["id"])["status"])

    assert wait_until(tranche_status, lambda s: s in ("paid", "failed"), timeout=90) == "paid"
    paid = next(
        t
        for t in officer.ok("GET", f"/funding/applications/{app_id}/tranches")["items"]
        if t["id"] == advance["id"]
    )
    assert (paid["paid_units"], paid["conversion_rate"], paid["conversion_rounding"]) == (
        900_000,
        "1",
        "half-even",
    )
    assert admin.ok("GET", f"/ledger/accounts/{accounts['project']}/balance")["posted"] == 900_000
    assert (
        admin.ok("GET", f"/ledger/accounts/{accounts['region']}/balance")["posted"]
        == 5_000_000 - 900_000
    )
    # orders naming other accounts than the linked beneficiary's and the mandated fund's
    # (as a faulty or compromised funding would publish them) move nothing
    misdirected = {
        "beneficiary-account-not-linked": {"beneficiary_account_id": accounts["stranger"]},
        "no-debit-authority": {"funding_account_id": accounts["stranger"]},
    }
    before = {
        name: admin.ok("GET", f"/ledger/accounts/{accounts[name]}/balance")["posted"]
        for name in ("project", "region", "stranger")
    }
    publish_orders(
        stack,
        kafka,
        [
            PaymentOrdered(
                order_id=f"misdirected-{code}",
                application_id=app_id,
                tranche_id=advance["id"],
                programme_code=PROGRAMME,
                currency=CURRENCY,
                amount=100_000,
                **names,
            )
            for code, names in misdirected.items()
        ],
    )
    answers = wait_until(
        lambda: ledger_answers(stack, [f"misdirected-{code}" for code in misdirected]),
        lambda found: len(found) == len(misdirected),
        timeout=60,
    )
    assert answers == {f"misdirected-{code}": ("payment.rejected", code) for code in misdirected}
    assert before == {
        name: admin.ok("GET", f"/ledger/accounts/{accounts[name]}/balance")["posted"]
        for name in ("project", "region", "stranger")
    }

    grant_payments = [
        t
        for t in admin.ok(
            "GET", "/ledger/transactions", params={"currency": CURRENCY, "limit": 100}
        )["items"]
        if t["kind"] == "grant_payment"
    ]
    assert len(grant_payments) == 1

    # the grant circulates in Grenoble, then a merchant reconverts part of it
    for merchant, amount in (("bakery", 300_000), ("bookshop", 200_000)):
        admin.ok(
            "POST",
            "/ledger/transactions",
            201,
            json={
                "kind": "payment",
                "postings": [
                    {"account_id": accounts["project"], "currency": CURRENCY, "amount": -amount},
                    {"account_id": accounts[merchant], "currency": CURRENCY, "amount": amount},
                ],
            },
        )
    admin.ok(
        "POST",
        f"/ledger/currencies/{CURRENCY}/reconversions",
        201,
        json={"account_id": accounts["bakery"], "units": 100_000, "idempotency_key": "bakery-1"},
    )

    period = date.today().strftime("%Y-%m")

    def aggregate() -> dict[str, Any] | None:
        items = admin.ok(
            "GET",
            "/diagnostics/aggregates",
            params={"territory": COMMUNE, "currency": CURRENCY, "period": period},
        )["items"]
        return items[0] if items else None

    row = wait_until(aggregate, lambda r: r is not None and r["reconverted"] > 0, timeout=90)
    assert row is not None
    assert row["received_from_outside"] == 900_000  # the grant, paid from Lyon's Region account
    assert row["spent_locally"] == 500_000
    assert row["reconverted"] >= 100_000 - 3_000  # net of the 3 % fee kept in the fund
    assert 0 < row["reconversion_leakage"] < 1

    # the regional dashboard sees the grant and the territory's live aggregates
    summary = httpx.get(
        f"{gw}/api/dashboard/summary",
        headers={"Authorization": f"Bearer {dashboard_tok}"},
        timeout=30,
    )
    assert summary.status_code == 200, summary.text
    text = summary.text
    assert PROGRAMME in text and COMMUNE in text
