"""The whole system as real processes for e2e tests: the four services under uvicorn on
free ports, the session's PostgreSQL, and a real Kafka broker; tokens come from the
gateway's own ``/oauth/token``."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack, running_stack

ADMIN_SECRET = "e2e-admin-secret-not-a-default"


@contextmanager
def e2e_stack(
    *,
    postgres: LocalPostgres,
    kafka: Any | None,
    run_dir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    base = free_port_block()
    stack = Stack(
        postgres=postgres,
        run_dir=run_dir,
        event_bus="kafka" if kafka is not None else "embedded",
        kafka_bootstrap=kafka.bootstrap if kafka is not None else "",
        kafka_client_env=kafka.client_env if kafka is not None else None,
        base_port=base,
        db_prefix=f"e2e{base}",
        extra_env={
            "PROXIMA_ENV": "test",
            "PROXIMA_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET,
            "PROXIMA_RATE_LIMIT_PER_MINUTE": "600000",
            "PROXIMA_RATE_LIMIT_BURST": "100000",
            "PROXIMA_ANONYMOUS_RATE_LIMIT_PER_MINUTE": "600000",
            "PROXIMA_ANONYMOUS_RATE_LIMIT_BURST": "100000",
            "PROXIMA_ARGON2_TIME_COST": "1",
            "PROXIMA_ARGON2_MEMORY_KIB": "8192",
            "PROXIMA_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        },
    )
    with running_stack(stack) as running:
        yield running


def free_port_block() -> int:
    """Four consecutive free ports (gateway, ledger, funding, diagnostics), below Linux's
    ephemeral range (32768+): a port the kernel just handed out as free may be handed out
    again to an outgoing connection before uvicorn binds it."""
    for _ in range(200):
        base = random.randrange(20_000, 32_000)
        ports = [base + i for i in range(4)]
        if all(_is_free(p) for p in ports):
            return base
    raise RuntimeError("no block of 4 free ports")


def _is_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def admin_token(gateway_url: str) -> str:
    response = httpx.post(
        f"{gateway_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "admin",
            "client_secret": ADMIN_SECRET,
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def role_token(
    gateway_url: str,
    admin: str,
    *,
    client_id: str,
    role: str,
    scopes: list[str],
    tenants: dict[str, list[str]] | None = None,
) -> str:
    """Register a client through the gateway's admin API and return a token it obtained."""
    created = httpx.post(
        f"{gateway_url}/admin/clients",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "client_id": client_id,
            "name": client_id,
            "role": role,
            "scopes": scopes,
            "tenants": tenants or {},
        },
        timeout=30,
    )
    created.raise_for_status()
    response = httpx.post(
        f"{gateway_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": created.json()["client_secret"],
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])
