"""Trust at the edges, on real processes (the four services under uvicorn, PostgreSQL, the
embedded event bus): what the gateway revokes or withdraws is refused by the services
themselves within seconds, asked directly on their own ports, not only through the
gateway (which checks every token before it proxies); and ``/oauth/token`` stays within
bounded memory under a flood and limits failures per client id.

Without the gateway's events a service would go on accepting such a token until its
verified-token cache entry (60 s) and its JWKS copy (60 s) expired: every wait below is
far shorter than that.

The gateway hashes secrets with argon2id at 64 MiB each here (the production memory cost)
and believes X-Forwarded-For from 127.0.0.1, which stands for our reverse proxy.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import admin_token, e2e_stack

pytestmark = [pytest.mark.slow]

# Well under the 60 s a cached verification or a JWKS copy would otherwise live.
WITHIN_S = 20.0
READS = {  # a read every service answers for a client bound to everything
    "ledger": "/currencies",
    "funding": "/programmes",
    "diagnostics": "/aggregates",
}
ARGON2_MIB = 64
FLOOD = 64  # concurrent token requests, more than the 40 worker threads of the gateway
_unique = itertools.count(1)


@pytest.fixture(scope="module")
def stack(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres,
        kafka=None,
        run_dir=tmp_path_factory.mktemp("token-edges"),
        extra_env={
            "PROXIMA_ARGON2_MEMORY_KIB": str(ARGON2_MIB * 1024),
            "PROXIMA_TRUSTED_PROXIES": '["127.0.0.1"]',
        },
    ) as running:
        yield running


def admin(stack: Stack) -> dict[str, str]:
    """A fresh admin token each time: a key withdrawal refuses the previous ones."""
    return {"Authorization": f"Bearer {admin_token(stack.gateway_url)}"}


def register(stack: Stack, **overrides: Any) -> tuple[str, str]:
    body: dict[str, Any] = {
        "client_id": f"edge-{next(_unique)}-{int(time.time())}",
        "name": "Edge test client",
        "role": "partner_app",
        "scopes": ["ledger:read", "funding:read", "diagnostics:read"],
        "tenants": {k: ["*"] for k in ("currencies", "programmes", "envelopes", "territories")},
    }
    body.update(overrides)
    created = httpx.post(
        f"{stack.gateway_url}/admin/clients", json=body, headers=admin(stack), timeout=30
    )
    assert created.status_code == 201, created.text
    return body["client_id"], created.json()["client_secret"]


def form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def token_of(stack: Stack, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{stack.gateway_url}/oauth/token", data=form(client_id, secret), timeout=30
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def direct(stack: Stack, service: str, token: str) -> httpx.Response:
    """A read on the service's own port, bypassing the gateway."""
    return httpx.get(
        f"{stack.services[service].url}{READS[service]}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def eventually(check: Callable[[], bool], what: str, within_s: float = WITHIN_S) -> float:
    """Seconds until ``check`` held; fails after ``within_s``."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > within_s:
            raise AssertionError(f"not within {within_s} s: {what}")
        time.sleep(0.2)
    return time.monotonic() - start


def test_a_withdrawn_key_is_refused_by_the_ledger_itself_within_seconds(stack: Stack) -> None:
    client_id, secret = register(stack)
    leaked = token_of(stack, client_id, secret)
    kid = jwt.get_unverified_header(leaked)["kid"]
    # The ledger verifies it and keeps it in its cache of verified tokens.
    assert direct(stack, "ledger", leaked).status_code == 200
    assert direct(stack, "ledger", leaked).status_code == 200

    withdrawn = httpx.post(
        f"{stack.gateway_url}/admin/signing-keys/{kid}/withdraw", headers=admin(stack), timeout=30
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["withdrawn"] == kid
    assert withdrawn.json()["signing"]["kid"] != kid  # it was signing: a new key took over
    jwks = httpx.get(f"{stack.gateway_url}/.well-known/jwks.json", timeout=30).json()
    assert kid not in {key["kid"] for key in jwks["keys"]}

    eventually(
        lambda: direct(stack, "ledger", leaked).status_code == 401,
        "the ledger refuses a token signed with the withdrawn key",
    )
    refused = direct(stack, "ledger", leaked)
    assert refused.headers["content-type"] == "application/problem+json"
    assert "withdrawn" in refused.json()["detail"]
    for service in ("funding", "diagnostics"):
        eventually(
            lambda s=service: direct(stack, s, leaked).status_code == 401,
            f"{service} refuses the withdrawn key's token",
        )
    # Through the gateway too, and a token from the new key works everywhere.
    via_gateway = httpx.get(
        f"{stack.gateway_url}/api/ledger/currencies",
        headers={"Authorization": f"Bearer {leaked}"},
        timeout=30,
    )
    assert via_gateway.status_code == 401
    fresh = token_of(stack, client_id, secret)
    assert jwt.get_unverified_header(fresh)["kid"] == withdrawn.json()["signing"]["kid"]
    for service in READS:
        assert direct(stack, service, fresh).status_code == 200


def test_a_revoked_client_is_refused_by_every_service_within_seconds(stack: Stack) -> None:
    client_id, secret = register(stack)
    token = token_of(stack, client_id, secret)
    for service in READS:
        assert direct(stack, service, token).status_code == 200

    revoked = httpx.post(
        f"{stack.gateway_url}/admin/clients/{client_id}/revoke",
        json={"reason": "laptop stolen"},
        headers=admin(stack),
        timeout=30,
    )
    assert revoked.status_code == 200, revoked.text

    for service in READS:
        eventually(
            lambda s=service: direct(stack, s, token).status_code == 401,
            f"{service} refuses the revoked client's token",
        )
        assert "revoked" in direct(stack, service, token).json()["detail"]

    # A service started after the revocation learns it from the event log.
    stack.restart("ledger")
    eventually(
        lambda: direct(stack, "ledger", token).status_code == 401,
        "a restarted ledger still refuses the revoked client's token",
    )


def test_a_change_of_scopes_invalidates_the_clients_earlier_tokens(stack: Stack) -> None:
    client_id, secret = register(stack, scopes=["ledger:read", "funding:read"])
    before = token_of(stack, client_id, secret)
    assert direct(stack, "ledger", before).status_code == 200

    changed = httpx.patch(
        f"{stack.gateway_url}/admin/clients/{client_id}",
        json={"scopes": ["funding:read"]},
        headers=admin(stack),
        timeout=30,
    )
    assert changed.status_code == 200, changed.text

    # The old token still says ledger:read: the ledger refuses it all the same.
    eventually(
        lambda: direct(stack, "ledger", before).status_code == 401,
        "the ledger refuses a token issued before the scopes changed",
    )
    eventually(
        lambda: direct(stack, "funding", before).status_code == 401,
        "funding refuses it too (same client, older generation)",
    )
    after = token_of(stack, client_id, secret)
    assert jwt.decode(after, options={"verify_signature": False})["cgen"] == 1
    assert direct(stack, "funding", after).status_code == 200
    assert direct(stack, "ledger", after).status_code == 403  # its scope is gone


def test_a_change_that_is_not_about_authority_keeps_tokens_valid(stack: Stack) -> None:
    client_id, secret = register(stack)
    token = token_of(stack, client_id, secret)
    renamed = httpx.patch(
        f"{stack.gateway_url}/admin/clients/{client_id}",
        json={"name": "Renamed", "rate_limit_per_minute": 5000},
        headers=admin(stack),
        timeout=30,
    )
    assert renamed.status_code == 200, renamed.text
    time.sleep(2)  # long enough for an event, had one been published, to arrive
    assert direct(stack, "ledger", token).status_code == 200


def _status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory figure (VmRSS now, VmHWM the peak so far), in KiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB$", text, re.M)
    assert match, field
    return int(match.group(1))


def _metric(stack: Stack, name: str) -> float:
    # /metrics is not public: the administrator's token carries every scope
    headers = {"Authorization": f"Bearer {admin_token(stack.gateway_url)}"}
    text = httpx.get(f"{stack.gateway_url}/metrics", headers=headers, timeout=30).text
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, name
    return float(match.group(1))


def test_a_flood_of_token_requests_keeps_the_gateways_memory_bounded(stack: Stack) -> None:
    """Each hash holds 64 MiB while it runs. Unbounded, the flood would run one per worker
    thread (40): 2.5 GiB. Bounded to 4 at a time (the default), the gateway's peak resident
    memory grows by 4 × 64 MiB at most, plus slack; the excess waits briefly or is told
    to come back (503 + Retry-After)."""
    client_id, secret = register(stack)
    pid = stack.services["gateway"].process.pid  # type: ignore[union-attr]
    rss_before = _status_kib(pid, "VmRSS")

    def ask(_: int) -> httpx.Response:
        return httpx.post(
            f"{stack.gateway_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
            timeout=60,
        )

    with ThreadPoolExecutor(FLOOD) as pool:
        answers = list(pool.map(ask, range(FLOOD)))
    peak_kib = _status_kib(pid, "VmHWM")

    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 4
    for busy in (a for a in answers if a.status_code == 503):
        assert busy.headers["content-type"] == "application/problem+json"
        assert int(busy.headers["retry-after"]) >= 1
    assert _metric(stack, "proxima_gateway_argon2_in_flight_peak") <= 4
    grown_mib = (peak_kib - rss_before) / 1024
    assert grown_mib <= (4 + 2) * ARGON2_MIB, f"peak RSS grew by {grown_mib:.0f} MiB"


def test_failures_are_limited_per_client_id_across_addresses(stack: Stack) -> None:
    """Ten wrong secrets (the default burst) for one client id, each from another address
    as our proxy reports it: the eleventh attempt is refused before its secret is checked,
    whatever address it claims, while another client is untouched."""
    client_id, secret = register(stack)

    def attempt(client: str, secret_tried: str, address: str) -> httpx.Response:
        return httpx.post(
            f"{stack.gateway_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client,
                "client_secret": secret_tried,
            },
            headers={"X-Forwarded-For": address},
            timeout=30,
        )

    statuses = [attempt(client_id, "guess", f"203.0.113.{n}").status_code for n in range(10)]
    assert statuses == [401] * 10
    refused = attempt(client_id, "guess", "198.51.100.77")
    assert refused.status_code == 429
    assert refused.json()["code"] == "too-many-failures"
    assert int(refused.headers["retry-after"]) >= 1
    other_id, other_secret = register(stack)
    assert attempt(other_id, other_secret, "198.51.100.77").status_code == 200
