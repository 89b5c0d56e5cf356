"""Settings every service shares, read from the environment (prefix ``PROXIMA_``).

Each process runs exactly one service, so one prefix is enough: the deployment sets
``PROXIMA_DATABASE_URL`` for the ledger pod to the ledger's database, and so on.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


DEFAULT_SECRET = "change-me"


class ServiceSettings(BaseSettings):
    """Base settings; services subclass it to add their own fields."""

    model_config = SettingsConfigDict(env_prefix="PROXIMA_", extra="ignore")

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

    @model_validator(mode="after")
    def _refuse_default_secrets_outside_development(self) -> ServiceSettings:
        if self.env is Environment.production:
            for name, value in self.model_dump().items():
                if name.endswith("secret") and value == DEFAULT_SECRET:
                    raise ValueError(
                        f"PROXIMA_{name.upper()} keeps its default value in production"
                    )
        return self

    @property
    def sync_database_url(self) -> str:
        """The same database through psycopg, for Alembic and command-line tools."""
        return self.database_url.replace("+asyncpg", "+psycopg")
