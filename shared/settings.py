"""Settings every service shares, read from the environment (prefix ``PROXIMA_``).

Each process runs exactly one service, so one prefix is enough: the deployment sets
``PROXIMA_DATABASE_URL`` for the ledger pod to the ledger's database, and so on.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


DEFAULT_SECRET = "change-me"
MIN_SECRET_LENGTH = 16
SECRETS_SOURCE = "docker compose: .env; Kubernetes: the Secrets of the overlay (deploy/k8s)"
"""Where a production start takes its secrets, named in the refusal so an operator knows
where to put the missing one."""


class ServiceSettings(BaseSettings):
    """Base settings; services subclass it to add their own fields."""

    # hide_input_in_errors: a refusal must never echo a secret into the logs.
    model_config = SettingsConfigDict(
        env_prefix="PROXIMA_", extra="ignore", hide_input_in_errors=True
    )

    # development | test | production: outside development and test, default secrets are refused.
    env: Environment = Environment.development

    # Names the service in logs, metrics and event sources.
    service_name: str = "proxima"

    # The service's own database (one database per service, never shared).
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima"

    # `kafka` in production; `embedded` keeps the event log in PostgreSQL (dev, tests).
    event_bus: Literal["embedded", "kafka"] = "embedded"

    # Kafka brokers, and how topics are created when they are missing.
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1

    # How this service connects to Kafka: PLAINTEXT (no authentication), SSL,
    # SASL_PLAINTEXT (the local broker of `make run` and the tests) or SASL_SSL (SCRAM over
    # TLS, for production).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"

    # The SASL mechanism the brokers enable (SCRAM-SHA-512 on the local broker).
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"

    # The service's own Kafka principal and its password (required with SASL): one per
    # service, and the brokers' ACLs (`python -m deploy.kafka_acls`) say what each may do.
    kafka_username: str = ""
    kafka_password: SecretStr = SecretStr("")

    # PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL); empty = the
    # system's trust store.
    kafka_ssl_cafile: str = ""

    # The embedded bus is a log kept in its own database, shared by every service.
    events_database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/proxima_events"
    log_level: str = "INFO"
    log_json: bool = True
    # Where services fetch the gateway's public signing keys; empty = auth disabled only in tests.
    jwks_url: str = ""
    # An inline JWKS document instead of a URL (tests and single-process tools).
    jwks_json: str = ""
    # Seconds a service keeps the gateway's JWKS before fetching it again; key withdrawals
    # and rotations also reach it at once through the gateway's events.
    jwks_ttl_s: float = 60.0

    # Attempts of a failing event handler before the event is dead-lettered, and the base
    # of the exponential back-off between them (seconds).
    consumer_max_attempts: int = 5
    consumer_retry_base_s: float = 0.2

    # How often the outbox relay looks for unsent events when not woken up (seconds).
    relay_poll_interval_s: float = 0.5

    # Networks (CIDR) whose scrapers may read /metrics without a token, by TCP peer address
    # (e.g. the monitoring namespace's pods); otherwise a gateway token with the
    # `metrics:read` scope is required. Empty: token only.
    metrics_allowed_networks: list[str] = []

    # Run the service's event consumers in this process (false for an API-only process).
    run_background_tasks: bool = True

    # Base URL of an OpenTelemetry collector's OTLP/HTTP receiver (e.g.
    # http://otel-collector:4318): spans are exported to <url>/v1/traces. The standard
    # OTEL_EXPORTER_OTLP_ENDPOINT is read too. Empty: tracing off (no exporter, no span).
    otlp_endpoint: str = Field(
        default="",
        validation_alias=AliasChoices(
            "otlp_endpoint", "PROXIMA_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
    )

    # Share of new traces recorded when tracing is on (0 to 1); a request that arrives
    # with a sampled traceparent is always recorded.
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("metrics_allowed_networks")
    @classmethod
    def _metrics_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _kafka_sasl_needs_credentials(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_username and self.kafka_password.get_secret_value()
        ):
            raise ValueError(
                f"PROXIMA_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "PROXIMA_KAFKA_USERNAME and PROXIMA_KAFKA_PASSWORD"
            )
        return self

    # Settings a production start must be given: their defaults point at a developer's
    # machine, and a service connected to the wrong place must not start quietly.
    production_required: ClassVar[tuple[str, ...]] = ("database_url",)
    # Services verify tokens with the gateway's published keys (the gateway, with its own).
    verifies_tokens_with_jwks: ClassVar[bool] = True

    def production_problems(self) -> list[str]:
        """What keeps this configuration from a production start, each problem naming its
        variable: missing settings, and secrets left at their default or too short."""
        problems = [
            f"PROXIMA_{name.upper()} is not set"
            for name in self.production_required
            if name not in self.model_fields_set
        ]
        if self.event_bus == "embedded" and "events_database_url" not in self.model_fields_set:
            problems.append("PROXIMA_EVENTS_DATABASE_URL is not set (PROXIMA_EVENT_BUS=embedded)")
        if self.event_bus == "kafka" and "kafka_bootstrap" not in self.model_fields_set:
            problems.append("PROXIMA_KAFKA_BOOTSTRAP is not set (PROXIMA_EVENT_BUS=kafka)")
        if self.verifies_tokens_with_jwks and not (self.jwks_url or self.jwks_json):
            problems.append("PROXIMA_JWKS_URL is not set: every token would be refused")
        for name, value in self.model_dump().items():
            if not name.endswith("secret") or not isinstance(value, str):
                continue
            if value == DEFAULT_SECRET:
                problems.append(f"PROXIMA_{name.upper()} keeps its default value")
            elif len(value) < MIN_SECRET_LENGTH:
                problems.append(
                    f"PROXIMA_{name.upper()} must have at least {MIN_SECRET_LENGTH} characters"
                )
        return problems

    @model_validator(mode="after")
    def _production_start_needs_its_settings(self) -> ServiceSettings:
        """Refuse a production start with every problem at once, rather than one per
        restart of a crash-looping container."""
        if self.env is Environment.production:
            problems = self.production_problems()
            if problems:
                raise ValueError(
                    f"production start refused ({SECRETS_SOURCE}): " + "; ".join(problems)
                )
        return self

    @property
    def sync_database_url(self) -> str:
        """The same database through psycopg, for Alembic and command-line tools."""
        return self.database_url.replace("+asyncpg", "+psycopg")
