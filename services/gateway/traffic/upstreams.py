"""The services behind the gateway: per service, the aiohttp client the proxy uses
(`upstream_http`), an httpx client for the gateway's own occasional calls (OpenAPI
documents), and one circuit breaker."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from services.gateway.domain.circuit_breaker import CircuitBreaker
from services.gateway.settings import GatewaySettings
from services.gateway.traffic.upstream_http import Timeouts, UpstreamClient

KEEPALIVE_EXPIRY_S = 30.0
# The proxy's connections are dropped after 4 s idle, before uvicorn's default keep-alive
# timeout (5 s) closes them from the other end: reusing a connection just as the service
# closes it fails the request, and a POST without Idempotency-Key cannot be retried. Under
# load connections are idle for microseconds, so this costs nothing there.
PROXY_IDLE_EXPIRY_S = 4.0


@dataclass
class Upstream:
    name: str
    base_url: str
    client: httpx.AsyncClient
    breaker: CircuitBreaker
    http: UpstreamClient


class UpstreamPool:
    def __init__(self, settings: GatewaySettings) -> None:
        timeout = httpx.Timeout(
            connect=settings.upstream_connect_timeout_s,
            read=settings.upstream_read_timeout_s,
            write=settings.upstream_read_timeout_s,
            pool=settings.upstream_pool_timeout_s,
        )
        limits = httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_keepalive,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        )
        self.upstreams = {
            name: Upstream(
                name=name,
                base_url=url,
                # No environment proxies and no redirects: the gateway talks straight to
                # its services and hands redirects back to the caller untouched.
                client=httpx.AsyncClient(
                    base_url=url,
                    timeout=timeout,
                    limits=limits,
                    trust_env=False,
                    follow_redirects=False,
                ),
                breaker=CircuitBreaker(
                    failure_threshold=settings.breaker_failure_threshold,
                    reset_timeout_s=settings.breaker_reset_timeout_s,
                ),
                http=UpstreamClient(
                    url,
                    timeouts=Timeouts(
                        connect_s=settings.upstream_connect_timeout_s,
                        read_s=settings.upstream_read_timeout_s,
                        pool_s=settings.upstream_pool_timeout_s,
                    ),
                    max_connections=settings.upstream_max_connections,
                    idle_expiry_s=PROXY_IDLE_EXPIRY_S,
                ),
            )
            for name, url in settings.upstreams.items()
        }

    def get(self, name: str) -> Upstream | None:
        return self.upstreams.get(name)

    async def close(self) -> None:
        for upstream in self.upstreams.values():
            await upstream.http.aclose()
            await upstream.client.aclose()
