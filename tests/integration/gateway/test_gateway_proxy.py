"""Routing ``/api/<service>/…`` to a real upstream (uvicorn) through the real gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from services.gateway.app import create_app
from tests.integration.gateway.conftest import (
    ADMIN_SECRET,
    MakeSettings,
    bearer,
    running,
    serve,
    token,
    unique_id,
)
from tests.integration.gateway.upstream_app import calls, echo_app

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    with serve(echo_app()) as url:
        yield url


@pytest.fixture
async def proxied(
    make_settings: MakeSettings, upstream_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    settings = make_settings(
        ledger_url=upstream_url,
        funding_url=upstream_url,
        diagnostics_url="http://127.0.0.1:9",  # nothing listens on the discard port
        upstream_read_timeout_s=0.5,
        upstream_retry_backoff_s=0.01,
        breaker_failure_threshold=3,
        breaker_reset_timeout_s=30,
        max_body_bytes=4096,
    )
    async with running(create_app(settings)) as client:
        yield client, bearer(await token(client, "admin", ADMIN_SECRET))


async def test_requests_reach_the_service_with_path_query_and_body(proxied):
    client, auth = proxied
    response = await client.post(
        "/api/ledger/echo/accounts/a%2Fb%20c?limit=5&x=%C3%A9", content=b"{}", headers=auth
    )
    assert response.status_code == 200
    echoed = response.json()
    # The path is decoded before it is split (%2F is a slash), then encoded again segment
    # by segment; the query goes through as the caller wrote it.
    assert echoed["raw_path"] == "/echo/accounts/a/b%20c"
    assert echoed["query"] == "limit=5&x=%C3%A9"
    assert echoed["body_bytes"] == 2
    assert response.headers["x-upstream"] == "echo"
    assert len(response.headers.get_list("set-cookie")) == 2


async def test_authorization_and_trace_ids_are_forwarded(proxied):
    client, auth = proxied
    response = await client.get(
        "/api/ledger/echo/x",
        headers=auth | {"X-Request-ID": "req-123", "X-Correlation-ID": "flow-9"},
    )
    headers = response.json()["headers"]
    assert headers["authorization"] == auth["Authorization"]
    assert headers["x-request-id"] == "req-123"
    assert headers["x-correlation-id"] == "flow-9"
    assert headers["x-forwarded-prefix"] == "/api/ledger"
    assert response.headers["x-request-id"] == "req-123"
    assert response.headers["x-correlation-id"] == "flow-9"


async def test_a_request_id_is_created_when_the_caller_sends_none(proxied):
    client, auth = proxied
    response = await client.get("/api/ledger/echo/x", headers=auth)
    forwarded = response.json()["headers"]["x-request-id"]
    assert forwarded == response.headers["x-request-id"]
    assert len(forwarded) >= 16


async def test_anonymous_and_invalid_tokens_never_reach_the_service(proxied):
    client, _ = proxied
    before = calls["echo:guarded"]
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        response = await client.get("/api/ledger/echo/guarded", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"] == "Bearer"
    assert calls["echo:guarded"] == before


async def test_an_unknown_service_is_a_404_problem(proxied):
    client, auth = proxied
    response = await client.get("/api/payroll/anything", headers=auth)
    assert response.status_code == 404
    assert response.json()["code"] == "unknown-service"


async def test_idempotent_requests_are_retried_past_a_503(proxied):
    client, auth = proxied
    key = unique_id("get")
    response = await client.get(f"/api/ledger/flaky/{key}?failures=2", headers=auth)
    assert response.status_code == 200
    assert response.json()["attempt"] == 3


async def test_a_post_without_idempotency_key_is_not_retried(proxied):
    client, auth = proxied
    key = unique_id("post")
    response = await client.post(f"/api/ledger/flaky/{key}?failures=1", headers=auth)
    assert response.status_code == 503
    assert calls[f"flaky:{key}"] == 1


async def test_a_post_with_an_idempotency_key_is_retried(proxied):
    client, auth = proxied
    key = unique_id("post-idem")
    response = await client.post(
        f"/api/ledger/flaky/{key}?failures=1", headers=auth | {"Idempotency-Key": key}
    )
    assert response.status_code == 200
    assert calls[f"flaky:{key}"] == 2


async def test_an_unreachable_service_is_a_503_problem_with_retry_after(proxied):
    client, auth = proxied
    response = await client.get("/api/diagnostics/territories", headers=auth)
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "upstream-unavailable"


async def test_a_slow_service_is_a_504_problem(proxied):
    client, auth = proxied
    response = await client.get("/api/ledger/slow?seconds=2", headers=auth)
    assert response.status_code == 504
    assert response.json()["code"] == "gateway-timeout"


async def test_the_circuit_opens_after_consecutive_failures(proxied):
    client, auth = proxied
    key = unique_id("breaker")
    # Each call fails three times in a row (one try + two retries): the circuit opens.
    first = await client.get(f"/api/funding/flaky/{key}?failures=100", headers=auth)
    assert first.status_code == 503
    sent = calls[f"flaky:{key}"]
    response = await client.get(f"/api/funding/flaky/{key}?failures=100", headers=auth)
    assert response.status_code == 503
    assert response.json()["code"] == "upstream-unavailable"
    assert 1 <= int(response.headers["retry-after"]) <= 30
    assert calls[f"flaky:{key}"] == sent  # refused at the gateway, the service was spared


async def test_a_service_error_without_details_becomes_a_problem(proxied):
    client, auth = proxied
    response = await client.get("/api/ledger/plain-error", headers=auth)
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "Traceback" not in response.text
    assert response.json()["code"] == "upstream-error"


async def test_service_problems_pass_through_unchanged(proxied):
    client, auth = proxied
    response = await client.get("/api/ledger/conflict", headers=auth)
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "taken"


async def test_an_oversized_body_is_a_413_before_the_service_sees_it(proxied):
    client, auth = proxied
    before = calls["echo:big"]
    response = await client.post("/api/ledger/echo/big", content=b"x" * 5000, headers=auth)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "payload-too-large"
    assert calls["echo:big"] == before


async def test_an_oversized_chunked_body_is_a_413_too(proxied):
    client, auth = proxied

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    response = await client.post("/api/ledger/echo/chunked", content=chunks(), headers=auth)
    assert response.status_code == 413
    assert response.json()["code"] == "payload-too-large"


async def test_answers_of_unknown_length_are_streamed_through_whole(proxied):
    client, auth = proxied
    response = await client.get("/api/ledger/chunks?count=40&size=10000", headers=auth)
    assert response.status_code == 200
    assert response.content == b"".join(str(i % 10).encode() * 10_000 for i in range(40))


async def test_server_sent_events_are_relayed(proxied):
    client, auth = proxied
    response = await client.get("/api/ledger/events?count=3", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == "".join(f"id: {i}\ndata: tick {i}\n\n" for i in range(3))


async def test_gateway_routes_under_api_are_not_taken_for_services(proxied):
    client, auth = proxied
    response = await client.get("/api/dashboard/summary", headers=auth)
    assert response.status_code == 200
    assert "unknown-service" not in response.text


async def test_unknown_gateway_routes_are_404_problems(proxied):
    client, _ = proxied
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_a_wrong_method_is_a_405_problem(proxied):
    client, _ = proxied
    response = await client.delete("/oauth/token")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


async def test_dot_segments_never_reach_the_service_however_encoded(proxied):
    client, auth = proxied
    # (httpx itself removes literal dot segments; encoded ones reach the gateway)
    for path in ["/api/ledger/echo/%2e%2e/x", "/api/ledger/echo%2F..%2F..%2Fx"]:
        response = await client.get(path, headers=auth)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "not-found"
