"""A token, a transfer and a grant payment through the gateway's public API only, as
partners do it: the short form of the regional loop's first scenario
(tests/scenarios/test_grant_paid_in_local_currency.py), used where the whole stack is
started some other way (containers). The grant payment crosses services: funding orders
it, the ledger pays it under the operator's mandate and answers on the event bus, funding
records the tranche as paid."""

from __future__ import annotations

import time
from typing import Any

import httpx

CURRENCY = "CAIRN"
PROGRAMME = "IDECLIC"
APPLICANT = "scic-gresivaudan"
COMMUNE = "38185"  # Grenoble


class As:
    """One actor's view of the API, through the gateway."""

    def __init__(self, gateway: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=f"{gateway}/api", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = self.http.request(method, path, **kw)
        assert response.status_code == status, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None


def token(gateway: str, client_id: str, secret: str) -> str:
    """An access token from the gateway's /oauth/token (client credentials)."""
    response = httpx.post(
        f"{gateway}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def client_token(gateway: str, admin: str, client_id: str, role: str, scopes: list[str]) -> str:
    """Register a client with the admin API, then obtain its token."""
    tenants = {
        "programmes": [PROGRAMME],
        "territories": ["38"],
        "envelopes": ["*"],
        "currencies": [CURRENCY],
    }
    created = httpx.post(
        f"{gateway}/admin/clients",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "client_id": client_id,
            "name": client_id,
            "role": role,
            "scopes": scopes,
            "tenants": tenants,
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return token(gateway, client_id, created.json()["client_secret"])


def ledger_setup(admin: As) -> dict[str, str]:
    """A euro-backed currency, its reserve, the Region's fund mandated to the programme."""
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
        json={"code": CURRENCY, "kind": "euro_backed", "operator": "Association Le Cairn"},
    )

    def account(currency: str, kind: str, **extra: Any) -> str:
        body = {"currency": currency, "type": kind, **extra}
        return str(admin.ok("POST", "/ledger/accounts", 201, json=body)["id"])

    ids = {
        "issuer": account(CURRENCY, "issuer"),
        "fund": account(CURRENCY, "fund"),
        "reserve": account("EUR", "reserve"),
        "external": account("EUR", "issuer"),
        "region": account(CURRENCY, "member", name="Région – fonds IDéclic", territory="69123"),
        "project": account(CURRENCY, "member", territory=COMMUNE, holder=APPLICANT),
        "bakery": account(
            CURRENCY, "merchant", territory=COMMUNE, merchant_category="alimentation"
        ),
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


def transfer(admin: As, payer: str, payee: str, amount: int, key: str) -> dict[str, Any]:
    """One transfer between two accounts of the currency."""
    body = {
        "kind": "transfer",
        "idempotency_key": key,
        "postings": [
            {"account_id": payer, "currency": CURRENCY, "amount": -amount},
            {"account_id": payee, "currency": CURRENCY, "amount": amount},
        ],
    }
    return admin.ok("POST", "/ledger/transactions", 201, json=body)  # type: ignore[no-any-return]


def open_programme(admin: As) -> None:
    """The IDéclic programme, its 2026 envelope and the Isère accompanist, as the admin."""
    admin.ok(
        "POST",
        "/funding/programmes",
        201,
        json={
            "code": PROGRAMME,
            "name": "IDéclic Solidaire",
            "operator": "Région Rhône-Alpes",
            "eligible_territories": ["38", "69"],
            "legal_forms": ["association", "scic"],
            "project_stages": ["creation"],
            "advance_percent": 30,
        },
    )
    admin.ok(
        "POST",
        f"/funding/programmes/{PROGRAMME}/envelopes",
        201,
        json={"code": "IDECLIC-2026", "year": 2026, "ap_cents": 10_000_000, "cp_cents": 10_000_000},
    )
    admin.ok(
        "POST",
        "/funding/accompanists",
        201,
        json={"id": "acc-isere", "name": "Accompagnateur Isère", "territories": ["38"]},
    )


def approved_application(
    gateway: str, admin_token: str, admin: As, *, instrument: dict[str, Any] | None = None
) -> tuple[str, As, As]:
    """An application submitted, instructed, approved in committee and under convention,
    ready for payment; with the applicant's and the programme officer's views. With
    ``instrument`` (a loan's terms) the committee awards that loan instead of a grant."""
    applicant = As(
        gateway,
        client_token(
            gateway,
            admin_token,
            APPLICANT,
            "applicant",
            ["funding:apply", "funding:read", "ledger:read", "ledger:post"],
        ),
    )
    instructor = As(
        gateway,
        client_token(
            gateway, admin_token, "acc-isere", "instructor", ["funding:instruct", "funding:read"]
        ),
    )
    committee = As(
        gateway,
        client_token(
            gateway, admin_token, "secretariat", "committee", ["funding:decide", "funding:read"]
        ),
    )
    officer = As(
        gateway,
        client_token(
            gateway,
            admin_token,
            "officer",
            "programme_officer",
            ["funding:instruct", "funding:read", "funding:pay"],
        ),
    )
    open_programme(admin)
    app_id = str(
        applicant.ok(
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
    )

    decided_in_committee(
        app_id,
        applicant=applicant,
        instructor=instructor,
        committee=committee,
        amount_cents=3_000_000,
        deliberation="CP-2026-11-042",
        instrument=instrument,
    )
    act(officer, app_id, "sign_convention", convention_reference="CV-2026-042")
    act(officer, app_id, "start_payment")
    return app_id, applicant, officer


def act(who: As, app_id: str, action: str, **fields: Any) -> None:
    """One workflow transition of the application, as ``who``."""
    body = {"action": action, "fields": fields}
    who.ok("POST", f"/funding/applications/{app_id}/transitions", json=body)


def decided_in_committee(
    app_id: str,
    *,
    applicant: As,
    instructor: As,
    committee: As,
    amount_cents: int,
    deliberation: str,
    instrument: dict[str, Any] | None = None,
    summary: str = "Projet ancré localement",
    title: str = "Comité IDéclic",
    scheduled_at: str = "2026-11-30T09:00:00+01:00",
) -> None:
    """A draft application submitted, instructed, and approved unanimously by a committee
    of three (awarding ``instrument`` instead of a grant when given)."""
    act(applicant, app_id, "submit")
    act(instructor, app_id, "start_instruction")
    act(instructor, app_id, "send_to_committee", instruction_summary=summary)
    members = ["m1", "m2", "m3"]
    session = committee.ok(
        "POST",
        "/funding/committee-sessions",
        201,
        json={
            "programme_code": PROGRAMME,
            "title": title,
            "scheduled_at": scheduled_at,
            "members": members,
        },
    )["id"]
    sessions = f"/funding/committee-sessions/{session}"
    committee.ok("POST", f"{sessions}/agenda", json={"application_id": app_id})
    committee.ok("POST", f"{sessions}/open", json={"attendees": members})
    for member in members:
        vote = {"application_id": app_id, "member_id": member, "choice": "for"}
        committee.ok("POST", f"{sessions}/votes", 204, json=vote)
    committee.ok(
        "POST",
        f"{sessions}/decisions",
        201,
        json={
            "application_id": app_id,
            "outcome": "approved",
            "amount_cents": amount_cents,
            "deliberation_number": deliberation,
            **({"instrument": instrument} if instrument else {}),
        },
    )


def pay_first_tranche(
    officer: As, app_id: str, timeout: float = 90, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Order the advance in local currency (with extra request ``headers``, such as a
    ``traceparent``); wait until funding records it paid or failed."""
    tranches = officer.ok("GET", f"/funding/applications/{app_id}/tranches")["items"]
    advance = min(tranches, key=lambda t: t["number"])
    officer.ok(
        "POST",
        f"/funding/tranches/{advance['id']}/payment-orders",
        json={"mode": "local_currency", "currency_code": CURRENCY},
        headers=headers or {},
    )
    deadline = time.monotonic() + timeout
    while True:
        items = officer.ok("GET", f"/funding/applications/{app_id}/tranches")["items"]
        current: dict[str, Any] = next(t for t in items if t["id"] == advance["id"])
        if current["status"] in ("paid", "failed") or time.monotonic() > deadline:
            return current
        time.sleep(0.5)
