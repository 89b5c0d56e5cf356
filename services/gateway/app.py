"""The gateway: the single entry point of Proxima.

It authenticates clients (OAuth2 client credentials, argon2id-hashed secrets) and issues
short-lived signed JWTs that every service verifies again; it routes ``/api/<service>``
to the services with retries, circuit breakers, size and rate limits; it serves one merged
OpenAPI; and it streams the regional aggregates live to the dashboard it also serves.
"""

from __future__ import annotations

import asyncio

import structlog
from fastapi import FastAPI
from starlette.middleware import Middleware

from services.gateway.clients import service as clients_service
from services.gateway.clients.hashing import SecretHasher
from services.gateway.clients.policy import ClientPolicy
from services.gateway.clients.router import router as clients_router
from services.gateway.dashboard.router import STATIC_PREFIX, static_files
from services.gateway.dashboard.router import router as dashboard_router
from services.gateway.settings import GatewaySettings
from services.gateway.stream import service as stream_service
from services.gateway.stream.consumer import stream_subscription
from services.gateway.stream.hub import StreamHub
from services.gateway.stream.router import router as stream_router
from services.gateway.tokens import service as tokens_service
from services.gateway.tokens.failures import AuthFailureLimiter
from services.gateway.tokens.keys import key_ring_for
from services.gateway.tokens.router import admin_router as signing_keys_router
from services.gateway.tokens.router import router as token_router
from services.gateway.tokens.verifier import GatewayTokenVerifier
from services.gateway.traffic.client_address import ClientAddressMiddleware
from services.gateway.traffic.middleware import (
    BodySizeLimitMiddleware,
    BodyTooLarge,
    RateLimitMiddleware,
    on_body_too_large,
)
from services.gateway.traffic.openapi import MergedOpenAPI, docs_endpoint, openapi_endpoint
from services.gateway.traffic.proxy import PROXY_PATH, KnownServiceRoute, proxy
from services.gateway.traffic.replicas import ReplicaCensus
from services.gateway.traffic.rules import RateLimiter
from services.gateway.traffic.upstreams import UpstreamPool
from shared.background import background_task
from shared.db import plain_dsn
from shared.service_app import build_service_app

log = structlog.get_logger(__name__)

PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
FASTAPI_DOC_PATHS = {"/openapi.json", "/docs"}


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    ring = key_ring_for(settings)
    ring.load()
    policy = ClientPolicy(token_ttl_s=settings.token_ttl_s)
    hub = StreamHub(
        queue_size=settings.stream_queue_size,
        max_per_client=settings.stream_max_connections_per_client,
    )
    pool = UpstreamPool(settings)
    census = ReplicaCensus(every_s=settings.replica_heartbeat_s)
    tasks: list[asyncio.Task[None]] = []

    async def run_census(app: FastAPI, stop: asyncio.Event) -> None:
        await census.run(app.state.session_factory, stop)

    # Always on: the limits divide by the live replica count. The loop stops on its event
    # rather than by cancellation (see shared.background).
    start_census, stop_census = background_task("replica-census", run_census, enabled=True)

    async def start(app: FastAPI) -> None:
        factory = app.state.session_factory
        async with factory() as session, session.begin():
            outcome = await clients_service.ensure_bootstrap_admin(
                session, app.state.secret_hasher, settings.bootstrap_admin_secret
            )
        log.info("bootstrap_admin", outcome=outcome)
        await policy.refresh(factory)
        await census.beat(factory)
        log.info("gateway_replicas", replicas=census.count, replica=census.replica_id)
        tasks.extend(
            [
                asyncio.create_task(
                    policy.run(factory, every_s=settings.client_policy_refresh_s),
                    name="client-policy",
                ),
                asyncio.create_task(
                    hub.run(
                        plain_dsn(settings.database_url),
                        poll_interval_s=settings.stream_poll_interval_s,
                    ),
                    name="stream-hub",
                ),
                asyncio.create_task(
                    stream_service.prune_forever(factory, settings), name="stream-retention"
                ),
                asyncio.create_task(
                    tokens_service.follow_key_changes(factory, ring), name="key-ring"
                ),
            ]
        )

    async def stop(app: FastAPI) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        tasks.clear()
        await pool.close()
        try:
            await census.leave(app.state.session_factory)
        except Exception as exc:
            log.warning("gateway_leave_failed", error=repr(exc))

    app = build_service_app(
        settings,
        title="Proxima gateway",
        description="Tokens, clients, routing and the live regional dashboard.",
        routers=[
            token_router,
            signing_keys_router,
            clients_router,
            dashboard_router,
            stream_router,
        ],
        subscriptions=[stream_subscription()],
        # The census loop starts after `start`'s first beat and stops before `stop` leaves.
        on_startup=[start, start_census],
        on_shutdown=[stop_census, stop],
        # The registry and the key ring are here: the gateway learns of changes from its
        # own database (`ClientPolicy.run`) and key source (`tokens.service.follow_key_changes`).
        follow_token_events=False,
    )
    # No slash redirects: `/api/<unknown>` must be a problem+json 404, not a 307 that
    # reveals routing and that API clients rarely follow for POSTs.
    app.router.redirect_slashes = False
    app.state.key_ring = ring
    app.state.client_policy = policy
    app.state.secret_hasher = SecretHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        max_concurrent=settings.argon2_max_concurrent,
        max_waiting=settings.argon2_max_waiting,
        max_wait_s=settings.argon2_max_wait_s,
    )
    app.state.auth_failures = AuthFailureLimiter(
        per_client=lambda: (
            census.share(settings.token_failures_per_client_per_minute),
            census.share(settings.token_failure_burst_per_client),
        ),
        per_address=lambda: (
            census.share(settings.token_failures_per_address_per_minute),
            census.share(settings.token_failure_burst_per_address),
        ),
    )
    app.state.token_verifier = GatewayTokenVerifier(ring, policy)
    app.state.stream_hub = hub
    app.state.upstreams = pool
    app.state.merged_openapi = MergedOpenAPI(app, pool, ttl_s=settings.openapi_cache_ttl_s)
    app.state.replica_census = census
    _install_traffic(app, settings, policy, census)
    return app


def _install_traffic(
    app: FastAPI, settings: GatewaySettings, policy: ClientPolicy, census: ReplicaCensus
) -> None:
    # FastAPI's own /openapi.json and /docs describe only the gateway: replace them.
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) not in FASTAPI_DOC_PATHS
    ]
    app.add_route("/openapi.json", openapi_endpoint, include_in_schema=False)
    app.add_route("/docs", docs_endpoint, include_in_schema=False)
    # Known services first: the most frequent requests then skip matching against every
    # gateway route; any other /api/<name>/… still reaches the proxy last (a 404 problem).
    app.router.routes.insert(
        0, KnownServiceRoute(PROXY_PATH, proxy, methods=PROXY_METHODS, services=settings.upstreams)
    )
    app.add_route(PROXY_PATH, proxy, methods=PROXY_METHODS, include_in_schema=False)
    app.mount(STATIC_PREFIX, static_files(), name="dashboard-static")
    app.add_exception_handler(BodyTooLarge, on_body_too_large)

    def client_limit(client_id: str) -> tuple[int, int]:
        per_minute = policy.rate_limit_of(client_id) or settings.rate_limit_per_minute
        burst = max(settings.rate_limit_burst, per_minute // 6)
        return census.share(per_minute), census.share(burst)

    def anonymous_limit() -> tuple[int, int]:
        return (
            census.share(settings.anonymous_rate_limit_per_minute),
            census.share(settings.anonymous_rate_limit_burst),
        )

    # Appended, not added: they run inside the request-id middleware, so their 413 and 429
    # answers carry X-Request-ID and are counted in the metrics like any other response.
    app.user_middleware.extend(
        [
            # First: every limit below keys anonymous callers by the address it decides.
            Middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies),
            Middleware(
                RateLimitMiddleware,
                limiter=RateLimiter(),
                identify=lambda token: app.state.token_verifier.verify(token),
                client_limit=client_limit,
                anonymous_limit=anonymous_limit,
            ),
            Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
        ]
    )
