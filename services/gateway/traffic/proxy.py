"""``/api/{service}/{path}``: forward to a service, and keep the gateway honest about it.

- The caller must present a valid, unrevoked token (401 otherwise): anonymous traffic never
  reaches a service, except the reads named in `public_routes` (an explicit allowlist).
  Scopes and tenants are the service's business: it verifies the same token again (the
  Authorization header is forwarded).
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
from collections.abc import AsyncIterator, Collection
from typing import Any
from urllib.parse import quote

import structlog
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Match, Route
from starlette.types import Scope

from services.gateway.traffic.errors import (
    GatewayTimeout,
    ProxyProblem,
    UnknownService,
    UpstreamError,
    UpstreamUnavailable,
)
from services.gateway.traffic.public_routes import is_public
from services.gateway.traffic.upstream_http import (
    ConnectFailed,
    ConnectionBroken,
    ConnectTimedOut,
    PoolTimedOut,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamTransportError,
)
from services.gateway.traffic.upstreams import Upstream, UpstreamPool
from shared.auth import Principal
from shared.edges import allowed_methods
from shared.observability import correlation_id_var, request_id_var
from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    NotFound,
    Unauthorized,
    problem_body,
    problem_response,
)

log = structlog.get_logger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    }
)
# Request headers the gateway sets itself: the ids and forwarding details, and the framing
# of a body it has read whole (``Expect: 100-continue`` was answered to the caller already).
OWN_REQUEST_HEADERS = frozenset(
    {
        b"x-request-id",
        b"x-correlation-id",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-prefix",
        b"content-length",
        b"expect",
    }
)
NOT_FORWARDED = HOP_BY_HOP | OWN_REQUEST_HEADERS
# The gateway's own request-context middleware sets these on the way out, and its server
# its own Date and Server: relayed too, they came out twice ("uvicorn, uvicorn").
OWN_RESPONSE_HEADERS = frozenset({b"x-request-id", b"x-correlation-id", b"date", b"server"})
NOT_RELAYED = HOP_BY_HOP | OWN_RESPONSE_HEADERS
RETRYABLE_STATUSES = frozenset({502, 503})
BREAKER_FAILURE_STATUSES = frozenset({502, 503, 504})
# Answers up to this size are read whole and sent in one piece: cheaper than streaming them
# (no task group, one ASGI message). Larger or unsized ones are streamed through.
BUFFERED_RESPONSE_BYTES = 256 * 1024
# Failures that happen before the service could act on the request, or that leave no
# answer: safe to repeat for idempotent requests.
RETRYABLE_ERRORS = (ConnectFailed, ConnectTimedOut, ConnectionBroken)
JSON_MEDIA_TYPES = frozenset({PROBLEM_MEDIA_TYPE.encode(), b"application/json"})


PROXY_PATH = "/api/{service}/{path:path}"
# RFC 3986 pchar minus the percent sign: what may stay unencoded inside one segment.
SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


class KnownServiceRoute(Route):
    """The proxy route, matching only ``/api/<a configured service>/…``, so it can be tried
    before the gateway's own routes (none lives under a service's prefix) with a string
    check instead of a regular expression per route."""

    def __init__(self, *args: Any, services: Collection[str], **kwargs: Any) -> None:
        super().__init__(*args, include_in_schema=False, **kwargs)
        self.prefixes = tuple(f"/api/{name}/" for name in services)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            return super().matches(scope)
        return Match.NONE, {}


def is_retryable(method: str, headers: list[tuple[str, str]]) -> bool:
    if method in IDEMPOTENT_METHODS:
        return True
    return method in {"POST", "PATCH"} and any(
        name == "idempotency-key" and value for name, value in headers
    )


def forwarded_headers(request: Request, service: str) -> list[tuple[str, str]]:
    """The caller's headers minus hop-by-hop ones, plus ids and ``X-Forwarded-*``.

    Read from the raw ASGI pairs (already lower-case), repeated headers kept in order."""
    scope = request.scope
    headers: list[tuple[str, str]] = []
    prior_for = host = b""
    for name, value in scope["headers"]:
        if name in NOT_FORWARDED:
            if name == b"x-forwarded-for":
                prior_for = value
            elif name == b"host":
                host = value
            continue
        headers.append((name.decode("latin-1"), _text(value)))
    if (rid := request_id_var.get()) is not None:
        headers.append(("x-request-id", rid))
    if (cid := correlation_id_var.get()) is not None:
        headers.append(("x-correlation-id", cid))
    # The hop this gateway received the request from (`ClientAddressMiddleware` keeps it;
    # a caller's own X-Forwarded-For only reaches here if that hop is a trusted proxy).
    client = scope.get("client")
    client_ip = scope.get("state", {}).get("peer") or (client[0] if client else "")
    prior = _text(prior_for)
    headers += (
        ("x-forwarded-for", f"{prior}, {client_ip}" if prior else client_ip),
        ("x-forwarded-proto", scope.get("scheme", "http")),
        ("x-forwarded-host", _text(host)),
        ("x-forwarded-prefix", f"/api/{service}"),
    )
    return headers


def _text(value: bytes) -> str:
    """A header value as aiohttp takes it (it writes header text as UTF-8): UTF-8 and ASCII
    values go through byte for byte; other bytes (obsolete, rare) are read as Latin-1."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def upstream_path(request: Request) -> str:
    """The service's path, plus the query.

    Built from the DECODED path the router matched (``%2F`` is a slash by then, so
    ``/api/ledger%2Faccounts`` is ``/accounts`` of the ledger), then encoded again segment
    by segment. A ``.`` or ``..`` segment, however it was spelt, is refused: the service
    must never be asked for a path outside what the caller was routed to."""
    segments = request.path_params["path"].split("/")
    if any(segment in {".", ".."} for segment in segments):
        raise NotFound("no such resource: the path has a '.' or '..' segment")
    path = "/" + "/".join(quote(segment, safe=SEGMENT_SAFE) for segment in segments)
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def authenticate(request: Request) -> Principal:
    principal = request.scope.get("state", {}).get("principal")
    if isinstance(principal, Principal):
        return principal  # the rate limiter verified the token already
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
        allowed = allowed_methods(request.app, request.url.path)
        if allowed:  # a gateway resource of its own (the dashboard), another method
            raise HTTPException(405, headers={"Allow": ", ".join(allowed)})
        raise UnknownService(f"no service {service!r}; known: {sorted(pool.upstreams)}")
    public = is_public(service, request.method, "/" + request.path_params["path"])
    if not public:
        authenticate(request)
    try:
        return await _forward(request, service, upstream, public=public)
    except ProxyProblem as exc:
        body = problem_body(
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            instance=request.url.path,
            **exc.extra,
        )
        return problem_response(request, body, exc.headers)


async def _forward(
    request: Request, service: str, upstream: Upstream, *, public: bool = False
) -> Response:
    body = await request.body()
    headers = forwarded_headers(request, service)
    if public:  # the same answer for everyone: the service never sees the caller's token
        headers = [(name, value) for name, value in headers if name != "authorization"]
    settings = request.app.state.settings
    attempts = 1 + (settings.upstream_retries if is_retryable(request.method, headers) else 0)
    response = await _send_with_retries(
        upstream,
        method=request.method,
        url=upstream_path(request),
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
    headers: list[tuple[str, str]],
    body: bytes,
    attempts: int,
    backoff_s: float,
) -> UpstreamResponse:
    for attempt in range(1, attempts + 1):
        breaker = upstream.breaker
        if not breaker.allow(time.monotonic()):
            retry_after = max(1, round(breaker.retry_after(time.monotonic())))
            raise UpstreamUnavailable(
                f"{upstream.name} is failing: circuit open", retry_after=retry_after
            )
        last = attempt == attempts
        try:
            response = await upstream.http.send(method, url, headers, body)
        except asyncio.CancelledError:
            breaker.release()
            raise
        except UpstreamTimeout as exc:
            breaker.record_failure(time.monotonic())
            if isinstance(exc, PoolTimedOut):
                raise UpstreamUnavailable(
                    f"too many requests in flight to {upstream.name}", retry_after=1
                ) from exc
            if isinstance(exc, ConnectTimedOut) and not last:
                await _backoff(attempt, backoff_s)
                continue
            raise GatewayTimeout(f"{upstream.name} did not answer in time") from exc
        except UpstreamTransportError as exc:
            if isinstance(exc, ConnectFailed):
                breaker.record_refused(time.monotonic())
            else:
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


def _response_headers(response: UpstreamResponse) -> list[tuple[bytes, bytes]]:
    """Every header the service sent, repeated ones (Set-Cookie, Link…) included."""
    return [(k, v) for k, v in response.headers if k not in NOT_RELAYED]


class _RelayedResponse(Response):
    """A complete answer whose headers are already final: skips `Response`'s header
    building (Content-Type guessing, charset), which the relayed headers replace anyway."""

    def __init__(self, body: bytes, *, status_code: int, raw_headers: list[tuple[bytes, bytes]]):
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = raw_headers


async def _relay(response: UpstreamResponse) -> Response:
    content_type = response.header(b"content-type") or b""
    if response.status_code >= 400 and not _is_json(content_type):
        await response.aclose()
        raise UpstreamError(response.status_code)
    length = response.header(b"content-length") or b""
    if length.isdigit() and int(length) <= BUFFERED_RESPONSE_BYTES:
        try:
            body = await response.read()
        except UpstreamTransportError as exc:
            raise UpstreamUnavailable(
                f"the service broke off its answer: {type(exc).__name__}", retry_after=1
            ) from exc
        finally:
            await response.aclose()
        return _RelayedResponse(
            body, status_code=response.status_code, raw_headers=_response_headers(response)
        )
    relayed = StreamingResponse(
        _streamed(response),
        status_code=response.status_code,
        background=BackgroundTask(response.aclose),
    )
    relayed.raw_headers = _response_headers(response)
    return relayed


async def _streamed(response: UpstreamResponse) -> AsyncIterator[bytes]:
    """The body, giving the connection back however the relay ends: the background task
    does not run when the caller goes away mid-stream, and a connection never given back
    would hold one of the pool's slots for good."""
    try:
        async for chunk in response.iter_body():
            yield chunk
    finally:
        await response.aclose()


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in JSON_MEDIA_TYPES
