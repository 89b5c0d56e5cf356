"""What every answer of every service says about itself at the HTTP edge, in one place:

- ``OPTIONS`` on a documented resource is ``204`` with ``Allow`` listing every method the
  resource has (RFC 9110 § 9.3.7); a method it lacks is ``405`` with the same ``Allow``.
  Why here: FastAPI registers one route per method, so Starlette's own 405 names only the
  methods of the first route whose path matched, and it never answers ``OPTIONS`` at all.
- Every answer carries ``X-Content-Type-Options: nosniff``, and a document (CSV, FEC, PDF,
  an uploaded file…) is served as ``Content-Disposition: attachment`` unless its endpoint
  named the file itself: a browser never renders an export or an upload inline, where a
  crafted one could run as HTML or script in the API's origin.
- The ``instance`` of a problem is the path the caller used: behind the gateway, the
  service's path under the ``X-Forwarded-Prefix`` the gateway sets (``/api/<service>``).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Media types a browser may show inline: data for scripts, pages and their assets.
INLINE_MEDIA_TYPES = frozenset(
    {
        b"application/json",
        b"application/problem+json",
        b"text/html",
        b"text/event-stream",
        b"text/plain",
        b"text/css",
        b"text/javascript",
        b"application/javascript",
        b"image/png",
        b"image/svg+xml",
        b"image/x-icon",
        b"image/vnd.microsoft.icon",
        b"font/woff2",
        b"application/openmetrics-text",
    }
)
NOSNIFF = (b"x-content-type-options", b"nosniff")
# Only the gateway sets it, always ``/api/<service name>``; anything else is ignored.
_PREFIX = re.compile(r"/api/[a-z][a-z0-9-]{0,40}")


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method the app's documented routes accept on ``path`` (HEAD with GET, and
    OPTIONS, which `EdgeMiddleware` answers); empty when no documented route matches."""
    methods: set[str] = set()
    for regex, declared in _method_index(app):
        if regex.match(path):
            methods |= declared
    if methods:
        methods.add("OPTIONS")
        if "GET" in methods:
            methods.add("HEAD")
    return sorted(methods)


def _method_index(app: Any) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Each documented route's path pattern (path convertors included) and methods, once
    per app. Through `iter_route_contexts`: FastAPI nests included routers."""
    index: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "allowed_methods_index", None
    )
    if index is None:
        index = []
        for route in iter_route_contexts(app.router.routes):
            regex = getattr(route, "path_regex", None)
            declared = route.methods
            if regex is not None and declared and getattr(route, "include_in_schema", False):
                index.append((regex, frozenset(declared) - {"HEAD"}))
        app.state.allowed_methods_index = index
    return index


def instance_of(request: Request) -> str:
    """The path the caller used: the gateway's prefix, when it forwarded the request, then
    the service's own path."""
    prefix = request.headers.get("x-forwarded-prefix", "")
    if prefix and _PREFIX.fullmatch(prefix):
        return prefix + request.url.path
    return request.url.path


class EdgeMiddleware:
    """Pure ASGI (streamed exports stay streamed): answers ``OPTIONS`` and adds the
    document headers described in the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(scope["app"], scope["path"])
            if allowed:
                await _no_content(send, allowed)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _document_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _document_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    media = b""
    has_disposition = has_nosniff = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
        elif lowered == b"content-disposition":
            has_disposition = True
        elif lowered == b"x-content-type-options":
            has_nosniff = True
    if not has_nosniff:
        headers.append(NOSNIFF)
    if media and media not in INLINE_MEDIA_TYPES and not has_disposition:
        headers.append((b"content-disposition", b"attachment"))
    return headers


async def _no_content(send: Send, allowed: list[str]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [(b"allow", ", ".join(allowed).encode()), NOSNIFF],
        }
    )
    await send({"type": "http.response.body", "body": b""})
