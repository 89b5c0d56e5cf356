"""Apply a service's Alembic migrations: ``python -m shared.migrate <service> [revision]``.

Used by ``make run``, the tests, the docker-compose migration jobs and the Kubernetes
migration Jobs, so every environment migrates the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

from shared.settings import ServiceSettings

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
SERVICES = ("ledger", "funding", "diagnostics", "gateway")


def alembic_config(service: str, database_url: str) -> Config:
    if service not in SERVICES:
        raise SystemExit(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(slug)s")
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def wait_for_database(database_url: str, timeout_s: float) -> None:
    """Wait until the database accepts a connection, for up to ``timeout_s``: a migration
    job may start before its server does (compose without health checks, a Job scheduled
    beside a restarting database), and should then wait, not fail."""
    url = database_url.replace("postgresql+asyncpg://", "postgresql://").replace(
        "postgresql+psycopg://", "postgresql://"
    )
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            asyncio.run(_connect_once(url))
            return
        except (TimeoutError, OSError, asyncpg.CannotConnectNowError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(1.0)


async def _connect_once(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=3)
    await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("revision", nargs="?", default="head")
    parser.add_argument("--database-url", default=None, help="defaults to PROXIMA_DATABASE_URL")
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for the database to accept connections (default 60)",
    )
    args = parser.parse_args()
    # Only the database URL: a migration job needs none of the service's other settings,
    # so the production checks of ServiceSettings (secrets, broker, JWKS) do not apply.
    default = ServiceSettings.model_fields["database_url"].default
    url = args.database_url or os.environ.get("PROXIMA_DATABASE_URL", default)
    wait_for_database(url, args.wait)
    upgrade(args.service, url, args.revision)


if __name__ == "__main__":
    main()
