"""Apply a service's Alembic migrations: ``python -m shared.migrate <service> [revision]``.

Used by ``make run``, the tests, the docker-compose migration jobs and the Kubernetes
migration Jobs, so every environment migrates the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("revision", nargs="?", default="head")
    parser.add_argument("--database-url", default=None, help="defaults to PROXIMA_DATABASE_URL")
    args = parser.parse_args()
    upgrade(args.service, args.database_url or ServiceSettings().database_url, args.revision)


if __name__ == "__main__":
    main()
