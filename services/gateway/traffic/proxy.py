"""``/api/{service}/{path}``: forward to a service, and keep the gateway honest about it.

- The caller must present a valid, unrevoked token (401 otherwise): anonymous traffic never
  reaches a service. Scopes and tenants are the service's business: it verifies the same
  token again (the Authorization header is forwarded).
- Retries only where repeating cannot do harm: GET, HEAD, OPTIONS, PUT, DELETE, and POST or
  PATCH carrying an ``Idempotency-Key``; on connection failures and 502/503 answers, with
  a short exponential backoff.
- A circuit breaker per service; when open, 503 at once with ``Retry-After``.
- Transport failures become problem+json: a service that cannot be reached or breaks off
  its answer (down, restarting) is 503 with ``Retry-After`` — the client's cue to retry,
  safely with its idempotency key; timeouts are 504. A service error that is not already
  problem+json is wrapped into one, without its body (it may hold internals).

This is a plain Starlette route, not a FastAPI one: the operations it serves are described
by each service's own OpenAPI, merged into the gateway's (`traffic.openapi`).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx
import structlog
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from services.gateway.traffic.upstreams import Upstream, UpstreamPool
from shared.auth import Principal
from shared.observability import correlation_id_var, request_id_var
from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    NotFound,
    Problem,
    Unauthorized,
    problem_body,
    problem_response,
)

log = structlog.get_logger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "host",
    }
)
# The gateway's own request-context middleware sets these on the way out.
OWN_RESPONSE_HEADERS = frozenset({"x-request-id", "x-correlation-id"})
RETRYABLE_STATUSES = frozenset({502, 503})
BREAKER_FAILURE_STATUSES = frozenset({502, 503, 504})
# Answers up to this size are read whole and sent in one piece: cheaper than streaming them
# (no task group, one ASGI message). Larger or unsized ones are streamed through.
BUFFERED_RESPONSE_BYTES = 256 * 1024
RETRYABLE_ERRORS = (
    httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
    httpx.ReadError, httpx.WriteError,
)


class ProxyProblem(Problem):
    """An upstream failure as the caller sees it, with the headers it calls for."""

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.headers = headers or {}


class GatewayTimeout(ProxyProblem):
    status, code, title = 504, "gateway-timeout", "The service did not answer in time"


class UpstreamUnavailable(ProxyProblem):
    status, code, title = 503, "upstream-unavailable", "Service temporarily unavailable"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class UpstreamError(ProxyProblem):
    code, title = "upstream-error", "The service reported an error"

    def __init__(self, status: int) -> None:
        super().__init__(f"the service answered {status} without details")
        self.status = status


class UnknownService(NotFound):
    code, title = "unknown-service", "No such service"


def is_retryable(method: str, headers: httpx.Headers) -> bool:
    if method in IDEMPOTENT_METHODS:
        return True
    return method in {"POST", "PATCH"} and bool(headers.get("idempotency-key"))


def forwarded_headers(request: Request, service: str) -> httpx.Headers:
    headers = httpx.Headers(
        [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    )
    if (rid := request_id_var.get()) is not None:
        headers["X-Request-ID"] = rid
    if (cid := correlation_id_var.get()) is not None:
        headers["X-Correlation-ID"] = cid
    client_ip = request.client.host if request.client else ""
    prior = headers.get("x-forwarded-for")
    headers["X-Forwarded-For"] = f"{prior}, {client_ip}" if prior else client_ip
    headers["X-Forwarded-Proto"] = request.url.scheme
    headers["X-Forwarded-Host"] = request.headers.get("host", "")
    headers["X-Forwarded-Prefix"] = f"/api/{service}"
    return headers


def upstream_path(request: Request, service: str) -> str:
    """The path as the caller encoded it, minus ``/api/<service>``, plus the query."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")[len(f"/api/{service}") :] or "/"
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def authenticate(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    verified: Principal = request.app.state.token_verifier.verify(token.strip())
    return verified


async def proxy(request: Request) -> Response:
    service = request.path_params["service"]
    pool: UpstreamPool = request.app.state.upstreams
    upstream = pool.get(service)
    if upstream is None:
        raise UnknownService(f"no service {service!r}; known: {sorted(pool.upstreams)}")
    authenticate(request)
    try:
        return await _forward(request, service, upstream)
    except ProxyProblem as exc:
        body = problem_body(
            status=exc.status, code=exc.code, title=exc.title, detail=exc.detail,
            instance=request.url.path, **exc.extra,
        )
        return problem_response(request, body, exc.headers)


async def _forward(request: Request, service: str, upstream: Upstream) -> Response:
    body = await request.body()
    headers = forwarded_headers(request, service)
    settings = request.app.state.settings
    attempts = 1 + (settings.upstream_retries if is_retryable(request.method, headers) else 0)
    response = await _send_with_retries(
        upstream,
        method=request.method,
        url=upstream_path(request, service),
        headers=headers,
        body=body,
        attempts=attempts,
        backoff_s=settings.upstream_retry_backoff_s,
    )
    return await _relay(response)


async def _send_with_retries(
    upstream: Upstream,
    *,
    method: str,
    url: str,
    headers: httpx.Headers,
    body: bytes,
    attempts: int,
    backoff_s: float,
) -> httpx.Response:
    for attempt in range(1, attempts + 1):
        breaker = upstream.breaker
        if not breaker.allow(time.monotonic()):
            retry_after = max(1, round(breaker.retry_after(time.monotonic())))
            raise UpstreamUnavailable(
                f"{upstream.name} is failing: circuit open", retry_after=retry_after
            )
        last = attempt == attempts
        try:
            request = upstream.client.build_request(method, url, headers=headers, content=body)
            response = await upstream.client.send(request, stream=True)
        except asyncio.CancelledError:
            breaker.release()
            raise
        except httpx.TimeoutException as exc:
            breaker.record_failure(time.monotonic())
            if isinstance(exc, httpx.PoolTimeout):
                raise UpstreamUnavailable(
                    f"too many requests in flight to {upstream.name}", retry_after=1
                ) from exc
            if isinstance(exc, httpx.ConnectTimeout) and not last:
                await _backoff(attempt, backoff_s)
                continue
            raise GatewayTimeout(f"{upstream.name} did not answer in time") from exc
        except httpx.TransportError as exc:
            breaker.record_failure(time.monotonic())
            if isinstance(exc, RETRYABLE_ERRORS) and not last:
                await _backoff(attempt, backoff_s)
                continue
            raise UpstreamUnavailable(
                f"{upstream.name} unreachable: {type(exc).__name__}", retry_after=1
            ) from exc
        except Exception:
            breaker.release()  # not the service's fault: never leave a half-open trial stuck
            raise
        if response.status_code in BREAKER_FAILURE_STATUSES:
            breaker.record_failure(time.monotonic())
        else:
            breaker.record_success()
        if response.status_code in RETRYABLE_STATUSES and not last:
            await response.aclose()
            await _backoff(attempt, backoff_s)
            continue
        return response
    raise AssertionError("unreachable: the last attempt returns or raises")


async def _backoff(attempt: int, base_s: float) -> None:
    await asyncio.sleep(base_s * 2 ** (attempt - 1) * (0.5 + random.random()))


def _response_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    """Every header the service sent, repeated ones (Set-Cookie, Link…) included."""
    return [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in response.headers.multi_items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in OWN_RESPONSE_HEADERS
    ]


async def _relay(response: httpx.Response) -> Response:
    content_type = response.headers.get("content-type", "")
    if response.status_code >= 400 and not _is_json(content_type):
        await response.aclose()
        raise UpstreamError(response.status_code)
    length = response.headers.get("content-length", "")
    relayed: Response
    if length.isdigit() and int(length) <= BUFFERED_RESPONSE_BYTES:
        try:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(
                f"the service broke off its answer: {type(exc).__name__}", retry_after=1
            ) from exc
        finally:
            await response.aclose()
        relayed = Response(body, status_code=response.status_code)
    else:
        relayed = StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            background=BackgroundTask(response.aclose),
        )
    relayed.raw_headers = _response_headers(response)
    return relayed


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in {PROBLEM_MEDIA_TYPE, "application/json"}
