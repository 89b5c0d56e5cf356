"""Settings of the gateway service (environment prefix PROXIMA_)."""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from pydantic import Field, field_validator

from shared.settings import DEFAULT_SECRET, Environment, ServiceSettings

LENIENT_ENVIRONMENTS = (Environment.development, Environment.test)


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_gateway"

    # --- upstreams ------------------------------------------------------------------------
    # Base URL of each service the gateway routes /api/{service}/... to.
    ledger_url: str = "http://127.0.0.1:8001"
    funding_url: str = "http://127.0.0.1:8002"
    diagnostics_url: str = "http://127.0.0.1:8003"

    upstream_connect_timeout_s: float = Field(
        default=2.0, description="Seconds to open a connection to a service."
    )
    upstream_read_timeout_s: float = Field(
        default=30.0, description="Seconds to wait for a service's answer (then 504)."
    )
    upstream_pool_timeout_s: float = Field(
        default=5.0, description="Seconds to wait for a free pooled connection."
    )
    upstream_max_connections: int = Field(
        default=200, ge=1, description="Connections per service, at most."
    )
    upstream_retries: int = Field(
        default=2,
        ge=0,
        le=5,
        description="Extra attempts for idempotent requests "
        "(GET/HEAD/PUT/DELETE/OPTIONS, POST+Idempotency-Key).",
    )
    upstream_retry_backoff_s: float = Field(
        default=0.05, description="Pause before a retry (doubles each attempt)."
    )

    breaker_failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive failures that open a service's breaker."
    )
    breaker_reset_timeout_s: float = Field(
        default=10.0, description="Seconds an open breaker waits before one trial request."
    )

    openapi_cache_ttl_s: float = Field(
        default=60.0, description="Seconds the merged OpenAPI is cached."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (then 413)."
    )

    # --- rate limits (token bucket, shared between live replicas) -------------------------
    # Per client (and, for anonymous calls, per address): refill rate and bucket size; 429 +
    # Retry-After when the bucket is empty.
    rate_limit_per_minute: int = Field(default=1200, ge=1)
    rate_limit_burst: int = Field(default=200, ge=1)
    anonymous_rate_limit_per_minute: int = Field(default=120, ge=1)
    anonymous_rate_limit_burst: int = Field(default=30, ge=1)
    replica_heartbeat_s: float = Field(
        default=5.0,
        gt=0,
        description="How often each gateway replica announces itself; every replica enforces "
        "its share (limit / live replicas) of each rate limit.",
    )

    # --- identity ---------------------------------------------------------------------------
    # Directory of PEM private keys: the newest signs, all are published. Generated on first
    # start if empty. Used by `make run` and tests.
    signing_keys_dir: str = ""
    # Alternatively one PEM file holding one or more private keys (a Kubernetes Secret, the
    # compose `jwtkeys` volume): the FIRST key signs, the others are only published, so an
    # operator pre-publishes the next key, waits for caches, then moves it first.
    jwt_private_keys_file: str = ""

    bootstrap_admin_secret: str = Field(
        default=DEFAULT_SECRET,
        description="Secret of the bootstrap admin client, applied once: when the gateway "
        "creates that client on its first start (later changes here are ignored; rotate it "
        "through the API); refused at its default or under 16 characters outside development.",
    )
    token_ttl_s: int = Field(
        default=900, ge=30, le=86_400, description="Lifetime of issued access tokens."
    )
    secret_grace_period_s: int = Field(
        default=86_400, ge=0, description="How long a rotated-out client secret still works."
    )
    client_policy_refresh_s: float = Field(
        default=5.0, description="How often revocations and client changes are reloaded."
    )

    # argon2id cost (RFC 9106 low-memory profile by default); tests lower it for speed.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65_536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    argon2_max_concurrent: int = Field(
        default=4,
        ge=1,
        description="Secret hashes (argon2id) running at once, at most: the token endpoint's "
        "memory is bounded by this times PROXIMA_ARGON2_MEMORY_KIB.",
    )
    argon2_max_waiting: int = Field(
        default=64,
        ge=0,
        description="Requests that may wait for a hashing slot; beyond, 503 with Retry-After.",
    )
    argon2_max_wait_s: float = Field(
        default=2.0,
        gt=0,
        description="Seconds a request waits for a hashing slot before a 503 with Retry-After.",
    )

    # Failed client authentications at /oauth/token, limited per client id (whichever
    # address they come from) and per address (whichever client id they name): refill rate
    # and bucket size of failures; 429 + Retry-After without checking the secret when empty.
    token_failures_per_client_per_minute: int = Field(default=10, ge=1)
    token_failure_burst_per_client: int = Field(default=10, ge=1)
    token_failures_per_address_per_minute: int = Field(default=30, ge=1)
    token_failure_burst_per_address: int = Field(default=30, ge=1)

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDR blocks of the reverse proxies in front of the gateway "
        '(JSON list, e.g. ["10.0.0.0/8"]). Only a request from one of them has its client '
        "address taken from X-Forwarded-For (rate limits, failure limits, logs); from anyone "
        "else the header is ignored and dropped. Empty: the TCP peer is the client.",
    )

    # --- live stream ------------------------------------------------------------------------
    # Live stream: events are kept this long (and at most this many rows) for Last-Event-ID
    # resume; a client's queue holds this many events before the client is dropped; a
    # heartbeat every so many seconds; at most this many events replayed on resume; how often
    # other gateway replicas' events are picked up from the database.
    stream_retention_s: int = Field(default=7 * 86_400, ge=60)
    stream_max_rows: int = Field(default=200_000, ge=100)
    stream_queue_size: int = Field(default=512, ge=1)
    stream_heartbeat_s: float = 15.0
    stream_replay_limit: int = Field(default=10_000, ge=1)
    stream_poll_interval_s: float = 2.0

    stream_max_connections_per_client: int = Field(
        default=5,
        ge=1,
        description="Open live streams per client on each gateway replica; the next one is "
        "refused with 429.",
    )
    stream_auth_recheck_s: float = Field(
        default=2.0,
        gt=0,
        description="How often an open stream checks that its token is still valid (revoked "
        "client, withdrawn key); it also closes when the token expires.",
    )

    production_required: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.production_required,
        "ledger_url",
        "funding_url",
        "diagnostics_url",
    )
    # The gateway verifies its own tokens from its key ring, not through a JWKS URL.
    verifies_tokens_with_jwks: ClassVar[bool] = False

    def production_problems(self) -> list[str]:
        """The shared checks (the bootstrap admin secret is one of them), and a signing key."""
        problems = super().production_problems()
        if not (self.jwt_private_keys_file or self.signing_keys_dir):
            problems.append(
                "PROXIMA_JWT_PRIVATE_KEYS_FILE (or PROXIMA_SIGNING_KEYS_DIR) is not set"
            )
        return problems

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @property
    def upstreams(self) -> dict[str, str]:
        """Service name (the first segment after ``/api/``) to base URL."""
        return {
            "ledger": self.ledger_url.rstrip("/"),
            "funding": self.funding_url.rstrip("/"),
            "diagnostics": self.diagnostics_url.rstrip("/"),
        }
