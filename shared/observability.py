"""Structured JSON logs carrying request and correlation ids, and Prometheus metrics.

The correlation id is set from the ``X-Correlation-ID`` header (or the request id) and is
copied into every event a request causes, so one business flow can be followed across
services in the logs.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from contextvars import ContextVar

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

HTTP_REQUESTS = Counter(
    "proxima_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "proxima_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)


def _add_ids(
    _: object, __: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    if (rid := request_id_var.get()) is not None:
        event_dict.setdefault("request_id", rid)
    if (cid := correlation_id_var.get()) is not None:
        event_dict.setdefault("correlation_id", cid)
    return event_dict


def configure_logging(*, service: str, level: str = "INFO", json: bool = True) -> None:
    """Route stdlib and structlog records through one JSON renderer on stdout."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_ids,
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.contextvars.bind_contextvars(service=service)
    for noisy in ("aiokafka", "kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def new_id() -> str:
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware, so streaming responses stay streaming):
    assigns ids, echoes them in response headers, and records metrics per route template."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = _clean_id(headers.get("x-request-id")) or new_id()
        correlation_id = _clean_id(headers.get("x-correlation-id")) or request_id
        rid_token = request_id_var.set(request_id)
        cid_token = correlation_id_var.set(correlation_id)
        status_holder = {"status": 500}
        started = time.perf_counter()

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                extra = [
                    (b"x-request-id", request_id.encode()),
                    (b"x-correlation-id", correlation_id.encode()),
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(
                self.service, scope["method"], template, status_holder["status"]
            ).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], template).observe(
                time.perf_counter() - started
            )
            request_id_var.reset(rid_token)
            correlation_id_var.reset(cid_token)


def _clean_id(value: str | None) -> str | None:
    """Accept client-provided ids only if they are short and printable (log-injection guard)."""
    if value and len(value) <= 128 and all(c.isalnum() or c in "-_.:" for c in value):
        return value
    return None


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
