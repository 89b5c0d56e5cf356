"""The authorisation matrix, on real processes through the gateway: every role × every
endpoint family × own/other tenant, plus the answers every caller gets for a missing,
tampered or expired token, an oversized body and an unknown route.

Tenants: currencies MXA (own) and MXB (other), programmes MXP1 (own) and MXP2 (other),
territories 38 (own) and 69 (other), with one funding application of MXP1 filed in each
territory. Funding staff need both bindings: the programme and the application's territory.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import admin_token, e2e_stack, role_token

pytestmark = [pytest.mark.slow]

ANONYMOUS_LIMITS = {
    "PROXIMA_ANONYMOUS_RATE_LIMIT_PER_MINUTE": "600000",
    "PROXIMA_ANONYMOUS_RATE_LIMIT_BURST": "100000",
}

CUR_A, CUR_B = "MXA", "MXB"
PROG_1, PROG_2 = "MXP1", "MXP2"
OWN_TERRITORY, OTHER_TERRITORY = "38", "69"
APP_38, APP_69 = "{app_38}", "{app_69}"  # filled in from the fixture's applications

ROLES: dict[str, dict[str, Any]] = {
    "operator_a": {
        "role": "currency_operator",
        "scopes": ["ledger:read", "ledger:post", "ledger:admin"],
        "tenants": {"currencies": [CUR_A]},
    },
    "partner": {
        "role": "partner_app",
        "scopes": ["ledger:read", "funding:read", "diagnostics:read"],
        "tenants": {k: ["*"] for k in ("currencies", "programmes", "envelopes", "territories")},
    },
    "officer_p1": {
        "role": "programme_officer",
        "scopes": ["funding:read", "funding:admin"],
        "tenants": {"programmes": [PROG_1], "territories": ["*"]},
    },
    "accompanist_38": {
        "role": "territorial_accompanist",
        "scopes": ["funding:read", "diagnostics:read", "diagnostics:import"],
        "tenants": {"programmes": [PROG_1], "territories": [OWN_TERRITORY]},
    },
    "dashboard": {"role": "dashboard", "scopes": ["dashboard:read"], "tenants": {}},
}

_unique = itertools.count(1)


def account_of(currency: str) -> dict[str, Any]:
    return {"currency": currency, "type": "member", "territory": "38185"}


def envelope() -> dict[str, Any]:
    return {"code": f"MXENV-{next(_unique)}", "year": 2026, "ap_cents": 10**6, "cp_cents": 10**6}


def jobs_in(territory: str) -> bytes:
    return f"insee_code,year,sector,jobs\n{territory},2019,AZ,{next(_unique)}\n".encode()


@dataclass(frozen=True)
class Case:
    role: str  # a key of ROLES, "admin", or a broken credential: "none" "tampered" "expired"
    method: str
    path: str
    body: Any  # JSON (or a factory of JSON), raw CSV bytes, or None
    expected: int  # the exact status expected

    @property
    def id(self) -> str:
        return f"{self.role}-{self.method}-{self.path}"


def case(role: str, method: str, path: str, expected: int, body: Any = None) -> Case:
    return Case(role, method, path, body, expected)


# fmt: off
MATRIX: list[Case] = [
    # ── ledger: read and write, own and other currency ─────────────────────────────────
    case("operator_a",     "GET",  f"/api/ledger/currencies/{CUR_A}", 200),
    case("operator_a",     "GET",  f"/api/ledger/currencies/{CUR_B}", 403),
    case("operator_a",     "POST", "/api/ledger/accounts", 201, lambda: account_of(CUR_A)),
    case("operator_a",     "POST", "/api/ledger/accounts", 403, lambda: account_of(CUR_B)),
    case("partner",        "GET",  f"/api/ledger/currencies/{CUR_A}", 200),
    case("partner",        "GET",  f"/api/ledger/currencies/{CUR_B}", 200),
    case("partner",        "POST", "/api/ledger/accounts", 403, lambda: account_of(CUR_A)),
    case("officer_p1",     "GET",  f"/api/ledger/currencies/{CUR_A}", 403),
    case("officer_p1",     "POST", "/api/ledger/accounts", 403, lambda: account_of(CUR_A)),
    case("accompanist_38", "GET",  f"/api/ledger/currencies/{CUR_A}", 403),
    case("dashboard",      "GET",  f"/api/ledger/currencies/{CUR_A}", 403),
    case("dashboard",      "POST", "/api/ledger/accounts", 403, lambda: account_of(CUR_A)),
    case("admin",          "GET",  f"/api/ledger/currencies/{CUR_B}", 200),
    case("admin",          "POST", "/api/ledger/accounts", 201, lambda: account_of(CUR_B)),
    # ── funding: programmes (own/other), writes, applications by territory ────────────
    case("officer_p1",     "GET",  f"/api/funding/programmes/{PROG_1}", 200),
    case("officer_p1",     "GET",  f"/api/funding/programmes/{PROG_2}", 403),
    case("officer_p1",     "POST", f"/api/funding/programmes/{PROG_1}/envelopes", 201, envelope),
    case("officer_p1",     "POST", f"/api/funding/programmes/{PROG_2}/envelopes", 403, envelope),
    case("officer_p1",     "GET",  f"/api/funding/programmes/{PROG_1}/calls", 200),
    case("officer_p1",     "GET",  f"/api/funding/programmes/{PROG_2}/calls", 403),
    case("partner",        "GET",  f"/api/funding/programmes/{PROG_1}", 200),
    case("partner",        "GET",  f"/api/funding/programmes/{PROG_2}", 200),
    case("partner",        "POST", f"/api/funding/programmes/{PROG_1}/envelopes", 403, envelope),
    case("partner",        "GET",  f"/api/funding/applications/{APP_69}", 200),
    case("officer_p1",     "GET",  f"/api/funding/applications/{APP_69}", 200),
    case("accompanist_38", "GET",  f"/api/funding/programmes/{PROG_1}", 200),
    case("accompanist_38", "GET",  f"/api/funding/programmes/{PROG_2}", 403),
    case("accompanist_38", "GET",  f"/api/funding/applications/{APP_38}", 200),
    case("accompanist_38", "GET",  f"/api/funding/applications/{APP_69}", 403),
    case("accompanist_38", "POST", f"/api/funding/programmes/{PROG_1}/envelopes", 403, envelope),
    case("operator_a",     "GET",  f"/api/funding/programmes/{PROG_1}", 403),
    case("dashboard",      "GET",  f"/api/funding/programmes/{PROG_1}", 403),
    case("admin",          "POST", f"/api/funding/programmes/{PROG_2}/envelopes", 201, envelope),
    # ── diagnostics: read own/other territory, imports ─────────────────────────────────
    case("accompanist_38", "GET",  f"/api/diagnostics/territories/{OWN_TERRITORY}", 200),
    case("accompanist_38", "GET",  f"/api/diagnostics/territories/{OTHER_TERRITORY}", 403),
    case("accompanist_38", "POST", "/api/diagnostics/imports/sector-employment", 201,
         lambda: jobs_in(OWN_TERRITORY)),
    case("accompanist_38", "POST", "/api/diagnostics/imports/sector-employment", 403,
         lambda: jobs_in(OTHER_TERRITORY)),
    case("partner",        "GET",  f"/api/diagnostics/territories/{OTHER_TERRITORY}", 200),
    case("partner",        "POST", "/api/diagnostics/imports/sector-employment", 403,
         lambda: jobs_in(OWN_TERRITORY)),
    case("officer_p1",     "GET",  f"/api/diagnostics/territories/{OWN_TERRITORY}", 403),
    case("operator_a",     "GET",  f"/api/diagnostics/territories/{OWN_TERRITORY}", 403),
    case("dashboard",      "GET",  f"/api/diagnostics/territories/{OWN_TERRITORY}", 403),
    case("admin",          "POST", "/api/diagnostics/imports/sector-employment", 201,
         lambda: jobs_in(OTHER_TERRITORY)),
    # ── the gateway's own admin API: the client registry ──────────────────────────────
    case("admin",          "GET",  "/admin/clients", 200),
    case("operator_a",     "GET",  "/admin/clients", 403),
    case("partner",        "GET",  "/admin/clients", 403),
    case("officer_p1",     "GET",  "/admin/clients", 403),
    case("accompanist_38", "GET",  "/admin/clients", 403),
    case("dashboard",      "GET",  "/admin/clients", 403),
    case("partner",        "POST", "/admin/clients", 403,
         lambda: {"client_id": f"mx-forged-{next(_unique)}", "name": "forged",
                  "role": "admin", "scopes": ["admin"]}),
    # ── the live dashboard ─────────────────────────────────────────────────────────────
    case("dashboard",      "GET",  "/api/dashboard/summary", 200),
    case("dashboard",      "GET",  "/api/stream", 200),
    case("partner",        "GET",  "/api/dashboard/summary", 403),
    case("operator_a",     "GET",  "/api/stream", 403),
    case("admin",          "GET",  "/api/dashboard/summary", 200),
]

# Every family refuses a missing, tampered or expired token with 401, whatever the route.
FAMILY_PROBES = [
    ("GET",  f"/api/ledger/currencies/{CUR_A}", None),
    ("POST", "/api/ledger/accounts", lambda: account_of(CUR_A)),
    ("GET",  f"/api/funding/programmes/{PROG_1}", None),
    ("POST", f"/api/funding/programmes/{PROG_1}/envelopes", envelope),
    ("GET",  f"/api/diagnostics/territories/{OWN_TERRITORY}", None),
    ("POST", "/api/diagnostics/imports/sector-employment", lambda: jobs_in(OWN_TERRITORY)),
    ("GET",  "/admin/clients", None),
    ("GET",  "/api/dashboard/summary", None),
    ("GET",  "/api/stream", None),
]
MATRIX += [
    case(credential, method, path, 401, body)
    for credential in ("none", "tampered", "expired")
    for method, path, body in FAMILY_PROBES
]

# Another tenant's resource with a malformed query or body: the refusal a well-formed
# request gets (403), never a 422 about parameters of a resource the caller may not see.
ACCOUNT_B = "{acct_b}"
NOT_JSON_OBJECT = [1]
MALFORMED_ABOUT_OTHERS = [
    ("operator_a",     "GET",  f"/api/ledger/currencies/{CUR_B}/journal.csv?to=0", None),
    ("operator_a",     "GET",  f"/api/ledger/currencies/{CUR_B}/figures?window_days=x", None),
    ("operator_a",     "POST", f"/api/ledger/currencies/{CUR_B}/closings", NOT_JSON_OBJECT),
    ("operator_a",     "GET",  f"/api/ledger/accounts/{ACCOUNT_B}/balance?at=x", None),
    ("operator_a",     "GET",  f"/api/ledger/accounts/{ACCOUNT_B}/postings?limit=x", None),
    ("operator_a",     "POST", f"/api/ledger/accounts/{ACCOUNT_B}/mandates", NOT_JSON_OBJECT),
    ("officer_p1",     "POST", f"/api/funding/programmes/{PROG_2}/envelopes", NOT_JSON_OBJECT),
    ("officer_p1",     "GET",  f"/api/funding/programmes/{PROG_2}/calls?limit=x", None),
    ("accompanist_38", "GET",  f"/api/funding/applications/{APP_69}/messages?limit=x", None),
    ("accompanist_38", "POST", f"/api/funding/applications/{APP_69}/messages", NOT_JSON_OBJECT),
    ("accompanist_38", "GET",  f"/api/diagnostics/territories/{OTHER_TERRITORY}/indicators?year=x",
     None),
    ("officer_p1",     "GET",  f"/api/diagnostics/territories/{OWN_TERRITORY}/report?year=x", None),
]

# Unknown routes: a problem+json 404 for every authenticated caller. Anonymous callers get
# 401 under a known service (the gateway authenticates before it proxies: no route probing).
UNKNOWN_ROUTES = [
    ("/api/ledger/no-such-thing", 401),
    ("/api/funding/no-such-thing", 401),
    ("/api/diagnostics/no-such-thing", 401),
    ("/api/no-such-service/anything", 404),
    ("/no-such-page", 404),
]
# fmt: on


@dataclass
class World:
    stack: Stack
    tokens: dict[str, str]
    ids: dict[str, str]
    last: tuple[int, dict[str, str], str] = (0, {}, "")

    def request(self, *, role: str, method: str, path: str, body: Any) -> int:
        headers: dict[str, str] = {}
        if role != "none":
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        if callable(body):
            body = body()
        kwargs: dict[str, Any] = {}
        if isinstance(body, bytes):
            kwargs["content"] = body
            headers["Content-Type"] = "text/csv"
        elif body is not None:
            kwargs["json"] = body
        url = self.stack.gateway_url + path.format(**self.ids)
        with (
            httpx.Client(timeout=30) as http,
            http.stream(method, url, headers=headers, **kwargs) as response,
        ):
            # the event stream never ends: the status line is all this test needs
            if not path.startswith("/api/stream"):
                response.read()
                detail = response.text[:300]
            else:
                detail = response.headers.get("content-type", "")
                if response.status_code >= 400:
                    response.read()
                    detail = response.text[:300]
            self.last = (response.status_code, dict(response.headers), detail)
            return response.status_code


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres,
        kafka=None,
        run_dir=tmp_path_factory.mktemp("authz-matrix"),
        # many anonymous calls from one address (tokens, 401 probes): not a rate-limit test
        extra_env=ANONYMOUS_LIMITS,
    ) as running:
        yield running


def _resigned_copy(token: str, keys_dir: Path, *, expires_in: int) -> str:
    """The same claims, signed with the gateway's real key, expiring ``expires_in`` s from now
    (negative: already expired)."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 3600, exp=now + expires_in)
    pems = sorted(keys_dir.glob("*.pem"))
    assert pems, f"no signing key in {keys_dir}"
    # the key that signed ``token`` is the newest one; its kid is in the header
    return jwt.encode(claims, pems[-1].read_bytes(), algorithm=header["alg"], headers=header)


def _tampered_copy(token: str) -> str:
    """The payload changed (scope widened to admin) and the signature kept."""
    head, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["scope"] = "admin"
    raw = json.dumps(claims, separators=(",", ":")).encode()
    forged = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert forged != payload
    return f"{head}.{forged}.{signature}"


@pytest.fixture(scope="module")
def world(stack: Stack) -> World:
    gateway = stack.gateway_url
    admin = admin_token(gateway)
    api = httpx.Client(
        base_url=f"{gateway}/api", headers={"Authorization": f"Bearer {admin}"}, timeout=30
    )

    def ok(method: str, path: str, **kw: Any) -> Any:
        response = api.request(method, path, **kw)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    for code in (CUR_A, CUR_B):
        ok(
            "POST",
            "/ledger/currencies",
            json={"code": code, "kind": "mutual_credit", "operator": f"Operator of {code}"},
        )
    for code in (PROG_1, PROG_2):
        ok(
            "POST",
            "/funding/programmes",
            json={
                "code": code,
                "name": code,
                "operator": "Région",
                "eligible_territories": [OWN_TERRITORY, OTHER_TERRITORY],
                "legal_forms": ["association"],
                "project_stages": ["creation"],
            },
        )
    ok(
        "POST",
        f"/funding/programmes/{PROG_1}/envelopes",
        json={"code": "MXP1-2026", "year": 2026, "ap_cents": 10**9, "cp_cents": 10**9},
    )
    ok("POST", "/diagnostics/admin/demo")
    ids = {
        f"acct_{code[-1].lower()}": ok("POST", "/ledger/accounts", json=account_of(code))["id"]
        for code in (CUR_A, CUR_B)
    }
    for name, commune in (("app_38", "38185"), ("app_69", "69123")):
        ids[name] = ok(
            "POST",
            "/funding/applications",
            json={
                "envelope_code": "MXP1-2026",
                "applicant_name": f"Asso {commune}",
                "legal_form": "association",
                "project_stage": "creation",
                "title": f"Projet {commune}",
                "commune_insee_code": commune,
                "requested_amount_cents": 100_000,
            },
        )["id"]
    tokens = {"admin": admin}
    for name, spec in ROLES.items():
        tokens[name] = role_token(gateway, admin, client_id=f"mx-{name.replace('_', '-')}", **spec)
    tokens["tampered"] = _tampered_copy(tokens["partner"])
    keys = stack.run_dir / "keys"
    tokens["expired"] = _resigned_copy(tokens["admin"], keys, expires_in=-60)
    tokens["resigned"] = _resigned_copy(tokens["admin"], keys, expires_in=600)
    return World(stack=stack, tokens=tokens, ids=ids)


@pytest.mark.parametrize("c", MATRIX, ids=[c.id for c in MATRIX])
def test_authorisation_matrix(world: World, c: Case) -> None:
    status = world.request(role=c.role, method=c.method, path=c.path, body=c.body)
    assert status == c.expected, f"{c.id}: expected {c.expected}, got {world.last}"
    if status >= 400:
        _, headers, _ = world.last
        assert headers.get("content-type", "").startswith("application/problem+json"), world.last


@pytest.mark.parametrize(("role", "method", "path", "body"), MALFORMED_ABOUT_OTHERS)
def test_another_tenants_resource_is_refused_before_its_parameters_are_read(
    world: World, role: str, method: str, path: str, body: Any
) -> None:
    status = world.request(role=role, method=method, path=path, body=body)
    assert status == 403, world.last
    assert world.last[1].get("content-type", "").startswith("application/problem+json")
    # the control: the caller's own tenant gets the 422 (the gate hides nothing of its own)
    if role == "operator_a":
        own = path.replace(CUR_B, CUR_A).replace(ACCOUNT_B, "{acct_a}")
        assert world.request(role=role, method=method, path=own, body=body) == 422, world.last


@pytest.mark.parametrize("role", ["admin", "partner", "dashboard", "none"])
@pytest.mark.parametrize(("path", "anonymous"), UNKNOWN_ROUTES)
def test_unknown_routes_are_problem_404(world: World, role: str, path: str, anonymous: int) -> None:
    status = world.request(role=role, method="GET", path=path, body=None)
    assert status == (anonymous if role == "none" else 404), world.last
    _, headers, _ = world.last
    assert headers.get("content-type", "").startswith("application/problem+json"), world.last


def test_unknown_service_without_a_path_is_a_404(world: World) -> None:
    response = httpx.get(
        f"{world.stack.gateway_url}/api/no-such-service",
        headers={"Authorization": f"Bearer {world.tokens['admin']}"},
        follow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 404, (response.status_code, response.headers)


@pytest.mark.parametrize("role", ["admin", "operator_a", "none"])
@pytest.mark.parametrize(
    "path", ["/api/ledger/transactions", "/api/funding/applications", "/admin/clients"]
)
def test_oversized_bodies_are_refused_with_413(world: World, role: str, path: str) -> None:
    body = b'{"padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    headers = {"Content-Type": "application/json"}
    if role != "none":
        headers["Authorization"] = f"Bearer {world.tokens[role]}"
    response = httpx.post(world.stack.gateway_url + path, content=body, headers=headers, timeout=30)
    assert response.status_code == 413, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_forged_tokens_are_what_they_claim(world: World) -> None:
    """Guard the 401 rows: the tampered token differs only by payload, and the expired one is
    signed with the gateway's real key (the same claims with a future expiry are accepted)."""
    assert world.request(role="resigned", method="GET", path="/admin/clients", body=None) == 200
    expired = jwt.decode(world.tokens["expired"], options={"verify_signature": False})
    assert expired["exp"] < time.time()
    assert jwt.get_unverified_header(world.tokens["expired"]) == jwt.get_unverified_header(
        world.tokens["admin"]
    )
    assert world.tokens["tampered"].split(".")[2] == world.tokens["partner"].split(".")[2]
