"""``/metrics`` is not public: it names every route, client-visible or not, and its counts
tell an outsider how the platform is used.

A scrape is let in when either
- its TCP peer is in ``PROXIMA_METRICS_ALLOWED_NETWORKS`` (the monitoring namespace's pod
  range, say; never the ingress's addresses, which every outside caller shares); the
  forwarded-for headers are not read: a scraper talks to the pod directly; or
- it presents a bearer token from the gateway carrying the ``metrics:read`` scope (or
  ``admin``): Prometheus obtains one itself with its ``oauth2`` client-credentials
  settings (see docs/operations.md, Deploying).

Anything else is a 401 (no token) or a 403 problem, before any metric is rendered.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from shared.auth import require_scope

METRICS_SCOPE = "metrics:read"
_requirement = require_scope(METRICS_SCOPE)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in allowed)


def peer_allowed(peer: str, allowed: tuple[str, ...]) -> bool:
    """Whether the TCP peer address lies in one of the allowed networks."""
    if not peer or not allowed:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in _networks(allowed))


async def metrics_endpoint(request: Request) -> Response:
    allowed = tuple(request.app.state.settings.metrics_allowed_networks)
    client = request.scope.get("client")
    peer = request.scope.get("state", {}).get("peer") or (client[0] if client else "")
    if not peer_allowed(peer, allowed):
        await _requirement(request)  # 401 without a token, 403 without the scope
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
