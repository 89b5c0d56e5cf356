"""Structured JSON logs carrying request and correlation ids, and Prometheus metrics.

The correlation id is set from the ``X-Correlation-ID`` header (or the request id) and is
copied into every event a request causes, so one business flow can be followed across
services in the logs. When tracing is on (`shared.tracing`), a line written inside a span
also carries its ``trace_id`` and ``span_id``, to go from a log line to its trace.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.tracing import log_ids

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
    if (ids := log_ids()) is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
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


class _IdSource:
    """Request ids need to be unique, not unpredictable (they are never a credential): a
    random 64-bit prefix per process and a counter give 32 hex characters like
    ``uuid4().hex`` without a ``getrandom()`` system call on every request. A forked child
    draws its own prefix, so two processes never share one."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count(secrets.randbelow(1 << 32))

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


_ids = _IdSource()
os.register_at_fork(after_in_child=_ids.reset)


def new_id() -> str:
    """A new request id: 32 lower-case hex characters, unique across processes."""
    return _ids()


_MAX_CACHED_SERIES = 4096


class RequestContextMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware, so streaming responses stay streaming):
    assigns ids, echoes them in response headers, and records metrics per route template.

    It runs on every request of every service, so it reads only the two headers it needs
    (no dict of all headers), and keeps the metric children it has already looked up:
    ``labels()`` validates and locks on every call, a dict hit does not (bounded, since the
    method label comes from the client)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_rid = sent_cid = None
        for name, value in scope["headers"]:  # ASGI servers give header names lower-cased
            if name == b"x-request-id":
                sent_rid = value
            elif name == b"x-correlation-id":
                sent_cid = value
        request_id = _clean_id(sent_rid) or new_id()
        correlation_id = _clean_id(sent_cid) or request_id
        rid_token = request_id_var.set(request_id)
        cid_token = correlation_id_var.set(correlation_id)
        status = 500
        started = time.perf_counter()
        extra = [
            (b"x-request-id", request_id.encode()),
            (b"x-correlation-id", correlation_id.encode()),
        ]

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            requests, latency = self._children(scope["method"], template, status)
            requests.inc()
            latency.observe(time.perf_counter() - started)
            request_id_var.reset(rid_token)
            correlation_id_var.reset(cid_token)

    def _children(self, method: str, template: str, status: int) -> tuple[Any, Any]:
        key = (method, template, status)
        children = self._series.get(key)
        if children is None:
            children = (
                HTTP_REQUESTS.labels(self.service, method, template, status),
                HTTP_LATENCY.labels(self.service, method, template),
            )
            if len(self._series) < _MAX_CACHED_SERIES:
                self._series[key] = children
        return children


# What `str.isalnum() or c in "-_.:"` accepted, as one C-level match instead of a loop.
_ID = re.compile(r"[\w\-.:]{1,128}")


def _clean_id(value: bytes | None) -> str | None:
    """Accept client-provided ids (raw header bytes) only if they are short and printable
    (log-injection guard)."""
    if not value:
        return None
    text = value.decode("latin-1")
    return text if _ID.fullmatch(text) else None


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
