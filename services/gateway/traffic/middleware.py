"""Edge guards that run before routing, as pure ASGI middleware (streaming responses such as
SSE pass through untouched): request-size limit and per-client rate limit.

They sit inside the request-id middleware, so their problem+json answers carry
``X-Request-ID`` like every other response.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.errors import GatewayError
from services.gateway.traffic.errors import PayloadTooLarge, RateLimited
from services.gateway.traffic.rules import RateLimiter
from shared.auth import Principal
from shared.problems import Problem, problem_body, problem_response

UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics", "/static/")


class BodyTooLarge(HTTPException):
    """Raised by the counting ``receive``; an HTTPException so that FastAPI's body parsing
    lets it through instead of turning it into a 400. `on_body_too_large` renders it."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the body may not exceed {max_bytes} bytes")


async def on_body_too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    problem = PayloadTooLarge(str(exc.detail))
    body = problem_body(
        status=413,
        code=problem.code,
        title=problem.title,
        detail=problem.detail,
        instance=request.url.path,
    )
    return problem_response(request, body, {"Connection": "close"})


async def send_problem(
    scope: Scope, receive: Receive, send: Send, problem: GatewayError, headers: dict[str, str]
) -> None:
    body = problem_body(
        status=problem.status,
        code=problem.code,
        title=problem.title,
        detail=problem.detail,
        instance=scope.get("path", ""),
    )
    response = problem_response(Request(scope, receive), body, headers)
    await response(scope, receive, send)


class BodySizeLimitMiddleware:
    """413 for a declared Content-Length above the limit (before reading anything), and
    for a chunked body that grows past it (the endpoint sees `PayloadTooLarge`)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            problem = PayloadTooLarge(f"the body may not exceed {self.max_bytes} bytes")
            await send_problem(scope, receive, send, problem, {"Connection": "close"})
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


class RateLimitMiddleware:
    """A token bucket per authenticated client (``sub`` of a valid token), else per client
    IP. Buckets live in this process; the limits it is given are already this replica's
    share of the gateway-wide limit (see ``replicas.py``). An invalid token counts against
    the IP and the endpoint then answers 401."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        identify: Callable[[str], Principal],
        client_limit: Callable[[str], tuple[int, int]],
        anonymous_limit: Callable[[], tuple[int, int]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.identify = identify
        self.client_limit = client_limit
        self.anonymous_limit = anonymous_limit
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        key, (per_minute, burst) = self._caller(scope)
        decision = self.limiter.take(key, capacity=burst, per_minute=per_minute, now=self.clock())
        if not decision.allowed:
            retry_after = str(max(1, math.ceil(decision.retry_after_s)))
            problem = RateLimited(f"rate limit of {per_minute} requests per minute exceeded")
            headers = {
                "Retry-After": retry_after,
                "RateLimit-Limit": str(decision.limit),
                "RateLimit-Remaining": "0",
            }
            await send_problem(scope, receive, send, problem, headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"ratelimit-limit", str(decision.limit).encode()),
                    (b"ratelimit-remaining", str(decision.remaining).encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _caller(self, scope: Scope) -> tuple[str, tuple[int, int]]:
        token = _bearer_token(scope)
        if token is not None:
            try:
                principal = self.identify(token)
            except Problem:
                pass
            else:
                scope.setdefault("state", {})["principal"] = principal
                return f"client:{principal.client_id}", self.client_limit(principal.client_id)
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}", self.anonymous_limit()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


def _bearer_token(scope: Scope) -> str | None:
    header = _header(scope, b"authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        return str(token.strip()) or None if scheme.lower() == "bearer" else None
    if scope["path"] == "/api/stream":
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
            if name == "access_token" and value:
                return str(value)
    return None
