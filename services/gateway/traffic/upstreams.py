"""The services behind the gateway: one pooled HTTP client and one circuit breaker each."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from services.gateway.domain.circuit_breaker import CircuitBreaker
from services.gateway.settings import GatewaySettings


@dataclass
class Upstream:
    name: str
    base_url: str
    client: httpx.AsyncClient
    breaker: CircuitBreaker


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
            keepalive_expiry=30.0,
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
            )
            for name, url in settings.upstreams.items()
        }

    def get(self, name: str) -> Upstream | None:
        return self.upstreams.get(name)

    async def close(self) -> None:
        for upstream in self.upstreams.values():
            await upstream.client.aclose()
