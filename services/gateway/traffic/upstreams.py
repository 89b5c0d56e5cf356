"""The services behind the gateway: per service, the aiohttp client the proxy (and the
merged OpenAPI) use (`upstream_http`), and one circuit breaker."""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.settings import GatewaySettings
from services.gateway.traffic.rules import CircuitBreaker
from services.gateway.traffic.upstream_http import Timeouts, UpstreamClient

# The proxy's connections are dropped after 4 s idle, before uvicorn's default keep-alive
# timeout (5 s) closes them from the other end: reusing a connection just as the service
# closes it fails the request, and a POST without Idempotency-Key cannot be retried. Under
# load connections are idle for microseconds, so this costs nothing there.
PROXY_IDLE_EXPIRY_S = 4.0


@dataclass
class Upstream:
    name: str
    breaker: CircuitBreaker
    http: UpstreamClient


class UpstreamPool:
    def __init__(self, settings: GatewaySettings) -> None:
        self.upstreams = {
            name: Upstream(
                name=name,
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
