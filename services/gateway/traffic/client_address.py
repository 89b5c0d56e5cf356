"""Who is calling: the TCP peer, or, only when the peer is one of our own reverse proxies,
the address that proxy says it received the request from.

``X-Forwarded-For`` is a claim anyone can make. Trusting it from everyone would let a
caller pick a fresh address per request and walk past every per-address limit (anonymous
rate limit, token failures). So: if the peer is in ``trusted_proxies``, the header is read
right to left, skipping addresses that are themselves trusted proxies, and the first other
one is the client; otherwise the header is ignored and removed, with ``Forwarded`` and
``X-Real-IP``, so nothing downstream (logs, the proxy that forwards to services) repeats
what the caller claimed.

The server must not rewrite the address itself: uvicorn's own proxy-header handling trusts
127.0.0.1 by default, so the gateway runs with ``--no-proxy-headers`` (see
`deploy.local.stack`, the Dockerfile, compose and Kubernetes manifests) and this
middleware is the only place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SPOOFABLE = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


class ClientAddressMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: Iterable[str]) -> None:
        self.app = app
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(item, strict=False) for item in trusted_proxies
        )

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        peer_host = peer[0] if peer else ""
        scope.setdefault("state", {})["peer"] = peer_host
        if peer_host and self.is_trusted(peer_host):
            client = self.client_behind(peer_host, _forwarded_for(scope))
            if client != peer_host:
                scope["client"] = (client, 0)
        else:
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k not in SPOOFABLE]
        await self.app(scope, receive, send)

    def client_behind(self, peer: str, chain: list[str]) -> str:
        """The rightmost address in ``chain`` that is not a trusted proxy (each trusted hop
        vouches for the one before it); the peer itself if the chain is empty or garbled."""
        for entry in reversed(chain):
            try:
                ipaddress.ip_address(entry)
            except ValueError:
                return peer  # not an address: nobody we trust wrote this
            if not self.is_trusted(entry):
                return entry
        return chain[0] if chain else peer


def _forwarded_for(scope: Scope) -> list[str]:
    entries: list[str] = []
    for key, value in scope["headers"]:
        if key == b"x-forwarded-for":
            entries += [e.strip() for e in value.decode("latin-1").split(",") if e.strip()]
    return entries
