"""The token endpoint's edges, without a database: hashing a bounded number of secrets at
a time, failures limited per client id and per address, and the client address taken
from X-Forwarded-For only when a trusted proxy sent it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from services.gateway.clients.hashing import SecretHasher
from services.gateway.tokens.errors import TokenEndpointBusy
from services.gateway.tokens.failures import AuthFailureLimiter
from services.gateway.traffic.client_address import ClientAddressMiddleware

# --- argon2 under a semaphore -------------------------------------------------------------


def _slow_hasher(**bounds: Any) -> SecretHasher:
    hasher = SecretHasher(time_cost=1, memory_kib=8, parallelism=1, **bounds)

    def slow_verify(secret_hash: str, secret: str) -> bool:
        time.sleep(0.05)
        return secret == "right"

    hasher._verify = slow_verify  # type: ignore[method-assign]
    return hasher


def test_no_more_than_max_concurrent_hashes_run_at_once():
    async def scenario() -> SecretHasher:
        hasher = _slow_hasher(max_concurrent=2, max_waiting=100, max_wait_s=30)
        results = await asyncio.gather(*(hasher.verify("h", "right") for _ in range(12)))
        assert all(results)
        return hasher

    hasher = asyncio.run(scenario())
    assert hasher.peak_running == 2


def test_beyond_the_waiting_room_requests_are_turned_away_with_retry_after():
    async def scenario() -> list[object]:
        hasher = _slow_hasher(max_concurrent=1, max_waiting=2, max_wait_s=30)
        return await asyncio.gather(
            *(hasher.verify("h", "right") for _ in range(6)), return_exceptions=True
        )

    outcomes = asyncio.run(scenario())
    busy = [o for o in outcomes if isinstance(o, TokenEndpointBusy)]
    assert outcomes.count(True) == 3  # one running, two waiting
    assert len(busy) == 3
    assert busy[0].status == 503 and busy[0].headers["Retry-After"] == "30"
    assert busy[0].extra["error"] == "temporarily_unavailable"


def test_a_request_waits_only_briefly_for_a_slot():
    async def scenario() -> list[object]:
        hasher = _slow_hasher(max_concurrent=1, max_waiting=10, max_wait_s=0.01)
        return await asyncio.gather(
            *(hasher.verify("h", "right") for _ in range(3)), return_exceptions=True
        )

    outcomes = asyncio.run(scenario())
    assert outcomes[0] is True
    assert all(isinstance(o, TokenEndpointBusy) for o in outcomes[1:])


# --- failures per client id and per address --------------------------------------------


def _limiter(now: list[float], *, client: int = 3, address: int = 5) -> AuthFailureLimiter:
    return AuthFailureLimiter(
        per_client=lambda: (client, client),  # per minute, burst
        per_address=lambda: (address, address),
        clock=lambda: now[0],
    )


def test_failures_for_one_client_id_are_limited_whatever_the_address():
    now = [1000.0]
    limiter = _limiter(now)
    for n in range(3):
        assert limiter.retry_after_s("victim", f"10.0.0.{n}") is None
        limiter.failed("victim", f"10.0.0.{n}")
    wait = limiter.retry_after_s("victim", "10.0.0.99")  # a fresh address changes nothing
    assert wait is not None and 0 < wait <= 20
    assert limiter.retry_after_s("someone-else", "10.0.0.99") is None
    now[0] += wait
    assert limiter.retry_after_s("victim", "10.0.0.99") is None  # a throttle, not a lockout


def test_failures_from_one_address_are_limited_whatever_the_client_id():
    now = [1000.0]
    limiter = _limiter(now, client=100, address=5)
    for n in range(5):
        limiter.failed(f"guess-{n}", "192.0.2.7")
    assert limiter.retry_after_s("guess-99", "192.0.2.7") is not None
    assert limiter.retry_after_s("guess-99", "192.0.2.8") is None


# --- the client address -------------------------------------------------------------------


def _resolve(
    trusted: list[str], peer: str, forwarded: str | None
) -> tuple[str, list[tuple[bytes, bytes]]]:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    headers = [(b"host", b"gw")]
    if forwarded is not None:
        headers += [(b"x-forwarded-for", forwarded.encode()), (b"x-real-ip", b"203.0.113.9")]
    scope = {"type": "http", "client": (peer, 5555), "headers": headers}
    asyncio.run(ClientAddressMiddleware(app, trusted_proxies=trusted)(scope, None, None))
    return seen["client"][0], seen["headers"]


def test_an_untrusted_peer_is_the_client_and_its_forwarding_headers_are_dropped():
    client, headers = _resolve([], "198.51.100.4", "203.0.113.9")
    assert client == "198.51.100.4"
    assert headers == [(b"host", b"gw")]


def test_a_trusted_proxy_vouches_for_the_address_it_received_the_request_from():
    trusted = ["10.0.0.0/8", "127.0.0.1"]
    assert _resolve(trusted, "10.1.2.3", "203.0.113.9")[0] == "203.0.113.9"
    # A chain of our own proxies: the rightmost address that is not one of them.
    assert _resolve(trusted, "127.0.0.1", "198.51.100.1, 203.0.113.9, 10.9.9.9")[0] == (
        "203.0.113.9"
    )
    # What the caller wrote before our proxy is not believed beyond the first untrusted hop.
    assert _resolve(trusted, "10.1.2.3", "1.1.1.1, 203.0.113.9")[0] == "203.0.113.9"
    assert _resolve(trusted, "10.1.2.3", None)[0] == "10.1.2.3"
    assert _resolve(trusted, "10.1.2.3", "not-an-address")[0] == "10.1.2.3"


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "gateway.local"])
def test_trusted_proxies_must_be_addresses_or_networks(bad: str):
    from services.gateway.settings import GatewaySettings

    with pytest.raises(ValueError):
        GatewaySettings(trusted_proxies=[bad])
